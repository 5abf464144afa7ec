package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.TextEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of input gets its documented outcome: accepted, or rejected with the right kind. */
class TextEventDecoderTest {

    static SourceRecord record(byte[] key, byte[] value) {
        return new SourceRecord("in", 0, 7, 1_700_000_000_000L, key, value, List.of());
    }

    static byte[] avro(TextEvent e) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(TextEvent.class).write(e, enc);
        enc.flush();
        return out.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Arguments accept(String name, InputFormat f, byte[] value, String id, String text) {
        return Arguments.of(name, f, null, value, null, id, text);
    }

    static Arguments reject(String name, InputFormat f, byte[] value, ErrorKind kind) {
        return Arguments.of(name, f, null, value, kind, null, null);
    }

    static List<Arguments> cases() throws Exception {
        TextEvent good = TextEvent.newBuilder().setId("a-1").setText("hello there").setTextPair("pair")
                .setAttributes(Map.of("k", "v")).setEventTime(Instant.ofEpochMilli(5)).build();
        byte[] goodAvro = avro(good);
        Schema other = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[{\"name\":\"n\",\"type\":\"long\"}]}");
        GenericRecord o = new GenericData.Record(other);
        o.put("n", 123456789L);
        ByteArrayOutputStream otherBytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(otherBytes, null);
        new GenericDatumWriter<GenericRecord>(other).write(o, enc);
        enc.flush();
        byte[] badUtf8InAvro = avro(TextEvent.newBuilder().setId("u").setText("x").build());
        // Replace the one-byte text "x" with an invalid byte, keeping the length prefix.
        badUtf8InAvro[badUtf8InAvro.length - 4] = (byte) 0xC3;
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF};
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        return List.of(
                accept("avro", InputFormat.AVRO, goodAvro, "a-1", "hello there"),
                reject("avro truncated", InputFormat.AVRO, Arrays.copyOf(goodAvro, goodAvro.length - 5), ErrorKind.BAD_AVRO),
                reject("avro garbage", InputFormat.AVRO, utf8("{\"id\":\"x\"}"), ErrorKind.BAD_AVRO),
                reject("avro other schema", InputFormat.AVRO, otherBytes.toByteArray(), ErrorKind.BAD_AVRO),
                reject("avro trailing bytes", InputFormat.AVRO, concat(goodAvro, new byte[] {1, 2, 3}), ErrorKind.BAD_AVRO),
                reject("avro invalid utf-8", InputFormat.AVRO, badUtf8InAvro, ErrorKind.INVALID_UTF8),
                accept("json", InputFormat.JSON, utf8("{\"id\":\"j\",\"text\":\"hi\",\"extra\":1}"), "j", "hi"),
                accept("json numeric id", InputFormat.JSON, utf8("{\"id\":42,\"text\":\"hi\"}"), "42", "hi"),
                accept("json NUL and controls kept", InputFormat.JSON, utf8("{\"id\":\"n\",\"text\":\"a\\u0000b\\u0007c\"}"),
                        "n", "a\u0000b\u0007c"),
                accept("json rtl override and zero-width", InputFormat.JSON,
                        utf8("{\"id\":\"r\",\"text\":\"\u202Eevil\u200Btext\"}"), "r", "\u202Eevil\u200Btext"),
                accept("json emoji only", InputFormat.JSON, utf8("{\"id\":\"e\",\"text\":\"\uD83D\uDE00\uD83D\uDD25\"}"), "e",
                        "\uD83D\uDE00\uD83D\uDD25"),
                reject("json not json", InputFormat.JSON, utf8("nope"), ErrorKind.BAD_JSON),
                reject("json array", InputFormat.JSON, utf8("[1,2]"), ErrorKind.BAD_JSON),
                reject("json no id", InputFormat.JSON, utf8("{\"text\":\"t\"}"), ErrorKind.MISSING_FIELD),
                reject("json null text", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":null}"), ErrorKind.MISSING_FIELD),
                reject("json text number", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":1}"), ErrorKind.WRONG_TYPE),
                reject("json id object", InputFormat.JSON, utf8("{\"id\":{},\"text\":\"t\"}"), ErrorKind.WRONG_TYPE),
                reject("json pair with no first text", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":\"\",\"text_pair\":\"b\"}"),
                        ErrorKind.EMPTY_TEXT),
                reject("json blank", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":\" \\n\\t\"}"), ErrorKind.EMPTY_TEXT),
                reject("json invalid utf-8", InputFormat.JSON, concat(utf8("{\"id\":\"x\",\"text\":\""),
                        new byte[] {(byte) 0xFF}, utf8("\"}")), ErrorKind.INVALID_UTF8),
                reject("json overlong utf-8", InputFormat.JSON, concat(utf8("{\"id\":\"x\",\"text\":\"a"), overlong,
                        utf8("\"}")), ErrorKind.INVALID_UTF8),
                reject("json encoded surrogate", InputFormat.JSON, concat(utf8("{\"id\":\"x\",\"text\":\"a"), surrogate,
                        utf8("\"}")), ErrorKind.INVALID_UTF8),
                reject("json duplicate key", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":\"a\",\"text\":\"b\"}"),
                        ErrorKind.BAD_JSON),
                reject("json two objects", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":\"a\"}{\"id\":\"y\"}"),
                        ErrorKind.BAD_JSON),
                accept("json byte-order mark", InputFormat.JSON, concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                        utf8("{\"id\":\"b\",\"text\":\"hi\"}")), "b", "hi"),
                reject("json event time string", InputFormat.JSON, utf8("{\"id\":\"x\",\"text\":\"t\",\"event_time\":\"now\"}"),
                        ErrorKind.WRONG_TYPE),
                accept("raw", InputFormat.RAW, utf8("plain text"), "in-0@7", "plain text"),
                reject("raw overlong utf-8", InputFormat.RAW, overlong, ErrorKind.INVALID_UTF8),
                reject("raw encoded surrogate", InputFormat.RAW, surrogate, ErrorKind.INVALID_UTF8),
                reject("raw tombstone", InputFormat.RAW, null, ErrorKind.NULL_VALUE),
                reject("raw too large", InputFormat.RAW, new byte[1024 * 1024 + 1], ErrorKind.TOO_LARGE));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decodes(String name, InputFormat format, byte[] key, byte[] value, ErrorKind kind, String id, String text) {
        TextEventDecoder.Result r = new TextEventDecoder(format, 1024 * 1024).decode(record(key, value));
        if (kind == null) {
            assertThat(r).isInstanceOf(TextEventDecoder.Accepted.class);
            InputEvent e = ((TextEventDecoder.Accepted) r).event();
            assertThat(e.id()).isEqualTo(id);
            assertThat(e.text()).isEqualTo(text);
        } else {
            assertThat(r).isInstanceOf(TextEventDecoder.Rejected.class);
            TextEventDecoder.Rejected rej = (TextEventDecoder.Rejected) r;
            assertThat(rej.kind()).isEqualTo(kind);
            assertThat(rej.message()).isNotBlank();
        }
    }
}
