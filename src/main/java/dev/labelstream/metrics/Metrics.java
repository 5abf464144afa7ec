package dev.labelstream.metrics;

import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * Every labelstream metric name, label and histogram setting, in one place so that the operators, the Grafana
 * dashboard (and its test), the demo and the benchmark agree. Dashboards and alert rules depend on these names:
 * a rename is a breaking change for every deployment.
 *
 * <p>Every metric lives in the {@value #GROUP} group of its operator; Flink's Prometheus reporter exports it as
 * {@value #PROMETHEUS_PREFIX}{@code <name>}, a metric in a labelled subgroup ({@code addGroup(key, value)}) as
 * {@value #PROMETHEUS_PREFIX}{@code <key>_<name>{<key>="<value>"}}. The reporter replaces every character of a
 * label value outside {@code [a-zA-Z0-9:_]} by {@code _}: {@code model="spam-minilm-l6@1.1.0"} is exported as
 * {@code model="spam_minilm_l6_1_1_0"} (see {@link #prometheusLabelValue}).
 *
 * <p>Counters: always through {@link #counter}, which registers a thread-safe counter. labelstream increments
 * counters from the task (mailbox) thread and from the classifier's worker threads; Flink's default {@code
 * SimpleCounter} is a plain {@code long} and loses updates when two threads increment it.
 */
public final class Metrics {
    /** The group of every labelstream metric, in each operator's metric group. */
    public static final String GROUP = "labelstream";
    /** How the Prometheus reporter names a metric {@code m} of the {@value #GROUP} group: this prefix + m. */
    public static final String PROMETHEUS_PREFIX = "flink_taskmanager_job_task_operator_" + GROUP + "_";
    /**
     * Values each histogram keeps (a sliding window of the last this many batches, or records for the end-to-end
     * latency): enough for stable p99s, bounded memory, cheap enough to update per batch.
     */
    public static final int HISTOGRAM_WINDOW = 1024;

    // ------------------------------------------------------------------------------------ labels (subgroups)

    /** Label of {@link #DEAD_LETTERS}: the {@code ErrorKind}. */
    public static final String REASON = "reason";
    /** Label of {@link #ACTIONS}: the moderation action. */
    public static final String ACTION = "action";
    /** Label of {@link #EXECUTION_PROVIDER}: CPU, CUDA, ... */
    public static final String PROVIDER = "provider";
    /** Subgroup of the drift monitor's gauges. */
    public static final String DRIFT = "drift";
    /** Subgroup of the shadow model's agreement gauges. */
    public static final String SHADOW = "shadow";
    /** Shadow gauges: the latest window's top-label agreement, records compared, shed, failed, actions changed. */
    public static final String SHADOW_AGREEMENT = "agreement";
    public static final String SHADOW_COMPARED = "compared";
    public static final String SHADOW_SHED = "shed";
    public static final String SHADOW_FAILED = "failed";
    public static final String SHADOW_ACTIONS_CHANGED = "actionsChanged";
    /** Counters of the shadow stage: records it scored, shed (it was behind) and failed. */
    public static final String SHADOW_SCORED = "shadowScored";
    public static final String SHADOW_SHED_RECORDS = "shadowShed";
    public static final String SHADOW_FAILED_RECORDS = "shadowFailed";
    /** Label of the drift gauges, below {@link #DRIFT}: model name@version. */
    public static final String MODEL = "model";

    // ------------------------------------------------------------------------------------ decode (io)

    /** Counter: source records read (valid or not). */
    public static final String RECORDS_IN = "recordsIn";
    /** Counter per {@link #REASON}: records written to the dead-letter topic (decoder and classifier). */
    public static final String DEAD_LETTERS = "deadLetters";

    // ------------------------------------------------------------------------------------ classify (job)

    /** Counter: classified events written. */
    public static final String RECORDS_OUT = "recordsOut";
    /** Counter per {@link #ACTION}: decisions by action. */
    public static final String ACTIONS = "actions";
    /** Counter: attempts at a batch after the first. */
    public static final String BATCH_RETRIES = "batchRetries";
    /** Counter: batches whose every attempt failed. */
    public static final String BATCH_FAILURES = "batchFailures";
    /**
     * Counter: classify calls stopped at their deadline (a batch, a part of one cut by the adaptive row cap, or
     * one record alone), plus batches the async operator's own timeout completed.
     */
    public static final String BATCH_TIMEOUTS = "batchTimeouts";
    /** Gauge: batches in the async stage. */
    public static final String IN_FLIGHT_BATCHES = "inFlightBatches";
    /** Gauge: most rows per classify call now (halved on a timeout, grown back after fast calls). */
    public static final String ROWS_PER_CALL_CAP = "rowsPerCallCap";
    /** Histogram: model time per batch, ms. */
    public static final String INFERENCE_LATENCY_MS = "inferenceLatencyMs";
    /** Histogram: tokenization time per batch, ms. */
    public static final String TOKENIZE_LATENCY_MS = "tokenizeLatencyMs";
    /** Histogram: tokens fed to the model per batch, padding included. */
    public static final String PADDED_TOKENS = "paddedTokens";
    /** Histogram: real (non-padding) tokens per batch. */
    public static final String REAL_TOKENS = "realTokens";
    /** Histogram: model calls (sub-batches) per batch. */
    public static final String MODEL_CALLS = "modelCalls";
    /** Histogram: from each input's Kafka timestamp to its decision, ms. */
    public static final String END_TO_END_LATENCY_MS = "endToEndLatencyMs";
    /** Gauge: real / padded tokens of the last batch. */
    public static final String PADDING_EFFICIENCY = "paddingEfficiency";
    /** Gauge (1) per {@link #PROVIDER}: the execution provider in use. */
    public static final String EXECUTION_PROVIDER = "executionProvider";

    // ------------------------------------------------------------------------------------ SQL (sql)

    /** Counter per {@link #REASON}: ML_PREDICT rows answered as unclassified (the SQL provider has no dead letters). */
    public static final String UNCLASSIFIED = "unclassified";

    // ------------------------------------------------------------------------------------ batcher (batching)

    /** Counter: batches emitted. */
    public static final String BATCHES_FLUSHED = "batchesFlushed";
    /** Counters: batches emitted per flush reason. */
    public static final String FLUSHES_ON_SIZE = "flushesOnSize";
    public static final String FLUSHES_ON_TOKENS = "flushesOnTokens";
    public static final String FLUSHES_ON_LINGER = "flushesOnLinger";
    public static final String FLUSHES_ON_BARRIER = "flushesOnBarrier";
    public static final String FLUSHES_ON_WATERMARK = "flushesOnWatermark";
    public static final String FLUSHES_ON_END_OF_INPUT = "flushesOnEndOfInput";
    public static final String FLUSHES_ON_CONTROL = "flushesOnControl";
    /** Policy documents accepted and rejected by the policy-aware batcher, and the version in force. */
    public static final String POLICY_ACCEPTED = "policyAccepted";
    public static final String POLICY_REJECTED = "policyRejected";
    public static final String POLICY_VERSION = "policyVersion";
    /** Histogram: records per batch. */
    public static final String BATCH_SIZE = "batchSize";
    /** Histogram: estimated tokens per batch. */
    public static final String BATCH_ESTIMATED_TOKENS = "batchEstimatedTokens";
    /** Histogram: time from a batch's first record to its flush, ms. */
    public static final String BATCH_QUEUE_TIME_MS = "batchQueueTimeMs";
    /** Gauge: records waiting in the current batch. */
    public static final String BUFFERED_RECORDS = "bufferedRecords";

    // ------------------------------------------------------------------------------------ drift (drift)
    // Below DRIFT and MODEL; besides these, one gauge per statistic named by its id (label_psi, ...), and
    // <id> + STATUS_SUFFIX.

    /** Gauge: the latest window's status, one of the {@code DRIFT_*} codes below. */
    public static final String DRIFT_STATUS = "status";
    /** Suffix of a statistic's own status gauge ({@code label_psi_status}); same codes as {@link #DRIFT_STATUS}. */
    public static final String DRIFT_STATISTIC_STATUS_SUFFIX = "_status";
    /** Gauge: inputs in the latest window. */
    public static final String DRIFT_EVENTS = "events";
    /** Gauge: 1 when the latest window was evaluated against a reference, else 0. */
    public static final String DRIFT_EVALUATED = "evaluated";
    /** Gauge: end (exclusive) of the window the gauges describe, epoch milliseconds (event or processing time). */
    public static final String DRIFT_WINDOW_END = "window_end";

    /** Status code: every statistic under its warn threshold. */
    public static final int DRIFT_OK = 0;
    /** Status code: a statistic at or over its warn threshold. */
    public static final int DRIFT_WARN = 1;
    /** Status code: a statistic at or over its alert threshold. */
    public static final int DRIFT_ALERT = 2;
    /**
     * Status code: no window has closed for two window lengths (the input stopped, the model version was replaced,
     * or event time stands still): the last verdict is no longer current. Negative, so {@code status >= 1} alerts
     * never fire on it and {@code status == 0} never reads it as OK.
     */
    public static final int DRIFT_NO_DATA = -1;
    /** Status code: the window was not evaluated, the reference is still being built from the first records. */
    public static final int DRIFT_WARMING_UP = -2;
    /** Status code: the window was not evaluated, it held fewer than drift.min-window-records classified records. */
    public static final int DRIFT_TOO_FEW_RECORDS = -3;

    private Metrics() {}

    /** The labelstream group of an operator's metric group. */
    public static MetricGroup group(MetricGroup operator) {
        return operator.addGroup(GROUP);
    }

    /** A histogram of the last {@value #HISTOGRAM_WINDOW} values, registered as {@code name} in {@code group}. */
    public static Histogram histogram(MetricGroup group, String name) {
        return group.histogram(name, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }

    /** A thread-safe counter registered as {@code name} in {@code group}: use this, never {@code group.counter}. */
    public static Counter counter(MetricGroup group, String name) {
        // Flink's own LongAdder-backed counter: cheap when contended, exact for every thread.
        return group.counter(name, new ThreadSafeSimpleCounter());
    }

    /**
     * One thread-safe counter {@code name} per constant of {@code labels}, each in subgroup {@code label} =
     * the constant's name, so that dashboards can break the count down ({@code sum by (reason) (...)}).
     */
    public static <E extends Enum<E>> Map<E, Counter> countersByLabel(MetricGroup group, String label,
            Class<E> labels, String name) {
        Map<E, Counter> counters = new EnumMap<>(labels);
        for (E e : labels.getEnumConstants()) {
            counters.put(e, counter(group.addGroup(label, e.name()), name));
        }
        return counters;
    }

    /** A label value as the Prometheus reporter exports it (its default character filter). */
    public static String prometheusLabelValue(String value) {
        return value.replaceAll("[^a-zA-Z0-9:_]", "_");
    }

    /** The text of a drift status code: OK, WARN, ALERT, "no data", "warming up", "too few records". */
    public static String driftStatusText(double code) {
        if (Double.isNaN(code)) {
            return "NaN";
        }
        switch ((int) code) {
            case DRIFT_OK:
                return "OK";
            case DRIFT_WARN:
                return "WARN";
            case DRIFT_ALERT:
                return "ALERT";
            case DRIFT_NO_DATA:
                return "no data";
            case DRIFT_WARMING_UP:
                return "warming up";
            case DRIFT_TOO_FEW_RECORDS:
                return "too few records";
            default:
                return "unknown status " + code;
        }
    }
}
