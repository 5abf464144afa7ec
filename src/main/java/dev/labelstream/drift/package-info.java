/**
 * The drift monitor: per-record observations, tumbling windows per model version, statistics against the
 * model's reference profile (label PSI and Jensen-Shannon distance, confidence, lengths, truncation and
 * unknown-token rates, embedding centroid and MMD, dead-letter rate), reports and gauges.
 *
 * <p>Guarantees: window state is incremental and bounded (a fixed-size embedding sample); the accumulator types
 * keep their names and fields so savepoints restore.
 *
 * <p>Imports: core packages only ({@code inference}, {@code io}, {@code metrics}, Avro types).
 */
package dev.labelstream.drift;
