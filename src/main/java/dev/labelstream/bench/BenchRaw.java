package dev.labelstream.bench;

import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.TextInput;
import java.util.ArrayList;
import java.util.List;

/**
 * The raw engine: {@link BatchClassifier} alone on texts already in memory, called with consecutive chunks of
 * {@code batchSize} texts from one thread (or a few, as the job's async threads do). One pass gives two figures: texts per second end to end
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
        return run(classifier, texts, batchSize, 1, sink);
    }

    /**
     * Classifies {@code texts} in chunks of {@code batchSize} from {@code threads} caller threads at once (the job
     * runs {@code async.threads} batches at once); {@code sink} receives every result in input order (may be
     * null). With several threads, the model-only time is the sum of the calls' inference time divided by the
     * threads.
     */
    static Run run(BatchClassifier classifier, List<String> texts, int batchSize, int threads,
            List<Classification> sink) {
        if (batchSize < 1 || threads < 1) {
            throw new IllegalArgumentException("batch size and threads must be >= 1, got " + batchSize + " and "
                    + threads);
        }
        List<TextInput> inputs = new ArrayList<>(texts.size());
        for (String t : texts) {
            inputs.add(TextInput.of(t));
        }
        int chunks = (inputs.size() + batchSize - 1) / batchSize;
        ClassifiedBatch[] results = new ClassifiedBatch[chunks];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable worker = () -> {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                int start = c * batchSize;
                results[c] = classifier.classify(inputs.subList(start, Math.min(inputs.size(), start + batchSize)));
            }
        };
        long t0 = System.nanoTime();
        if (threads == 1) {
            worker.run();
        } else {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<?>> running = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    running.add(pool.submit(worker));
                }
                for (java.util.concurrent.Future<?> f : running) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("the raw engine failed: " + e.getCause(), e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
        long wall = System.nanoTime() - t0;
        long inference = 0;
        long tokenize = 0;
        long real = 0;
        long padded = 0;
        int calls = 0;
        for (ClassifiedBatch b : results) {
            inference += b.inferenceNanos();
            tokenize += b.tokenizeNanos();
            real += b.realTokens();
            padded += b.paddedTokens();
            calls += b.modelCalls();
            if (sink != null) {
                sink.addAll(b.results());
            }
        }
        return new Run(batchSize, inputs.size(), wall, inference / threads, tokenize / threads, real, padded, calls);
    }
}
