package dev.labelstream.io;

import java.util.List;

/**
 * A record for one of the job's output topics. All outputs go through one transactional Kafka sink, so a
 * classified event and a dead letter from the same checkpoint commit together.
 *
 * @param destination which topic
 * @param key key bytes (the input's key, kept), or null
 * @param value the serialized value
 * @param headers headers (the input's, kept, plus labelstream's)
 * @param timestamp record timestamp (ms)
 */
public record OutboundRecord(Destination destination, byte[] key, byte[] value, List<KafkaHeader> headers,
        long timestamp) {

    /** The output topics. */
    public enum Destination {
        CLASSIFIED,
        DEAD_LETTER,
        DRIFT,
        /** A shadow model's decision (kafka.shadow-topic). */
        SHADOW
    }
}
