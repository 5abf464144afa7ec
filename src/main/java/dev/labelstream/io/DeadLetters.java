package dev.labelstream.io;

import dev.labelstream.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds dead-letter records: the input's original key, value bytes and headers, its source position, and the
 * reason, as a {@link DeadLetter} (schemas/DeadLetter.avsc, always Avro binary: output.format does not apply). The reason is also a header
 * ({@value #ERROR_KIND_HEADER}) so consumers can route without decoding.
 *
 * <p>Size: a dead letter is its input record plus at most {@value #ENVELOPE_BYTES} bytes (the input id and the
 * message are shortened to fit), so it can always be written where its input could be read. The one exception
 * is a TOO_LARGE record over {@value #MAX_ORIGINAL_BYTES} bytes: its key, value and headers are not copied
 * (they would not fit in a Kafka message of the default size, and the sink would fail on it forever); its
 * topic, partition and offset say where to find it.
 */
public final class DeadLetters {
    public static final String ERROR_KIND_HEADER = "labelstream.error-kind";
    /** Largest TOO_LARGE record whose original bytes a dead letter still carries: 960 KiB. */
    public static final int MAX_ORIGINAL_BYTES = 960 * 1024;
    /** Most bytes a dead letter adds to its input record (ids, message, position, Avro framing, header). */
    public static final int ENVELOPE_BYTES = 64 * 1024;
    static final int MAX_INPUT_ID_CHARS = 1024;
    static final int MAX_MESSAGE_CHARS = 4096;
    static final int MAX_KEPT_KEY_BYTES = 1024;

    static {
        AvroClasses.trust();
    }

    private DeadLetters() {}

    public static OutboundRecord of(SourceRecord r, ErrorKind kind, String message, String inputId) {
        boolean copy = kind != ErrorKind.TOO_LARGE || recordBytes(r) <= MAX_ORIGINAL_BYTES;
        byte[] key = copy || (r.key() != null && r.key().length <= MAX_KEPT_KEY_BYTES) ? r.key() : null;
        if (!copy) {
            message = message + "; original key, value and headers not copied (" + recordBytes(r)
                    + " bytes): read them from " + r.position();
        }
        DeadLetter d = DeadLetter.newBuilder()
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key))
                .setOriginalValue(r.value() == null || !copy ? null : ByteBuffer.wrap(r.value()))
                .setSourceTopic(r.topic())
                .setSourcePartition(r.partition())
                .setSourceOffset(r.offset())
                .setInputId(shorten(inputId, MAX_INPUT_ID_CHARS))
                .setErrorKind(kind.name())
                .setErrorMessage(shorten(message, MAX_MESSAGE_CHARS))
                .setFailedTime(Instant.now())
                .build();
        List<KafkaHeader> headers = new ArrayList<>(copy ? r.headers() : List.of());
        headers.add(new KafkaHeader(ERROR_KIND_HEADER, kind.name().getBytes(StandardCharsets.UTF_8)));
        return new OutboundRecord(OutboundRecord.Destination.DEAD_LETTER, key, encode(d), headers,
                r.timestamp());
    }

    /** Size of a record as input.max-bytes counts it: key, value, and header keys and values. */
    public static long recordBytes(SourceRecord r) {
        long n = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        for (KafkaHeader h : r.headers()) {
            n += h.key().getBytes(StandardCharsets.UTF_8).length + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    /** {@code s} cut to {@code max} characters (marked), or as it is; null stays null. */
    static String shorten(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max) + "...(" + (s.length() - max) + " more characters)";
    }

    /**
     * Always Avro binary, whatever output.format says: a dead letter carries the input's original key and value
     * bytes, which must come back byte for byte for a replay (JSON could only hold them as base64).
     */
    static byte[] encode(DeadLetter d) {
        return AvroBinary.write(d, 64 + (d.getOriginalValue() == null ? 0 : d.getOriginalValue().remaining()));
    }

    /** Reads a dead letter back (tests, tools that replay dead letters). */
    public static DeadLetter decode(byte[] value) {
        return AvroBinary.read(value, DeadLetter.class);
    }
}
