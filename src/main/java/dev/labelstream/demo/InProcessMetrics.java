package dev.labelstream.demo;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps the live metric objects of a job running in this JVM (a MiniCluster), so
 * the demo and the benchmark can show batch sizes and latencies while the job runs. Configure with {@code
 * metrics.reporter.inprocess.factory.class: dev.labelstream.demo.InProcessMetrics$Factory}.
 */
public final class InProcessMetrics implements MetricReporter {
    /** Live metrics by their identifier (e.g. {@code localhost.taskmanager....labelstream.batchSize}). */
    private static final Map<String, Metric> METRICS = new ConcurrentHashMap<>();

    public static void configure(org.apache.flink.configuration.Configuration conf) {
        conf.setString("metrics.reporter.inprocess.factory.class", Factory.class.getName());
    }

    public static void clear() {
        METRICS.clear();
    }

    /** Sum of all counters whose identifier ends with {@code suffix} (one per subtask). */
 public static long counter(String suffix) {
        long sum = 0;
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && e.getValue() instanceof Counter c) {
                sum += c.getCount();
            }
        }
        return sum;
    }

    /** Sum of numeric gauges whose identifier ends with {@code suffix}. */
    static double gauge(String suffix) {
        double sum = 0;
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && e.getValue() instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                sum += n.doubleValue();
            }
        }
        return sum;
    }

    /** The first histogram whose identifier ends with {@code suffix}, or null. */
    public static Histogram histogram(String suffix) {
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && e.getValue() instanceof Histogram h) {
                return h;
            }
        }
        return null;
    }

    /** Counters by the value of a label (e.g. "reason" or "action"), summed over subtasks and operators. */
    static Map<String, Long> countersByLabel(String label, String name) {
        Map<String, Long> out = new java.util.TreeMap<>();
        String marker = "." + label + ".";
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            String k = e.getKey();
            int i = k.indexOf(marker);
            if (i >= 0 && k.endsWith("." + name) && e.getValue() instanceof Counter c && c.getCount() > 0) {
                String value = k.substring(i + marker.length(), k.length() - name.length() - 1);
                out.merge(value, c.getCount(), Long::sum);
            }
        }
        return out;
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        METRICS.put(group.getMetricIdentifier(name), metric);
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        // Kept: the demo's summary reads them after the job has ended.
    }

    /** Creates the reporter. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new InProcessMetrics();
        }
    }
}
