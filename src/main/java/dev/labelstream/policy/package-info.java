/**
 * The moderation policy as live, versioned data: the policy document (thresholds per label, overrides per tenant
 * and per input topic, an optional failure policy), its validation against a model, the decision with its
 * statement of reasons, and the policy in force in a running job.
 *
 * <p>Owns: {@code PolicyDocument} (parse with JSON-path messages, fit to labels, decide: tenant override, then
 * topic override, then the default rule), {@code PolicyDecision}, {@code PolicyRejectedException}, {@code
 * PolicyBatcher} (the micro-batcher with the policy topic as a broadcast input, emitting {@code PolicyBatch}es and
 * {@code PolicyEvent}s), {@code PolicyTopic} (pre-flight, newest valid version, broadcast source), {@code PolicyDecider} (a
 * document as the classification core's {@code classify.Decider}) and {@code PolicyOptions}. The JSON format is {@code schemas/policy.schema.json}, documented in {@code docs/policy.md}.
 *
 * <p>Guarantees: a batch is decided under one policy, the one in force when its records were batched; per
 * subtask the version in force never decreases; the policy in force is in checkpointed broadcast state (a restart
 * or rescale resumes with it); a document that does not parse, does not fit the model, names another id or is not
 * newer is rejected with its reason (logged, counted, emitted as an event) and the previous policy stays: nothing a
 * policy record holds fails the job. With default rules alone a decision is exactly {@code
 * moderation.ModerationPolicy}'s (action and reason), so the bundle's thresholds are the built-in policy.
 *
 * <p>Imports: core packages only ({@code classify}, {@code moderation}, {@code batching}, {@code io}, {@code
 * metrics}, the Avro types), Flink, Kafka clients and Jackson; never {@code job}, {@code config}, {@code cli}, {@code bench} or
 * {@code demo}. Failure policies are named by string ({@code job.JobOptions.FailurePolicy}'s constant names).
 */
package dev.labelstream.policy;
