/**
 * The DataStream job: its topology ({@code LabelstreamJob}), its own options ({@code JobOptions}) and the async
 * classify stage (threading, retries, deadlines, failure policy and metrics around the classification core).
 *
 * <p>Guarantees: records in = records out + dead letters; a slow model is backpressure, never dead letters; no
 * classifier failure fails the job; batches in flight are in Flink's checkpoints.
 *
 * <p>Imports: the core packages; never {@code config}, {@code cli}, {@code bench} or {@code demo}.
 */
package dev.labelstream.job;
