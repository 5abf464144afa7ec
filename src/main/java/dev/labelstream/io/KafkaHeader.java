package dev.labelstream.io;

/** One Kafka record header, kept in order (keys may repeat). */
public record KafkaHeader(String key, byte[] value) {}
