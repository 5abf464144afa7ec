package dev.labelstream.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro binary for labelstream's records: the AVRO output format, and dead letters always. No schema id or
 * header is written: the reader must know the writer's schema (the topic's schema, or for reports the kind and
 * version of the envelope).
 */
final class AvroBinary {
    static {
        AvroClasses.trust();
    }

    private AvroBinary() {}

    /** {@code record} in Avro binary; {@code sizeHint} is the expected size in bytes (the buffer grows past it). */
    static byte[] write(SpecificRecord record, int sizeHint) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(sizeHint);
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads bytes written by {@link #write} for a record of {@code type}. */
    static <T extends SpecificRecord> T read(byte[] value, Class<T> type) {
        try {
            return new SpecificDatumReader<>(type).read(null, DecoderFactory.get().binaryDecoder(value, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
