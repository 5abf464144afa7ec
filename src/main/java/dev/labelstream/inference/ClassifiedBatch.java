package dev.labelstream.inference;

import java.util.List;

/**
 * The result of one {@link BatchClassifier#classify} call and what it cost.
 *
 * @param results one classification per input, in input order
 * @param modelCalls sub-batches the batch was split into under the token budget
 * @param realTokens tokens of the inputs
 * @param paddedTokens tokens the model computed, padding included ({@code realTokens / paddedTokens} is the
 *     padding efficiency)
 * @param tokenizeNanos time spent tokenizing
 * @param inferenceNanos time spent in the model (ONNX Runtime run calls)
 * @param provider execution provider that ran the model
 */
public record ClassifiedBatch(
        List<Classification> results,
        int modelCalls,
        long realTokens,
        long paddedTokens,
        long tokenizeNanos,
        long inferenceNanos,
        String provider) {

    public double paddingEfficiency() {
        return paddedTokens == 0 ? 1.0 : (double) realTokens / paddedTokens;
    }
}
