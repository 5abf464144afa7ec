package dev.labelstream.classify;

import dev.labelstream.inference.ClassifiedBatch;
import java.util.List;

/**
 * The decisions of one {@link Classifier#classify} call, in input order, and what the call cost (for metrics).
 *
 * @param decisions one per request, in request order
 * @param batch the model's batch result: model calls, real and padded tokens, tokenize and inference time
 */
public record Decisions(List<Decision> decisions, ClassifiedBatch batch) {
    public Decisions {
        decisions = List.copyOf(decisions);
    }

    /** Time spent in the model, in milliseconds. */
    public float inferenceMillis() {
        return batch.inferenceNanos() / 1e6f;
    }
}
