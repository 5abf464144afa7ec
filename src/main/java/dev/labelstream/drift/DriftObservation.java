package dev.labelstream.drift;

import dev.labelstream.inference.Classification;

/**
 * What the drift monitor needs to know about one input: a compact copy of the model's verdict (no text, no key),
 * or the fact that the input could not be classified. The async classifier emits one per record next to the
 * record itself; the decoder's dead letters are turned into one each too, so the dead-letter rate counts them.
 *
 * @param modelName the model's name (the key of the drift windows, with the version)
 * @param modelVersion the model's version
 * @param deadLetter the input was not classified (dead letter, or unclassified under a fail-open/closed policy);
 *     the fields below are then empty
 * @param scores one score per label, as the classifier returned them
 * @param top index of the top label
 * @param confidence the model's confidence: the top score for single-label models; for multi-label models the
 *     least certain of the per-label decisions, min over labels of max(p, 1 - p)
 * @param tokens tokens fed to the model (all windows, no padding)
 * @param truncated the input was longer than max length
 * @param unknownTokens how many of the tokens were the vocabulary's unknown token
 * @param embedding the pooled embedding (head-less bundles), or null
 * @param eventTime the Kafka record's timestamp (ms): the time of event-time drift windows
 * @param processedAt when the record was classified (ms)
 */
public record DriftObservation(
        String modelName,
        String modelVersion,
        boolean deadLetter,
        float[] scores,
        int top,
        float confidence,
        int tokens,
        boolean truncated,
        int unknownTokens,
        float[] embedding,
        long eventTime,
        long processedAt,
        String modelDir) {

    /** An observation of the configured model (no bundle directory of its own). */
    public DriftObservation(String modelName, String modelVersion, boolean deadLetter, float[] scores, int top,
            float confidence, int tokens, boolean truncated, int unknownTokens, float[] embedding, long eventTime,
            long processedAt) {
        this(modelName, modelVersion, deadLetter, scores, top, confidence, tokens, truncated, unknownTokens,
                embedding, eventTime, processedAt, null);
    }

    /** The observation of a classified input. */
    public static DriftObservation classified(String modelName, String modelVersion, boolean multiLabel,
            Classification c, long eventTime, long processedAt, boolean withEmbedding) {
        return classified(modelName, modelVersion, multiLabel, c, eventTime, processedAt, withEmbedding, null);
    }

    /**
     * The same by a promoted model whose bundle is {@code modelDir}: the drift monitor takes that bundle's
     * reference-profile.json as the reference of its windows.
     */
    public static DriftObservation classified(String modelName, String modelVersion, boolean multiLabel,
            Classification c, long eventTime, long processedAt, boolean withEmbedding, String modelDir) {
        return new DriftObservation(modelName, modelVersion, false, c.scores(), c.top(), confidence(c.scores(), c.top(),
                multiLabel), c.tokens(), c.truncated(), c.unknownTokens(), withEmbedding ? c.embedding() : null,
                eventTime, processedAt, modelDir);
    }

    /** The observation of an input that was not classified. */
    public static DriftObservation unclassified(String modelName, String modelVersion, long eventTime,
            long processedAt) {
        return new DriftObservation(modelName, modelVersion, true, null, -1, 0f, 0, false, 0, null, eventTime,
                processedAt);
    }

    static float confidence(float[] scores, int top, boolean multiLabel) {
        if (!multiLabel) {
            return scores[top];
        }
        float least = 1f;
        for (float p : scores) {
            least = Math.min(least, Math.max(p, 1f - p));
        }
        return least;
    }

    /** The key of the drift windows: one report stream per model version. */
    public String modelKey() {
        return key(modelName, modelVersion);
    }

    static String key(String name, String version) {
        return name + "@" + version;
    }
}
