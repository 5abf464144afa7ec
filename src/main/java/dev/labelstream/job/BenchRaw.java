package dev.labelstream.job;

import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.TextInput;
import java.util.ArrayList;
import java.util.List;

/**
 * The raw engine: {@link BatchClassifier} alone on texts already in memory, called from one thread with
 * consecutive chunks of {@code batchSize} texts. One pass gives two figures: texts per second end to end
 * (tokenization, padding, model and softmax, by the wall clock) and texts per second of the model calls alone
 * (the sum of {@link ClassifiedBatch#inferenceNanos()}: the pre-tokenized ceiling).
 */
final class BenchRaw {
    private BenchRaw() {}

    /** One pass over the texts at one batch size. */
    record Run(int batchSize, int records, long wallNanos, long inferenceNanos, long tokenizeNanos, long realTokens,
            long paddedTokens, int modelCalls) {

        /** Raw texts, end to end. */
        double textsPerSecond() {
            return wallNanos == 0 ? Double.NaN : records / (wallNanos / 1e9);
        }

        /** Pre-tokenized: model calls only. */
        double modelPerSecond() {
            return inferenceNanos == 0 ? Double.NaN : records / (inferenceNanos / 1e9);
        }

        double paddingEfficiency() {
            return paddedTokens == 0 ? Double.NaN : (double) realTokens / paddedTokens;
        }

        double tokensPerSecond() {
            return wallNanos == 0 ? Double.NaN : realTokens / (wallNanos / 1e9);
        }
    }

    /** Classifies {@code texts} in chunks of {@code batchSize}; {@code sink} receives every result (may be null). */
    static Run run(BatchClassifier classifier, List<String> texts, int batchSize, List<Classification> sink) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        List<TextInput> inputs = new ArrayList<>(texts.size());
        for (String t : texts) {
            inputs.add(TextInput.of(t));
        }
        long inference = 0;
        long tokenize = 0;
        long real = 0;
        long padded = 0;
        int calls = 0;
        long t0 = System.nanoTime();
        for (int start = 0; start < inputs.size(); start += batchSize) {
            ClassifiedBatch b = classifier.classify(inputs.subList(start, Math.min(inputs.size(), start + batchSize)));
            inference += b.inferenceNanos();
            tokenize += b.tokenizeNanos();
            real += b.realTokens();
            padded += b.paddedTokens();
            calls += b.modelCalls();
            if (sink != null) {
                sink.addAll(b.results());
            }
        }
        long wall = System.nanoTime() - t0;
        return new Run(batchSize, inputs.size(), wall, inference, tokenize, real, padded, calls);
    }
}
