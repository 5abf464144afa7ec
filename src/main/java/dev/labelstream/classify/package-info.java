/**
 * The classification core shared by every entry point (the DataStream job's async stage, the {@code classify}
 * command, the SQL model provider, the bench): a model bundle, its classifier and the moderation policy in
 * force, turning texts into {@link dev.labelstream.classify.Decision}s that carry everything a statement of
 * reasons needs.
 *
 * <p>Public API: {@link dev.labelstream.classify.Classifier} (open for a configuration, classify a list of
 * requests with a deadline, close), {@link dev.labelstream.classify.Decision}, {@link
 * dev.labelstream.classify.Decisions} and {@link dev.labelstream.classify.Decider} (the policy a call is decided
 * under: the classifier's own thresholds, or a live policy document implemented above the core).
 *
 * <p>Imports: {@code inference}, {@code moderation} and the generated Avro enums only. Never an entry point
 * ({@code job}, {@code cli}, {@code bench}, {@code demo}, {@code config}, {@code sql}) and never {@code io}: the
 * Kafka side encodes decisions ({@code io.ClassifiedEvents}), not the other way round.
 */
package dev.labelstream.classify;
