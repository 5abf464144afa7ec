package dev.labelstream.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.labelstream.avro.TextEvent;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Decodes and validates input record values. Never throws: every record becomes either an {@link InputEvent}
 * or a rejection with an {@link ErrorKind} and a message that says what is wrong (without quoting the text,
 * which may be personal data). Not thread-safe (reuses its Avro decoder); one per task.
 */
final class TextEventDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Outcome of decoding one record. */
    sealed interface Result permits Accepted, Rejected {}

    record Accepted(InputEvent event) implements Result {}

    record Rejected(ErrorKind kind, String message, String inputId) implements Result {}

    static {
        AvroClasses.trust();
    }

    private final InputFormat format;
    private final int maxBytes;
    private transient ObjectMapper json;
    private transient SpecificDatumReader<TextEvent> avro;
    private transient BinaryDecoder decoder;

    TextEventDecoder(InputFormat format, int maxBytes) {
        this.format = format;
        this.maxBytes = maxBytes;
    }

    Result decode(SourceRecord r) {
        byte[] v = r.value();
        if (v == null) {
            return new Rejected(ErrorKind.NULL_VALUE, "record has no value (tombstone)", null);
        }
        long size = DeadLetters.recordBytes(r);
        if (size > maxBytes) {
            return new Rejected(ErrorKind.TOO_LARGE, "record is " + size + " bytes (key " + length(r.key())
                    + ", value " + v.length + ", headers " + (size - length(r.key()) - v.length)
                    + "), over input.max-bytes=" + maxBytes, null);
        }
        return switch (format) {
            case AVRO -> decodeAvro(r, v);
            case JSON -> decodeJson(r, v);
            case RAW -> decodeRaw(r, v);
        };
    }

    private Result decodeAvro(SourceRecord r, byte[] v) {
        if (avro == null) {
            avro = new SpecificDatumReader<>(TextEvent.class);
        }
        TextEvent e;
        try {
            decoder = DecoderFactory.get().binaryDecoder(v, decoder);
            e = avro.read(null, decoder);
            if (!decoder.isEnd()) {
                return new Rejected(ErrorKind.BAD_AVRO, "value has " + decoder.inputStream().available()
                        + " bytes after a TextEvent: written with another schema?", null);
            }
        } catch (IOException | RuntimeException ex) {
            return new Rejected(ErrorKind.BAD_AVRO, "not a TextEvent in Avro binary: " + ex, null);
        }
        // Avro decodes strings leniently (bad bytes become U+FFFD): re-check the bytes the text came from.
        if (hasReplacementChar(e.getText()) || hasReplacementChar(e.getTextPair())) {
            if (!containsEncodedReplacementChar(v)) {
                return new Rejected(ErrorKind.INVALID_UTF8, "text is not valid UTF-8", e.getId());
            }
        }
        return validate(r, e.getId(), e.getText(), e.getTextPair(), e.getAttributes(),
                e.getEventTime() == null ? null : e.getEventTime().toEpochMilli());
    }

    private Result decodeJson(SourceRecord r, byte[] v) {
        if (json == null) {
            // One JSON object per value: a second object or trailing text would be dropped silently, and a key
            // given twice would let the classifier see one text while a first-wins consumer shows another.
            json = JsonMapper.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .build();
        }
        String s;
        try {
            // Jackson's own UTF-8 reader accepts overlong forms, encoded surrogates and code points over
            // U+10FFFF, and guesses UTF-16/32: decode strictly first (RFC 8259: JSON exchanged is UTF-8).
            s = strictUtf8(v);
        } catch (CharacterCodingException ex) {
            return new Rejected(ErrorKind.INVALID_UTF8, "value is not valid UTF-8 (malformed, overlong, surrogate"
                    + " or out-of-range bytes)", null);
        }
        if (!s.isEmpty() && s.charAt(0) == '\uFEFF') {
            s = s.substring(1); // a byte-order mark may be ignored (RFC 8259, 8.1)
        }
        JsonNode n;
        try {
            n = json.readTree(s);
        } catch (JsonProcessingException ex) {
            return new Rejected(ErrorKind.BAD_JSON, "not JSON: " + ex.getOriginalMessage(), null);
        } catch (IOException ex) {
            return new Rejected(ErrorKind.BAD_JSON, "not JSON: " + ex.getMessage(), null);
        }
        if (n == null || !n.isObject()) {
            return new Rejected(ErrorKind.BAD_JSON, "value must be a JSON object with \"id\" and \"text\"", null);
        }
        JsonNode id = n.get("id");
        if (id == null || id.isNull()) {
            return new Rejected(ErrorKind.MISSING_FIELD, "field \"id\" is missing", null);
        }
        if (!id.isTextual() && !id.isIntegralNumber()) {
            return new Rejected(ErrorKind.WRONG_TYPE, "field \"id\" must be a string or an integer, got "
                    + id.getNodeType(), null);
        }
        String idText = id.asText();
        JsonNode text = n.get("text");
        if (text == null || text.isNull()) {
            return new Rejected(ErrorKind.MISSING_FIELD, "field \"text\" is missing", idText);
        }
        if (!text.isTextual()) {
            return new Rejected(ErrorKind.WRONG_TYPE, "field \"text\" must be a string, got " + text.getNodeType(),
                    idText);
        }
        JsonNode pair = n.get("text_pair");
        if (pair != null && !pair.isNull() && !pair.isTextual()) {
            return new Rejected(ErrorKind.WRONG_TYPE, "field \"text_pair\" must be a string or null, got "
                    + pair.getNodeType(), idText);
        }
        Map<String, String> attributes = null;
        JsonNode attrs = n.get("attributes");
        if (attrs != null && !attrs.isNull()) {
            if (!attrs.isObject()) {
                return new Rejected(ErrorKind.WRONG_TYPE, "field \"attributes\" must be an object of strings",
                        idText);
            }
            attributes = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> a = it.next();
                if (!a.getValue().isValueNode()) {
                    return new Rejected(ErrorKind.WRONG_TYPE, "attribute \"" + a.getKey() + "\" must be a string",
                            idText);
                }
                attributes.put(a.getKey(), a.getValue().asText());
            }
        }
        JsonNode time = n.get("event_time");
        if (time != null && !time.isNull() && !time.isIntegralNumber()) {
            return new Rejected(ErrorKind.WRONG_TYPE, "field \"event_time\" must be epoch milliseconds, got "
                    + time.getNodeType(), idText);
        }
        return validate(r, idText, text.asText(), pair == null || pair.isNull() ? null : pair.asText(), attributes,
                time == null || time.isNull() ? null : time.asLong());
    }

    private Result decodeRaw(SourceRecord r, byte[] v) {
        String text;
        try {
            text = strictUtf8(v);
        } catch (CharacterCodingException ex) {
            return new Rejected(ErrorKind.INVALID_UTF8, "value is not valid UTF-8", null);
        }
        String id = null;
        if (r.key() != null && r.key().length > 0) {
            try {
                id = strictUtf8(r.key());
            } catch (CharacterCodingException ex) {
                id = null;
            }
        }
        return validate(r, id != null ? id : r.position(), text, null, null, null);
    }

    private static Result validate(SourceRecord r, String id, String text, String pair, Map<String, String> attrs,
            Long eventTime) {
        if (id == null || id.isEmpty()) {
            return new Rejected(ErrorKind.MISSING_FIELD, "field \"id\" is empty", null);
        }
        if (text.isBlank()) {
            return new Rejected(ErrorKind.EMPTY_TEXT, pair != null && !pair.isBlank()
                    ? "the first text of a pair is empty" : "text is empty or only whitespace", id);
        }
        return new Accepted(new InputEvent(r, id, text, pair, attrs, eventTime));
    }

    static String strictUtf8(byte[] b) throws CharacterCodingException {
        if (isAscii(b)) {
            // Every ASCII byte string is valid UTF-8 and decodes the same either way; new String copies it once,
            // where the decoder below fills a UTF-16 buffer and compresses it again (most inputs take this path).
            return new String(b, StandardCharsets.US_ASCII);
        }
        // The JDK's decoder rejects overlong forms and encoded surrogates, unlike new String(b, UTF_8).
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b))
                .toString();
    }

    private static boolean isAscii(byte[] b) {
        for (byte x : b) {
            if (x < 0) {
                return false;
            }
        }
        return true;
    }

    private static int length(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static boolean hasReplacementChar(String s) {
        return s != null && s.indexOf('\uFFFD') >= 0;
    }

    private static boolean containsEncodedReplacementChar(byte[] v) {
        for (int i = 0; i + 2 < v.length; i++) {
            if (v[i] == (byte) 0xEF && v[i + 1] == (byte) 0xBF && v[i + 2] == (byte) 0xBD) {
                return true;
            }
        }
        return false;
    }
}
