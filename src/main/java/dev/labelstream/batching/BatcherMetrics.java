package dev.labelstream.batching;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/** The per-batch metrics of {@link MicroBatcher}, registered in its operator metric group. */
final class BatcherMetrics {
    static final String BATCHES_FLUSHED = "batchesFlushed";
    static final String BATCH_SIZE = dev.labelstream.metrics.Metrics.BATCH_SIZE;
    static final String BATCH_ESTIMATED_TOKENS = "batchEstimatedTokens";
    static final String BATCH_QUEUE_TIME_MS = "batchQueueTimeMs";
    static final String BUFFERED_RECORDS = "bufferedRecords";
    /** Batches each histogram keeps: enough for stable percentiles, small enough to update per batch. */
    static final int HISTOGRAM_WINDOW = 1000;

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
        batchesFlushed = group.counter(BATCHES_FLUSHED);
        for (FlushReason reason : FlushReason.values()) {
            flushesByReason.put(reason, group.counter(reason.metricName));
        }
        batchSize = group.histogram(BATCH_SIZE, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        batchEstimatedTokens =
                group.histogram(BATCH_ESTIMATED_TOKENS, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        batchQueueTimeMs = group.histogram(BATCH_QUEUE_TIME_MS, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        // Read by the reporter thread without synchronization: the value may lag by a moment.
        group.gauge(BUFFERED_RECORDS, (Gauge<Integer>) bufferedRecords::getAsInt);
    }

    void onFlush(FlushReason reason, int records, long estimatedTokens, long queueTimeMs) {
        batchesFlushed.inc();
        flushesByReason.get(reason).inc();
        batchSize.update(records);
        batchEstimatedTokens.update(estimatedTokens);
        batchQueueTimeMs.update(queueTimeMs);
    }
}
