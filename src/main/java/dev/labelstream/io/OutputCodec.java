package dev.labelstream.io;

import org.apache.avro.specific.SpecificRecord;

/**
 * The one place that maps {@link KafkaOptions#OUTPUT_FORMAT} to an encoder: {@link AvroBinary} for AVRO, {@link
 * AvroJson} (plain JSON) for JSON. Every record labelstream writes goes through it, except dead letters, which are
 * always Avro binary (they carry the input's original bytes, which JSON could only hold as base64).
 */
final class OutputCodec {
    private OutputCodec() {}

    static byte[] encode(SpecificRecord record, KafkaOptions.OutputFormat format) {
        return format == KafkaOptions.OutputFormat.JSON ? AvroJson.write(record) : AvroBinary.write(record, 512);
    }

    static <T extends SpecificRecord> T decode(byte[] value, Class<T> type, KafkaOptions.OutputFormat format) {
        return format == KafkaOptions.OutputFormat.JSON ? AvroJson.read(value, type) : AvroBinary.read(value, type);
    }
}
