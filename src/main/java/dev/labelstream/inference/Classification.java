package dev.labelstream.inference;

/**
 * The model's verdict on one {@link TextInput}.
 *
 * @param scores one score per label in the bundle's label order: softmax probabilities (single-label) or
 *     independent sigmoids (multi-label); for windowed long texts, the windows' scores aggregated
 * @param top index of the highest score
 * @param truncated the input was longer than max length and was cut or split into windows
 * @param tokens tokens fed to the model for this input (all windows, no padding)
 * @param unknownTokens of those, how many were the vocabulary's unknown token
 * @param windows how many windows the input was split into (1 unless long-text handling is WINDOWS)
 * @param embedding the pooled embedding the head read, for head-less bundles; null when the graph has its own
 *     head
 * @param provider the execution provider that ran the model (CUDA or CPU)
 */
public record Classification(
        float[] scores,
        int top,
        boolean truncated,
        int tokens,
        int unknownTokens,
        int windows,
        float[] embedding,
        String provider) {

    public float topScore() {
        return scores[top];
    }

    /** Index of the highest of {@code scores} (the first on a tie): the top label. */
    public static int topOf(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }
}
