package dev.labelstream.batching;

import dev.labelstream.metrics.Metrics;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;

/**
 * The per-batch metrics of {@link MicroBatcher}, registered in its operator's labelstream group. Names and the
 * histogram window are {@link Metrics}'; updated from the task thread only, read by the reporter thread.
 */
final class BatcherMetrics {
    /** All flushed batches. */
    private final Counter batchesFlushed;
    /** Flushed batches by reason; their sum is {@link #batchesFlushed}. */
    private final Map<FlushReason, Counter> flushesByReason = new EnumMap<>(FlushReason.class);
    /** Records per batch. */
    private final Histogram batchSize;
    /** Estimated tokens per batch. */
    private final Histogram batchEstimatedTokens;
    /** Processing time from the first record of a batch to its flush, in milliseconds. */
    private final Histogram batchQueueTimeMs;

    BatcherMetrics(MetricGroup group, IntSupplier bufferedRecords) {
        batchesFlushed = Metrics.counter(group, Metrics.BATCHES_FLUSHED);
        for (FlushReason reason : FlushReason.values()) {
            flushesByReason.put(reason, Metrics.counter(group, reason.metricName));
        }
        batchSize = Metrics.histogram(group, Metrics.BATCH_SIZE);
        batchEstimatedTokens = Metrics.histogram(group, Metrics.BATCH_ESTIMATED_TOKENS);
        batchQueueTimeMs = Metrics.histogram(group, Metrics.BATCH_QUEUE_TIME_MS);
        // Read by the reporter thread without synchronization: the value may lag by a moment.
        group.gauge(Metrics.BUFFERED_RECORDS, (Gauge<Integer>) bufferedRecords::getAsInt);
    }

    void onFlush(FlushReason reason, int records, long estimatedTokens, long queueTimeMs) {
        batchesFlushed.inc();
        flushesByReason.get(reason).inc();
        batchSize.update(records);
        batchEstimatedTokens.update(estimatedTokens);
        batchQueueTimeMs.update(queueTimeMs);
    }
}
