package dev.labelstream.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.drift.DriftObservation;
import dev.labelstream.drift.DriftSettings;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.DecodeFunction;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.Thresholds;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies one micro-batch per call on a small bounded thread pool and emits one {@link Outcome} per input:
 * the output record (a {@code ClassifiedEvent} with its moderation action, or a dead letter) and the drift
 * monitor's {@link DriftObservation} of it (unless drift is off).
 *
 * <p>Contract: the returned collection always holds exactly one record per input, and the result future is
 * never completed exceptionally, so no classifier failure fails the job or drops a record. A failing batch is
 * retried ({@link JobOptions#ASYNC_MAX_RETRIES}, exponential backoff, each attempt bounded by {@link
 * JobOptions#ASYNC_TIMEOUT} through ONNX Runtime's terminate flag); if it still fails, its records are
 * classified one by one, so a poison record takes only itself to the failure policy. Flink's async operator
 * keeps in-flight batches in its checkpoint, so nothing in flight is lost on failover.
 *
 * <p>Metrics ({@code labelstream} group): recordsOut, actions per {@code action}, deadLetters per {@code
 * reason}, batchRetries, batchFailures, batchTimeouts, inFlightBatches, inferenceLatencyMs, tokenizeLatencyMs,
 * paddedTokens, realTokens, paddingEfficiency, modelCalls, endToEndLatencyMs (from the input's Kafka record
 * timestamp to its classification, per record; add the checkpoint interval for when exactly-once output
 * becomes visible), and executionProvider (1, labelled by {@code provider}).
 */
final class ClassifyBatchFunction extends RichAsyncFunction<List<InputEvent>, Outcome> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ClassifyBatchFunction.class);

    /** The job configuration: inference, moderation and async options. */
    private final Configuration conf;

    private transient BatchClassifier classifier;
    private transient ModerationPolicy policy;
    private transient ClassifiedEvents.Decider decider;
    private transient ThreadPoolExecutor executor;
    private transient KafkaOptions.OutputFormat outputFormat;
    private transient JobOptions.FailurePolicy failurePolicy;
    private transient Duration attemptTimeout;
    private transient boolean drift;
    private transient boolean driftEmbeddings;
    private transient String modelName;
    private transient String modelVersion;
    private transient boolean multiLabel;
    private transient int maxRetries;
    private transient long backoffMillis;
    private transient Counter recordsOut;
    private transient Map<ModerationAction, Counter> actions;
    private transient Map<ErrorKind, Counter> deadLetters;
    private transient Counter retries;
    private transient Counter failures;
    private transient Counter timeouts;
    private transient AtomicInteger inFlight;
    private transient Histogram inferenceLatency;
    private transient Histogram tokenizeLatency;
    private transient Histogram paddedTokens;
    private transient Histogram realTokens;
    private transient Histogram modelCalls;
    private transient Histogram endToEndLatency;
    /** Padding efficiency of the last batch, in parts per million (gauges of doubles are awkward in Prometheus). */
    private transient AtomicLong lastPaddingEfficiencyPpm;

    ClassifyBatchFunction(Configuration conf) {
        this.conf = conf;
    }

    @Override
    public void open(OpenContext ctx) throws IOException {
        Configuration conf = ThreadBudget.resolve(this.conf); // CPU: threads and rows per call follow the cores
        ModelBundle bundle = ModelBundle.load(conf);
        classifier = BatchClassifier.open(bundle, conf);
        policy = policy(bundle, conf);
        decider = new ClassifiedEvents.Decider(bundle.name(), bundle.version(), policy.version(),
                classifier.provider());
        outputFormat = conf.get(KafkaOptions.OUTPUT_FORMAT);
        failurePolicy = conf.get(JobOptions.FAILURE_POLICY);
        attemptTimeout = conf.get(JobOptions.ASYNC_TIMEOUT);
        DriftSettings driftSettings = DriftSettings.of(conf);
        drift = driftSettings.enabled();
        driftEmbeddings = driftSettings.embeddings();
        modelName = bundle.name();
        modelVersion = bundle.version();
        multiLabel = bundle.multiLabel();
        maxRetries = conf.get(JobOptions.ASYNC_MAX_RETRIES);
        backoffMillis = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis();
        int threads = conf.get(JobOptions.ASYNC_THREADS);
        AtomicInteger n = new AtomicInteger();
        // The async operator admits at most async.capacity batches, so this queue can never overflow.
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(Math.max(1, conf.get(JobOptions.ASYNC_CAPACITY))), r -> {
                    Thread t = new Thread(r, "labelstream-classify-"
                            + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });

        MetricGroup g = Metrics.group(getRuntimeContext().getMetricGroup());
        recordsOut = g.counter("recordsOut");
        actions = new EnumMap<>(ModerationAction.class);
        for (ModerationAction a : ModerationAction.values()) {
            actions.put(a, g.addGroup("action", a.name()).counter("actions"));
        }
        deadLetters = DecodeFunction.deadLetterCounters(g);
        retries = g.counter("batchRetries");
        failures = g.counter("batchFailures");
        timeouts = g.counter("batchTimeouts");
        inFlight = new AtomicInteger();
        g.gauge("inFlightBatches", inFlight::get);
        inferenceLatency = Metrics.histogram(g, "inferenceLatencyMs");
        tokenizeLatency = Metrics.histogram(g, "tokenizeLatencyMs");
        paddedTokens = Metrics.histogram(g, "paddedTokens");
        realTokens = Metrics.histogram(g, "realTokens");
        modelCalls = Metrics.histogram(g, "modelCalls");
        endToEndLatency = Metrics.histogram(g, "endToEndLatencyMs");
        lastPaddingEfficiencyPpm = new AtomicLong(1_000_000);
        g.gauge("paddingEfficiency", () -> lastPaddingEfficiencyPpm.get() / 1e6);
        g.addGroup("provider", classifier.provider()).gauge("executionProvider", () -> 1);
        LOG.info("Classifying with {} on {}; policy {}, failure policy {}", bundle, classifier.provider(),
                policy.version(), failurePolicy);
    }

    static ModerationPolicy policy(ModelBundle bundle, Configuration conf) {
        if (conf.getOptional(JobOptions.THRESHOLDS).isEmpty()) {
            return new ModerationPolicy(bundle.labels(), bundle.thresholds(), bundle.policyVersion());
        }
        String version = conf.getOptional(JobOptions.POLICY_VERSION).orElseThrow(() -> new IllegalArgumentException(
                JobOptions.POLICY_VERSION.key() + " must be set with " + JobOptions.THRESHOLDS.key()
                        + ": every decision records the version of the thresholds that made it"));
        try {
            Map<String, Thresholds> t = Thresholds.parse(new ObjectMapper().readTree(conf.get(JobOptions.THRESHOLDS)),
                    bundle.labels());
            return new ModerationPolicy(bundle.labels(), t, version);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(JobOptions.THRESHOLDS.key() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void asyncInvoke(List<InputEvent> batch, ResultFuture<Outcome> result) {
        inFlight.incrementAndGet();
        try {
            executor.execute(() -> run(batch, result));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Only when closing: the operator admits no more batches than the queue holds.
            inFlight.decrementAndGet();
            result.complete(fail(batch, ErrorKind.INFERENCE_FAILED, "classifier is shutting down"));
        }
    }

    private void run(List<InputEvent> batch, ResultFuture<Outcome> result) {
        try {
            result.complete(classifyWithRetries(batch));
        } catch (Throwable t) {
            // Never fail the job for one batch: a bug here must still end in dead letters.
            LOG.error("Unexpected error classifying a batch of {}; sending it to dead letters", batch.size(), t);
            result.complete(fail(batch, ErrorKind.INFERENCE_FAILED, t.toString()));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Safety net: the async operator's own timeout, longer than all attempts together. */
    @Override
    public void timeout(List<InputEvent> batch, ResultFuture<Outcome> result) {
        timeouts.inc();
        result.complete(fail(batch, ErrorKind.INFERENCE_TIMEOUT, "no result within the async operator's timeout"));
    }

    /** How long the async operator waits before {@link #timeout}: every attempt, backoff and one pass alone. */
    static Duration operatorTimeout(Configuration conf) {
        Duration attempt = conf.get(JobOptions.ASYNC_TIMEOUT);
        int attempts = conf.get(JobOptions.ASYNC_MAX_RETRIES) + 1;
        long backoff = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis() * ((1L << attempts) - 1);
        return attempt.multipliedBy(attempts + 2L).plusMillis(backoff).plusSeconds(5);
    }

    private List<Outcome> classifyWithRetries(List<InputEvent> batch) throws InterruptedException {
        ClassificationException last = null;
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            if (attempt > 0) {
                retries.inc();
                Thread.sleep(backoffMillis << (attempt - 1));
            }
            try {
                return classified(batch, classifier.classify(inputs(batch), attemptTimeout));
            } catch (ClassificationException e) {
                last = e;
                LOG.warn("Attempt {} of {} at a batch of {} failed: {}", attempt + 1, maxRetries + 1, batch.size(),
                        e.getMessage());
            }
        }
        failures.inc();
        if (last.timedOut()) {
            timeouts.inc();
            return fail(batch, ErrorKind.INFERENCE_TIMEOUT, "timed out " + (maxRetries + 1) + " times (async.timeout="
                    + attemptTimeout + "): " + last.getMessage());
        }
        if (batch.size() == 1) {
            return fail(batch, ErrorKind.INFERENCE_FAILED, last.getMessage());
        }
        // Isolate the record(s) that fail: classify one by one, once each.
        List<Outcome> out = new ArrayList<>(batch.size());
        for (InputEvent e : batch) {
            List<InputEvent> one = List.of(e);
            try {
                out.addAll(classified(one, classifier.classify(inputs(one), attemptTimeout)));
            } catch (ClassificationException ex) {
                out.addAll(fail(one, ex.timedOut() ? ErrorKind.INFERENCE_TIMEOUT : ErrorKind.INFERENCE_FAILED,
                        ex.getMessage()));
            }
        }
        return out;
    }

    private static List<TextInput> inputs(List<InputEvent> batch) {
        List<TextInput> in = new ArrayList<>(batch.size());
        for (InputEvent e : batch) {
            in.add(new TextInput(e.text(), e.pair()));
        }
        return in;
    }

    private List<Outcome> classified(List<InputEvent> batch, ClassifiedBatch r) {
        float millis = r.inferenceNanos() / 1e6f;
        inferenceLatency.update(Math.round(millis));
        tokenizeLatency.update(Math.round(r.tokenizeNanos() / 1e6));
        paddedTokens.update(r.paddedTokens());
        realTokens.update(r.realTokens());
        modelCalls.update(r.modelCalls());
        lastPaddingEfficiencyPpm.set(Math.round(r.paddingEfficiency() * 1e6));
        long now = System.currentTimeMillis();
        List<String> labels = classifier.bundle().labels();
        List<Outcome> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Classification c = r.results().get(i);
            ModerationPolicy.Decision d = policy.decide(c.scores());
            ClassifiedEvents.Verdict v = new ClassifiedEvents.Verdict(labels, c.scores(), c.top(), d.action(),
                    d.reason(), true, c.truncated(), c.tokens());
            OutboundRecord record = ClassifiedEvents.toRecord(batch.get(i),
                    ClassifiedEvents.build(batch.get(i), v, decider, millis, now), outputFormat);
            out.add(new Outcome(record, drift ? DriftObservation.classified(modelName, modelVersion, multiLabel, c,
                    batch.get(i).source().timestamp(), now, driftEmbeddings) : null));
            actions.get(d.action()).inc();
            long produced = batch.get(i).source().timestamp();
            if (produced >= 0) {
                endToEndLatency.update(Math.max(0, now - produced));
            }
        }
        recordsOut.inc(out.size());
        return out;
    }

    private List<Outcome> fail(List<InputEvent> batch, ErrorKind kind, String message) {
        List<Outcome> out = new ArrayList<>(batch.size());
        long failedAt = System.currentTimeMillis();
        if (failurePolicy == JobOptions.FailurePolicy.DEAD_LETTER) {
            for (InputEvent e : batch) {
                out.add(new Outcome(DeadLetters.of(e.source(), kind, message, e.id()), unclassified(e, failedAt)));
            }
            deadLetters.get(kind).inc(batch.size());
            return out;
        }
        ModerationAction action = failurePolicy == JobOptions.FailurePolicy.FAIL_OPEN
                ? ModerationAction.ALLOW : ModerationAction.REVIEW;
        String reason = "unclassified (" + kind + ": " + message + "); " + failurePolicy + " decided";
        long now = System.currentTimeMillis();
        List<String> labels = classifier.bundle().labels();
        for (InputEvent e : batch) {
            ClassifiedEvents.Verdict v = new ClassifiedEvents.Verdict(labels, new float[labels.size()], 0, action,
                    reason, false, false, 0);
            out.add(new Outcome(ClassifiedEvents.toRecord(e, ClassifiedEvents.build(e, v, decider, 0f, now),
                    outputFormat), unclassified(e, now)));
            actions.get(action).inc();
        }
        recordsOut.inc(out.size());
        return out;
    }

    /** Inputs that were not classified count in the drift monitor's dead-letter rate, whatever the policy. */
    private DriftObservation unclassified(InputEvent e, long now) {
        return drift ? DriftObservation.unclassified(modelName, modelVersion, e.source().timestamp(), now) : null;
    }

    @Override
    public void close() throws Exception {
        if (executor != null) {
            executor.shutdownNow();
            // The classifier's close waits for a run still inside ONNX Runtime; the session outlives it.
            executor.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (classifier != null) {
            classifier.close();
        }
    }
}
