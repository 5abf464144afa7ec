package dev.labelstream.metrics;

import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * Names and constructors of labelstream's metrics, in one place so that operators, the Grafana dashboard and
 * the tests agree. Every metric lives in the {@value #GROUP} group of its operator; Flink's Prometheus reporter
 * exports it as {@code flink_taskmanager_job_task_operator_labelstream_<name>}.
 */
public final class Metrics {
    public static final String GROUP = "labelstream";
    /** Records per micro-batch: the DataStream job's batcher and the SQL provider's async function report it. */
    public static final String BATCH_SIZE = "batchSize";
    /** Histograms keep the last this many values: enough for stable percentiles, bounded memory. */
    static final int HISTOGRAM_WINDOW = 1024;

    private Metrics() {}

    /** The labelstream group of an operator's metric group. */
    public static MetricGroup group(MetricGroup operator) {
        return operator.addGroup(GROUP);
    }

    public static Histogram histogram(MetricGroup group, String name) {
        return group.histogram(name, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }
}
