package dev.labelstream.moderation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scores at which one label's prediction sends a record to review or blocks it. A label without
 * thresholds never moderates (it is informational, e.g. "ham").
 *
 * @param review score at or above which the action is at least REVIEW
 * @param block score at or above which the action is BLOCK; must be {@code >= review}
 */
public record Thresholds(double review, double block) {

    public Thresholds {
        if (!(review >= 0 && review <= 1) || !(block >= 0 && block <= 1.0000001)) {
            throw new IllegalArgumentException("thresholds must be scores in [0, 1], got review=" + review
                    + " block=" + block);
        }
        if (block < review) {
            throw new IllegalArgumentException("block threshold " + block + " is below the review threshold "
                    + review + ": a score that blocks must also reach review");
        }
    }

    /** Thresholds that never trigger. */
    public static final Thresholds NEVER = new Thresholds(1.0, 1.0000001);

    /**
     * Parses {@code {"spam": {"review": 0.5, "block": 0.9}, ...}} for a model with {@code labels}. A label may set
     * only "review" (never blocks) or only "block" (review at the same score).
     *
     * @throws IllegalArgumentException naming the label and the problem
     */
    public static Map<String, Thresholds> parse(JsonNode node, List<String> labels) {
        Map<String, Thresholds> out = parse(node);
        checkLabels(out, labels);
        return out;
    }

    /**
     * Parses thresholds without a model at hand: every check except that the labels exist.
     *
     * @throws IllegalArgumentException naming the label and the problem
     */
    public static Map<String, Thresholds> parse(JsonNode node) {
        Map<String, Thresholds> out = new LinkedHashMap<>();
        if (node == null || node.isMissingNode() || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("\"thresholds\" must be an object of label -> {review, block}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String label = e.getKey();
            JsonNode t = e.getValue();
            JsonNode review = t.get("review");
            JsonNode block = t.get("block");
            if ((review == null || !review.isNumber()) && (block == null || !block.isNumber())) {
                throw new IllegalArgumentException("thresholds for \"" + label + "\" need a numeric \"review\""
                        + " and/or \"block\" score");
            }
            double b = block != null && block.isNumber() ? block.asDouble() : NEVER.block();
            double r = review != null && review.isNumber() ? review.asDouble() : b;
            try {
                out.put(label, new Thresholds(r, b));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("thresholds for \"" + label + "\": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    /** @throws IllegalArgumentException when {@code thresholds} name a label the model does not have */
    public static void checkLabels(Map<String, Thresholds> thresholds, List<String> labels) {
        for (String label : thresholds.keySet()) {
            if (!labels.contains(label)) {
                throw new IllegalArgumentException("thresholds name label \"" + label + "\", which the model does"
                        + " not have; its labels are " + labels);
            }
        }
    }
}
