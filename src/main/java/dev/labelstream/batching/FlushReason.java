package dev.labelstream.batching;

import dev.labelstream.metrics.Metrics;

/** Why {@link MicroBatcher} flushed a batch; each reason has its own counter (named in {@link Metrics}). */
enum FlushReason {
    /** The batch reached {@code maxRecords}. */
    SIZE(Metrics.FLUSHES_ON_SIZE),
    /** The batch reached {@code maxTokens}, or the next record would have pushed it past. */
    TOKENS(Metrics.FLUSHES_ON_TOKENS),
    /** The first record of the batch has waited {@code linger}. */
    LINGER(Metrics.FLUSHES_ON_LINGER),
    /** A checkpoint barrier is about to pass the operator. */
    BARRIER(Metrics.FLUSHES_ON_BARRIER),
    /** A watermark is about to pass the operator. */
    WATERMARK(Metrics.FLUSHES_ON_WATERMARK),
    /** The input ended (or the job stops with drain). */
    END_OF_INPUT(Metrics.FLUSHES_ON_END_OF_INPUT),
    /** A control input (a new policy) changes what decides the records after it. */
    CONTROL(Metrics.FLUSHES_ON_CONTROL);

    /** Name of the counter of flushes for this reason, in the operator's metric group. */
    final String metricName;

    FlushReason(String metricName) {
        this.metricName = metricName;
    }
}
