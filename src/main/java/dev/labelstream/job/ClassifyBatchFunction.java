package dev.labelstream.job;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decider;
import dev.labelstream.classify.Decision;
import dev.labelstream.classify.Decisions;
import dev.labelstream.drift.DriftObservation;
import dev.labelstream.drift.DriftSettings;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.DecodeFunction;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.metrics.Metrics;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * <p>The classification core ({@link Classifier}) makes the decisions; this stage adds only threads, retries,
 * metrics and the encoding of decisions as output records. The model is the model in force built with the job
 * graph ({@link ModelIdentity}): the bundle is read again here, but model.onnx is not hashed again.
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

    /** Opens the classification core on the TaskManager; serializable, as the function is. */
    interface ClassifierFactory extends Serializable {
        /** @param conf the job configuration with the thread budget resolved for this TaskManager */
        Classifier open(Configuration conf);
    }

    /** The job configuration: inference, moderation and async options. */
    private final Configuration conf;
    /** The model in force, as the job graph was built for it. */
    private final ModelIdentity model;
    /** How {@link #open} gets its classifier: the real core, or a stand-in in tests. */
    private final ClassifierFactory factory;

    private transient Classifier classifier;
    private transient ThreadPoolExecutor executor;
    private transient KafkaOptions.OutputFormat outputFormat;
    private transient JobOptions.FailurePolicy failurePolicy;
    private transient Duration attemptTimeout;
    private transient boolean drift;
    private transient boolean driftEmbeddings;
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

    ClassifyBatchFunction(Configuration conf, ModelIdentity model) {
        this(conf, model, resolved -> Classifier.open(model, resolved));
    }

    /** With another way to open the classifier: the seam for unit tests. */
    ClassifyBatchFunction(Configuration conf, ModelIdentity model, ClassifierFactory factory) {
        this.conf = Objects.requireNonNull(conf, "conf");
        this.model = Objects.requireNonNull(model, "model");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    @Override
    public void open(OpenContext ctx) {
        open(getRuntimeContext().getMetricGroup(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    /** {@link #open(OpenContext)} without a runtime context: the operator's metric group and subtask index. */
    void open(MetricGroup operatorGroup, int subtask) {
        Configuration conf = ThreadBudget.resolve(this.conf); // CPU: threads and rows per call follow the cores
        classifier = factory.open(conf);
        outputFormat = conf.get(KafkaOptions.OUTPUT_FORMAT);
        failurePolicy = conf.get(JobOptions.FAILURE_POLICY);
        attemptTimeout = conf.get(JobOptions.ASYNC_TIMEOUT);
        DriftSettings driftSettings = DriftSettings.of(conf);
        drift = driftSettings.enabled();
        driftEmbeddings = driftSettings.embeddings();
        maxRetries = conf.get(JobOptions.ASYNC_MAX_RETRIES);
        backoffMillis = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis();
        int threads = conf.get(JobOptions.ASYNC_THREADS);
        AtomicInteger n = new AtomicInteger();
        // The async operator admits at most async.capacity batches, so this queue can never overflow.
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(Math.max(1, conf.get(JobOptions.ASYNC_CAPACITY))), r -> {
                    Thread t = new Thread(r, "labelstream-classify-" + subtask + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });

        MetricGroup g = Metrics.group(operatorGroup);
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
        LOG.info("Classifying with {} on {}; policy {}, failure policy {}", classifier.model().key(),
                classifier.provider(), classifier.policy().version(), failurePolicy);
    }

    @Override
    public void asyncInvoke(List<InputEvent> batch, ResultFuture<Outcome> result) {
        asyncInvoke(batch, null, result);
    }

    /**
     * {@link #asyncInvoke(List, ResultFuture)} decided under {@code decider}: the policy the batch was batched with
     * ({@link PolicyClassifyFunction}); null for the classifier's own thresholds.
     */
    void asyncInvoke(List<InputEvent> batch, Decider decider, ResultFuture<Outcome> result) {
        inFlight.incrementAndGet();
        try {
            executor.execute(() -> run(batch, decider, result));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Only when closing: the operator admits no more batches than the queue holds.
            inFlight.decrementAndGet();
            result.complete(fail(batch, ErrorKind.INFERENCE_FAILED, "classifier is shutting down", decider));
        }
    }

    private void run(List<InputEvent> batch, Decider decider, ResultFuture<Outcome> result) {
        try {
            result.complete(classifyWithRetries(batch, decider));
        } catch (Throwable t) {
            // Never fail the job for one batch: a bug here must still end in dead letters.
            LOG.error("Unexpected error classifying a batch of {}; sending it to dead letters", batch.size(), t);
            result.complete(fail(batch, ErrorKind.INFERENCE_FAILED, t.toString(), decider));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Safety net: the async operator's own timeout, longer than all attempts together. */
    @Override
    public void timeout(List<InputEvent> batch, ResultFuture<Outcome> result) {
        timeout(batch, null, result);
    }

    /** {@link #timeout(List, ResultFuture)} for a batch decided under {@code decider}. */
    void timeout(List<InputEvent> batch, Decider decider, ResultFuture<Outcome> result) {
        timeouts.inc();
        result.complete(fail(batch, ErrorKind.INFERENCE_TIMEOUT, "no result within the async operator's timeout",
                decider));
    }

    /** How long the async operator waits before {@link #timeout}: every attempt, backoff and one pass alone. */
    static Duration operatorTimeout(Configuration conf) {
        Duration attempt = conf.get(JobOptions.ASYNC_TIMEOUT);
        int attempts = conf.get(JobOptions.ASYNC_MAX_RETRIES) + 1;
        long backoff = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis() * ((1L << attempts) - 1);
        return attempt.multipliedBy(attempts + 2L).plusMillis(backoff).plusSeconds(5);
    }

    private List<Outcome> classifyWithRetries(List<InputEvent> batch, Decider decider) throws InterruptedException {
        ClassificationException last = null;
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            if (attempt > 0) {
                retries.inc();
                Thread.sleep(backoffMillis << (attempt - 1));
            }
            try {
                return classified(batch, classifier.classify(requests(batch), attemptTimeout, decider));
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
                    + attemptTimeout + "): " + last.getMessage(), decider);
        }
        if (batch.size() == 1) {
            return fail(batch, ErrorKind.INFERENCE_FAILED, last.getMessage(), decider);
        }
        // Isolate the record(s) that fail: classify one by one, once each.
        List<Outcome> out = new ArrayList<>(batch.size());
        for (InputEvent e : batch) {
            List<InputEvent> one = List.of(e);
            try {
                out.addAll(classified(one, classifier.classify(requests(one), attemptTimeout, decider)));
            } catch (ClassificationException ex) {
                out.addAll(fail(one, ex.timedOut() ? ErrorKind.INFERENCE_TIMEOUT : ErrorKind.INFERENCE_FAILED,
                        ex.getMessage(), decider));
            }
        }
        return out;
    }

    private static List<Classifier.Request> requests(List<InputEvent> batch) {
        List<Classifier.Request> in = new ArrayList<>(batch.size());
        for (InputEvent e : batch) {
            in.add(ClassifiedEvents.request(e));
        }
        return in;
    }

    private List<Outcome> classified(List<InputEvent> batch, Decisions decisions) {
        ClassifiedBatch r = decisions.batch();
        float millis = decisions.inferenceMillis();
        inferenceLatency.update(Math.round(millis));
        tokenizeLatency.update(Math.round(r.tokenizeNanos() / 1e6));
        paddedTokens.update(r.paddedTokens());
        realTokens.update(r.realTokens());
        modelCalls.update(r.modelCalls());
        lastPaddingEfficiencyPpm.set(Math.round(r.paddingEfficiency() * 1e6));
        long now = System.currentTimeMillis();
        ModelIdentity m = classifier.model();
        List<Outcome> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            InputEvent in = batch.get(i);
            Decision d = decisions.decisions().get(i);
            OutboundRecord record = ClassifiedEvents.toRecord(in, ClassifiedEvents.build(in, d, millis, now),
                    outputFormat);
            out.add(new Outcome(record, drift ? DriftObservation.classified(m.name(), m.version(), m.multiLabel(),
                    d.classification(), in.source().timestamp(), now, driftEmbeddings) : null));
            actions.get(d.action()).inc();
            long produced = in.source().timestamp();
            if (produced >= 0) {
                endToEndLatency.update(Math.max(0, now - produced));
            }
        }
        recordsOut.inc(out.size());
        return out;
    }

    private List<Outcome> fail(List<InputEvent> batch, ErrorKind kind, String message, Decider decider) {
        // A policy document's failure policy wins over classification.failure-policy.
        JobOptions.FailurePolicy failurePolicy = decider == null || decider.failurePolicy() == null
                ? this.failurePolicy : JobOptions.FailurePolicy.valueOf(decider.failurePolicy());
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
        for (InputEvent e : batch) {
            Decision d = classifier.unclassified(ClassifiedEvents.request(e), action, kind.name(), reason, decider);
            out.add(new Outcome(ClassifiedEvents.toRecord(e, ClassifiedEvents.build(e, d, 0f, now), outputFormat),
                    unclassified(e, now)));
            actions.get(action).inc();
        }
        recordsOut.inc(out.size());
        return out;
    }

    /** Inputs that were not classified count in the drift monitor's dead-letter rate, whatever the policy. */
    private DriftObservation unclassified(InputEvent e, long now) {
        return drift ? DriftObservation.unclassified(model.name(), model.version(), e.source().timestamp(), now)
                : null;
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
