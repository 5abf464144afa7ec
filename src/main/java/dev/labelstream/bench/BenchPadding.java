package dev.labelstream.bench;

/**
 * Padding efficiency (real tokens / padded tokens) of two ways to batch the same sequence lengths, computed from
 * token counts alone:
 *
 * <ul>
 *   <li>naive: fixed batches of N in arrival order, each padded to its longest sequence (what a batching
 *       layer without length awareness does);
 *   <li>token budget: what labelstream does with a micro-batch of N records in arrival order: sort by length,
 *       split into sub-batches whose padded size (rows x padded length) stays under the token budget and the
 *       max sub-batch rows, and pad each sub-batch to its longest length rounded up to the bucket multiple
 *       (the same rule as {@code BatchClassifier}).
 * </ul>
 */
final class BenchPadding {
    private BenchPadding() {}

    /** Token totals of one way of batching. */
    record Efficiency(long realTokens, long paddedTokens, int modelCalls) {
        double value() {
            return paddedTokens == 0 ? Double.NaN : (double) realTokens / paddedTokens;
        }
    }

    /** The batching settings of the token-budget path: the classifier's own plan. */
    record Budget(int tokenBudget, int maxSubBatch, int padMultiple, int maxLength, double minEfficiency) {
        Budget(int tokenBudget, int maxSubBatch, int padMultiple, int maxLength) {
            this(tokenBudget, maxSubBatch, padMultiple, maxLength, 0);
        }

        dev.labelstream.inference.SubBatchPlan plan() {
            return new dev.labelstream.inference.SubBatchPlan(tokenBudget, maxSubBatch, padMultiple, maxLength,
                    minEfficiency);
        }
    }

    /** Batches of {@code batchSize} in arrival order, each padded to its longest sequence. */
    static Efficiency naive(int[] lengths, int batchSize) {
        requirePositive(batchSize);
        long real = 0;
        long padded = 0;
        int calls = 0;
        for (int start = 0; start < lengths.length; start += batchSize) {
            int end = Math.min(lengths.length, start + batchSize);
            int longest = 0;
            for (int i = start; i < end; i++) {
                real += lengths[i];
                longest = Math.max(longest, lengths[i]);
            }
            padded += (long) (end - start) * longest;
            calls++;
        }
        return new Efficiency(real, padded, calls);
    }

    /** Micro-batches of {@code batchSize} in arrival order, each sorted, split under the budget and bucketed. */
    static Efficiency tokenBudget(int[] lengths, int batchSize, Budget budget) {
        return split(lengths, batchSize, budget, false);
    }

    /**
     * As {@link #tokenBudget}, but a sub-batch also ends where the padded length changes, so every model call
     * holds one length bucket: the most the sorted split can reach with these buckets, at the cost of more calls.
     */
    static Efficiency byBucket(int[] lengths, int batchSize, Budget budget) {
        return split(lengths, batchSize, budget, true);
    }

    private static Efficiency split(int[] lengths, int batchSize, Budget budget, boolean oneBucketPerCall) {
        requirePositive(batchSize);
        long real = 0;
        long padded = 0;
        int calls = 0;
        for (int start = 0; start < lengths.length; start += batchSize) {
            int[] batch = java.util.Arrays.copyOfRange(lengths, start, Math.min(lengths.length, start + batchSize));
            java.util.Arrays.sort(batch);
            dev.labelstream.inference.SubBatchPlan plan = budget.plan();
            int s = 0;
            while (s < batch.length) {
                int e = s + 1;
                if (!oneBucketPerCall) {
                    e = plan.end(batch, s);
                } else {
                    while (e < batch.length && e - s < budget.maxSubBatch()
                            && (long) (e - s + 1) * paddedLength(batch[e], budget) <= budget.tokenBudget()
                            && paddedLength(batch[e], budget) == paddedLength(batch[s], budget)) {
                        e++;
                    }
                }
                for (int i = s; i < e; i++) {
                    real += batch[i];
                }
                padded += (long) (e - s) * paddedLength(batch[e - 1], budget);
                calls++;
                s = e;
            }
        }
        return new Efficiency(real, padded, calls);
    }

    /** A sequence's padded length, by the classifier's rule. */
    static int paddedLength(int length, Budget budget) {
        return budget.plan().paddedLength(length);
    }

    private static void requirePositive(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
    }
}
