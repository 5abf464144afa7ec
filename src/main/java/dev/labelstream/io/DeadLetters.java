package dev.labelstream.io;

import dev.labelstream.avro.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Builds dead-letter records: the input's original key, value bytes and headers, its source position, and the
 * reason, as a {@link DeadLetter} (schemas/DeadLetter.avsc, Avro binary). The reason is also a header
 * ({@value #ERROR_KIND_HEADER}) so consumers can route without decoding.
 */
public final class DeadLetters {
    public static final String ERROR_KIND_HEADER = "labelstream.error-kind";

    static {
        AvroClasses.trust();
    }

    private DeadLetters() {}

    public static OutboundRecord of(SourceRecord r, ErrorKind kind, String message, String inputId) {
        DeadLetter d = DeadLetter.newBuilder()
                .setOriginalKey(r.key() == null ? null : ByteBuffer.wrap(r.key()))
                .setOriginalValue(r.value() == null ? null : ByteBuffer.wrap(r.value()))
                .setSourceTopic(r.topic())
                .setSourcePartition(r.partition())
                .setSourceOffset(r.offset())
                .setInputId(inputId)
                .setErrorKind(kind.name())
                .setErrorMessage(message)
                .setFailedTime(Instant.now())
                .build();
        List<KafkaHeader> headers = new ArrayList<>(r.headers());
        headers.add(new KafkaHeader(ERROR_KIND_HEADER, kind.name().getBytes(StandardCharsets.UTF_8)));
        return new OutboundRecord(OutboundRecord.Destination.DEAD_LETTER, r.key(), encode(d), headers,
                r.timestamp());
    }

    static byte[] encode(DeadLetter d) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(
                    64 + (d.getOriginalValue() == null ? 0 : d.getOriginalValue().remaining()));
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<>(DeadLetter.class).write(d, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a dead letter back (tests, tools that replay dead letters). */
    public static DeadLetter decode(byte[] value) {
        try {
            return new org.apache.avro.specific.SpecificDatumReader<>(DeadLetter.class)
                    .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(value, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
