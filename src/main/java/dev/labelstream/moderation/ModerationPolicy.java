package dev.labelstream.moderation;

import dev.labelstream.avro.ModerationAction;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps a classification's scores to the action a moderation team takes: {@code ALLOW}, {@code REVIEW} (a person
 * looks at it) or {@code BLOCK}. Each label may carry {@link Thresholds}; the action is the strongest any label
 * reaches, so for multi-label models one harmful label is enough. Labels without thresholds never moderate.
 *
 * @param labels the model's labels, in score order
 * @param thresholds per label; labels missing here never moderate
 * @param version the policy version recorded in every decision
 */
public record ModerationPolicy(List<String> labels, Map<String, Thresholds> thresholds, String version) {

    public ModerationPolicy {
        labels = List.copyOf(labels);
        thresholds = Map.copyOf(thresholds);
        Objects.requireNonNull(version, "version");
    }

    /**
     * An action and the label and threshold that decided it, for the decision's statement of reasons.
     *
     * @param action the strongest action any label reached
     * @param reason in words: the label, its score and the threshold it reached
     * @param label the label whose threshold decided; null when none was reached (ALLOW)
     * @param threshold the threshold crossed (review or block score); null when none was reached
     */
    public record Decision(ModerationAction action, String reason, String label, Double threshold) {}

    public Decision decide(float[] scores) {
        if (scores.length != labels.size()) {
            throw new IllegalArgumentException("got " + scores.length + " scores for " + labels.size() + " labels");
        }
        ModerationAction action = ModerationAction.ALLOW;
        String reason = "no label reached its review threshold";
        String label = null;
        Double threshold = null;
        for (int i = 0; i < scores.length; i++) {
            Thresholds t = thresholds.get(labels.get(i));
            if (t == null) {
                continue;
            }
            ModerationAction a = scores[i] >= t.block() ? ModerationAction.BLOCK
                    : scores[i] >= t.review() ? ModerationAction.REVIEW : ModerationAction.ALLOW;
            if (a.ordinal() > action.ordinal()) {
                action = a;
                label = labels.get(i);
                threshold = a == ModerationAction.BLOCK ? t.block() : t.review();
                reason = String.format(java.util.Locale.ROOT, "%s %.3f >= %s threshold %.3f", labels.get(i),
                        scores[i], a == ModerationAction.BLOCK ? "block" : "review",
                        a == ModerationAction.BLOCK ? t.block() : t.review());
            }
        }
        return new Decision(action, reason, label, threshold);
    }
}
