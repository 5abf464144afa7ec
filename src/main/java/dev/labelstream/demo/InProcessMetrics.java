package dev.labelstream.demo;

import dev.labelstream.metrics.Metrics;
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
    /** Flink's group variable of the job id. */
    private static final String JOB_ID = "<job_id>";
    /**
     * Live metrics by their {@linkplain #key key}: the identifier (e.g. {@code
     * localhost.taskmanager....labelstream.batchSize}) after the id of the metric's job. Flink's identifier names the
     * job only by its name, so two jobs of the same name in one cluster would otherwise replace each other's
     * metrics; a job restarting after a failover replaces its own (same job id, same identifier).
     */
    private static final Map<String, Metric> METRICS = new ConcurrentHashMap<>();
    /**
     * The same metrics' names and group variables, by the same key. Labelled metrics are found through these: the
     * identifier holds each label value filtered ({@code model.spam-minilm-l6@1_1_0.status}: Flink replaces the
     * delimiter inside a value), the variables hold it as it was given ({@code <model>} = {@code
     * spam-minilm-l6@1.1.0}).
     */
    private static final Map<String, Registered> REGISTERED = new ConcurrentHashMap<>();

    /** A metric's own name (without scope) and its group's variables ({@code <key>} -> value). */
    private record Registered(String name, Map<String, String> variables) {}

    public static void configure(org.apache.flink.configuration.Configuration conf) {
        conf.setString("metrics.reporter.inprocess.factory.class", Factory.class.getName());
    }

    /** The identifier suffix of labelstream metric {@code name} (a {@link Metrics} constant) in any operator. */
    public static String suffix(String name) {
        return "." + Metrics.GROUP + "." + name;
    }

    public static void clear() {
        METRICS.clear();
        REGISTERED.clear();
    }

    /** Sum of all counters whose identifier ends with {@code suffix} (one per subtask, of every job). */
    public static long counter(String suffix) {
        long sum = 0;
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && e.getValue() instanceof Counter c) {
                sum += c.getCount();
            }
        }
        return sum;
    }

    /** {@link #counter(String)} of the job with id {@code jobId} alone (a {@code JobID}'s hex string). */
    public static long counter(String suffix, String jobId) {
        long sum = 0;
        for (Map.Entry<String, Registered> e : REGISTERED.entrySet()) {
            if (e.getKey().endsWith(suffix) && jobId.equals(e.getValue().variables().get(JOB_ID))
                    && METRICS.get(e.getKey()) instanceof Counter c) {
                sum += c.getCount();
            }
        }
        return sum;
    }

    /**
     * Sum of numeric gauges whose identifier ends with {@code suffix}; NaN when none matches (a 0 would read as a
     * real value, e.g. drift status OK).
     */
    static double gauge(String suffix) {
        double sum = Double.NaN;
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && e.getValue() instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                sum = (Double.isNaN(sum) ? 0 : sum) + n.doubleValue();
            }
        }
        return sum;
    }

    /**
     * Sum of the numeric gauges named {@code name} whose groups carry every label of {@code labels} (label key ->
     * value, as given to {@code addGroup(key, value)}); NaN when none matches.
     */
    static double gauge(String name, Map<String, String> labels) {
        double sum = Double.NaN;
        for (Map.Entry<String, Registered> e : REGISTERED.entrySet()) {
            Registered r = e.getValue();
            if (r.name().equals(name) && hasLabels(r.variables(), labels)
                    && METRICS.get(e.getKey()) instanceof Gauge<?> g && g.getValue() instanceof Number n) {
                sum = (Double.isNaN(sum) ? 0 : sum) + n.doubleValue();
            }
        }
        return sum;
    }

    private static boolean hasLabels(Map<String, String> variables, Map<String, String> labels) {
        for (Map.Entry<String, String> l : labels.entrySet()) {
            // Flink keeps a group variable's key as <key>
            if (!l.getValue().equals(variables.get("<" + l.getKey() + ">"))) {
                return false;
            }
        }
        return true;
    }

    /** The first histogram whose identifier ends with {@code suffix}, or null. */
    public static Histogram histogram(String suffix) {
        return histogram(suffix, id -> true);
    }

    /**
     * The first histogram whose identifier ends with {@code suffix} and passes {@code identifier} (e.g. not in a
     * shadow model's operators, which have their own batcher metrics), or null.
     */
    public static Histogram histogram(String suffix, java.util.function.Predicate<String> identifier) {
        for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
            if (e.getKey().endsWith(suffix) && identifier.test(e.getKey()) && e.getValue() instanceof Histogram h) {
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
        Map<String, String> variables = new java.util.HashMap<>(group.getAllVariables());
        String key = key(group.getMetricIdentifier(name), variables.get(JOB_ID));
        METRICS.put(key, metric);
        REGISTERED.put(key, new Registered(name, variables));
    }

    /** The identifier after the job id and a slash, or the identifier alone for a metric of no job. */
    private static String key(String identifier, String jobId) {
        return jobId == null ? identifier : jobId + "/" + identifier;
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
