/**
 * The DataStream job: its topology ({@code LabelstreamJob}) and the async classify stage ({@code
 * ClassifyBatchFunction}: threading, deadlines, splitting and retries, the failure policy and metrics around the
 * classification core), with a policy topic the stage over batches that carry their policy and model
 * ({@code PolicyClassifyFunction}, {@code PromotionCheck}), and with a shadow model the shadow's own async stage
 * ({@code ShadowClassifyFunction}). Its options and their one validation pass are in {@code settings}.
 *
 * <p>Guarantees: records in = records out + dead letters; a slow model is backpressure, never dead letters; no
 * classifier failure fails the job; batches in flight are in Flink's checkpoints; the shadow never backpressures
 * the primary nor changes one of its decisions.
 *
 * <p>Imports: {@code settings} and the core packages; never {@code config}, {@code cli}, {@code bench},
 * {@code demo} or {@code sql}.
 */
package dev.labelstream.job;
