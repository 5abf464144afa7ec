package dev.labelstream.shadow;

import dev.labelstream.io.InputEvent;
import java.util.List;

/**
 * A record the primary classified and the shadow is to score, with what the comparison needs of the primary's
 * decision (its id, labels, scores and action): the shadow stage never sees the primary's outcome otherwise.
 *
 * @param input the decoded record, as the primary classified it
 * @param primaryDecisionId the primary decision's id, which the shadow's event names
 * @param primaryModel the primary model's key (name@version)
 * @param primaryLabels the primary model's labels, in score order
 * @param primaryScores one score per primary label
 * @param primaryAction the primary's action (ALLOW, REVIEW, BLOCK)
 * @param policy the live policy document that decided the primary (its stored JSON), so the shadow decides under
 *     the same one and the action matrix shows the model's change alone; null when the bundle's (or configured)
 *     thresholds decided
 */
public record ShadowInput(InputEvent input, String primaryDecisionId, String primaryModel,
        List<String> primaryLabels, float[] primaryScores, String primaryAction, String policy) {}
