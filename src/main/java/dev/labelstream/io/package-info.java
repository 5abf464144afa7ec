/**
 * Kafka input and output: the source and the one transactional sink, decoding and validating {@code TextEvent}s
 * (Avro, JSON, raw UTF-8), encoding outputs in {@code output.format}, dead letters with the original bytes, and
 * the pre-flight check of the topics and the broker.
 *
 * <p>Guarantees: every input either decodes or becomes a dead letter with its original key, value and source
 * position; nothing is dropped. The types Flink keeps in state ({@code InputEvent}, {@code SourceRecord}) keep
 * their names and fields so savepoints restore across versions.
 *
 * <p>Imports: the generated Avro types and {@code metrics}.
 */
package dev.labelstream.io;
