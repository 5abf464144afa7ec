package dev.labelstream.classify;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.moderation.ModerationPolicy;
import java.util.List;
import java.util.Objects;

/**
 * The moderation policy one {@link Classifier#classify(List, java.time.Duration, Decider)} call is decided under:
 * turns a request's scores into an action and the statement of its reasons. The classifier's own policy (the
 * bundle's thresholds, or {@code moderation.thresholds}) is {@link #of(ModerationPolicy)}; a live policy document
 * is another implementation ({@code policy.PolicyDecider}), so the core never imports the policy package and a
 * batch is decided under the policy it was batched with.
 *
 * <p>Contract: {@link #decide} is pure and thread-safe (the async stage calls it from several threads), and a
 * decider's id and version are what every decision it makes records.
 */
public interface Decider {

    /** The policy id decisions name, or null for the classifier's own thresholds (they have no id). */
    String policyId();

    /** The policy version decisions name. */
    String policyVersion();

    /**
     * The failure policy this policy sets (a {@code classification.failure-policy} constant name: DEAD_LETTER,
     * FAIL_OPEN, FAIL_CLOSED), or null to keep that option's: a policy's own wins over the option.
     */
    String failurePolicy();

    /**
     * The action for one classified request.
     *
     * @param labels the model's labels, in score order
     * @param scores one per label
     * @param request the request (its attributes and topic select overrides)
     */
    Ruling decide(List<String> labels, float[] scores, Classifier.Request request);

    /**
     * An action and its statement of reasons.
     *
     * @param action the strongest action any label reached
     * @param reason in words: the label, its score, the threshold and which rule
     * @param label the label whose rule decided; null when none reached review
     * @param rule where that rule came from: TENANT, TOPIC or DEFAULT (a policy's override or default rule);
     *     null when none reached review
     * @param threshold the threshold crossed; null when none reached review
     */
    record Ruling(ModerationAction action, String reason, String label, String rule, Double threshold) {
        public Ruling {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The rule name of a threshold from the default rules (the only kind a {@link ModerationPolicy} has). */
    String DEFAULT_RULE = "DEFAULT";

    /** Decides with {@code policy}'s thresholds, exactly as {@link ModerationPolicy#decide} does. */
    static Decider of(ModerationPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        return new Decider() {
            @Override
            public String policyId() {
                return null;
            }

            @Override
            public String policyVersion() {
                return policy.version();
            }

            @Override
            public String failurePolicy() {
                return null;
            }

            @Override
            public Ruling decide(List<String> labels, float[] scores, Classifier.Request request) {
                ModerationPolicy.Decision d = policy.decide(scores);
                return new Ruling(d.action(), d.reason(), d.label(), d.label() == null ? null : DEFAULT_RULE,
                        d.threshold());
            }

            @Override
            public String toString() {
                return "thresholds " + policy.version();
            }
        };
    }
}
