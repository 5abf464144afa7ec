package dev.labelstream.batching;

/** Why {@link MicroBatcher} flushed a batch; each reason has its own counter, named here once. */
enum FlushReason {
    /** The batch reached {@code maxRecords}. */
    SIZE("flushesOnSize"),
    /** The batch reached {@code maxTokens}, or the next record would have pushed it past. */
    TOKENS("flushesOnTokens"),
    /** The first record of the batch has waited {@code linger}. */
    LINGER("flushesOnLinger"),
    /** A checkpoint barrier is about to pass the operator. */
    BARRIER("flushesOnBarrier"),
    /** A watermark is about to pass the operator. */
    WATERMARK("flushesOnWatermark"),
    /** The input ended (or the job stops with drain). */
    END_OF_INPUT("flushesOnEndOfInput"),
    /** A control input (a new policy) changes what decides the records after it. */
    CONTROL("flushesOnControl");

    /** Name of the counter of flushes for this reason, in the operator's metric group. */
    final String metricName;

    FlushReason(String metricName) {
        this.metricName = metricName;
    }
}
