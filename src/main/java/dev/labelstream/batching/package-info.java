/**
 * The micro-batcher: a one-input operator in front of Flink's async operator that groups records into batches.
 *
 * <p>Owns: {@code MicroBatcher} (flushes on max records, estimated tokens, linger as the max age of a batch's
 * first record, before every checkpoint barrier and watermark, and at end of input), its options and metrics.
 *
 * <p>Guarantees: nothing waits in the batcher across a checkpoint (it flushes in {@code
 * prepareSnapshotPreBarrier}, so it needs no state); with object reuse enabled inputs are copied before they
 * are buffered; a linger timer left from a flushed batch never flushes the next one early.
 *
 * <p>Imports: Flink and {@code metrics} only; it knows nothing of models or Kafka.
 */
package dev.labelstream.batching;
