/**
 * The DataStream job: its topology ({@code LabelstreamJob}) and the async classify stage ({@code
 * ClassifyBatchFunction}: threading, deadlines, splitting and retries, the failure policy and metrics around the
 * classification core). Its options and their one validation pass are in {@code settings}.
 *
 * <p>Guarantees: records in = records out + dead letters; a slow model is backpressure, never dead letters; no
 * classifier failure fails the job; batches in flight are in Flink's checkpoints.
 *
 * <p>Imports: {@code settings} and the core packages; never {@code config}, {@code cli}, {@code bench},
 * {@code demo} or {@code sql}.
 */
package dev.labelstream.job;
