package dev.labelstream.classify;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.inference.Classification;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * One automated decision about one input, with what a statement of reasons needs: which model and policy made
 * it, every label's score, the action, the rule that decided it and why. An input the classifier could not
 * classify still gets a decision when the failure policy says so (fail-open or fail-closed): {@link
 * #classified()} is then false, {@link #errorKind()} says why, and there are no scores.
 *
 * @param decisionId stable for the same input key, model version and policy version ({@link #id}), so a replay
 *     carries the same id and consumers can de-duplicate on it
 * @param key the caller's identity of the input (e.g. topic/partition/offset); null when it has none
 * @param labels the model's labels, in score order
 * @param classification the model's output; null when unclassified
 * @param action allow, review or block
 * @param reason in words: the label, its score and the threshold it reached, or why the input is unclassified
 * @param thresholdLabel the label whose threshold decided; null when none was reached
 * @param threshold the threshold crossed; null when none was reached
 * @param modelName the model in force
 * @param modelVersion its version
 * @param policyVersion the policy in force
 * @param provider the execution provider (CUDA or CPU)
 * @param errorKind why the input is unclassified (an {@code ErrorKind} name such as INFERENCE_FAILED); null when
 *     classified
 * @param policyId the id of the policy document that decided; null for the bundle's (or configured) thresholds
 * @param rule which rule of the policy decided: TENANT or TOPIC (an override) or DEFAULT; null when no label
 *     reached a threshold or the input is unclassified
 */
public record Decision(
        String decisionId,
        String key,
        List<String> labels,
        Classification classification,
        ModerationAction action,
        String reason,
        String thresholdLabel,
        Double threshold,
        String modelName,
        String modelVersion,
        String policyVersion,
        String provider,
        String errorKind,
        String policyId,
        String rule) {

    public Decision {
        Objects.requireNonNull(decisionId, "decisionId");
        labels = List.copyOf(labels);
        Objects.requireNonNull(action, "action");
        if ((classification == null) == (errorKind == null)) {
            throw new IllegalArgumentException("a decision has either a classification or an error kind");
        }
    }

    /**
     * A decision by the classifier's own thresholds (no policy id; a reached threshold is a default rule), as
     * decisions were before policies were documents.
     */
    public Decision(String decisionId, String key, List<String> labels, Classification classification,
            ModerationAction action, String reason, String thresholdLabel, Double threshold, String modelName,
            String modelVersion, String policyVersion, String provider, String errorKind) {
        this(decisionId, key, labels, classification, action, reason, thresholdLabel, threshold, modelName,
                modelVersion, policyVersion, provider, errorKind, null,
                thresholdLabel == null || errorKind != null ? null : Decider.DEFAULT_RULE);
    }

    /**
     * The decision id for an input {@code key} decided by a model version and a policy version: a name-based
     * UUID, so the same record decided by the same model and policy always gets the same id; a random one when
     * the input has no key.
     */
    public static String id(String key, String modelName, String modelVersion, String policyVersion) {
        if (key == null) {
            return UUID.randomUUID().toString();
        }
        String name = key + "/" + modelName + "/" + modelVersion + "/" + policyVersion;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** Whether the model classified the input (false: the failure policy decided). */
    public boolean classified() {
        return classification != null;
    }

    /** One score per label; all zero when unclassified. */
    public float[] scores() {
        return classified() ? classification.scores() : new float[labels.size()];
    }

    /** The highest-scoring label; null when unclassified. */
    public String topLabel() {
        return classified() ? labels.get(classification.top()) : null;
    }

    /** The highest score; 0 when unclassified. */
    public float topScore() {
        return classified() ? classification.topScore() : 0f;
    }

    /** The input was longer than max length and was cut or split into windows. */
    public boolean truncated() {
        return classified() && classification.truncated();
    }

    /** Tokens fed to the model for this input; 0 when unclassified. */
    public int tokens() {
        return classified() ? classification.tokens() : 0;
    }
}
