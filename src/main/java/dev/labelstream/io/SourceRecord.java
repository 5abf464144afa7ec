package dev.labelstream.io;

import java.util.List;

/**
 * A Kafka record exactly as it was read, before decoding. Decoding happens after the source, so a record that
 * cannot be decoded still reaches the dead-letter topic with its original bytes and position.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param timestamp the record's Kafka timestamp (ms)
 * @param key the key bytes, or null
 * @param value the value bytes, or null for a tombstone
 * @param headers the record's headers, in order
 */
public record SourceRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
        List<KafkaHeader> headers) {

    /** "topic-partition@offset", for messages; never the content, which may be personal data. */
    public String position() {
        return topic + "-" + partition + "@" + offset;
    }
}
