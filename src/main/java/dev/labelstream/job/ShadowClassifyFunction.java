package dev.labelstream.job;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decider;
import dev.labelstream.policy.PolicyDecider;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyOptions;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.classify.Decision;
import dev.labelstream.classify.Decisions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.shadow.AgreementObservation;
import dev.labelstream.shadow.ShadowInput;
import dev.labelstream.shadow.ShadowOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shadow stage: scores batches of records the primary already decided ({@link ShadowInput}) with the candidate
 * model, and emits per record its decision for the shadow topic (a ClassifiedEvent with {@code shadow = true} and
 * the primary decision's id) and the comparison with the primary's ({@link AgreementObservation}). Each record is
 * decided under the policy that decided its primary decision (the bundle's thresholds, or the live policy of the
 * batch it was in), so the action matrix shows what the model change alone would do.
 *
 * <p>Contract: it never backpressures the primary and never touches a primary decision. At most {@link
 * ShadowOptions#MAX_IN_FLIGHT} batches are queued or running; a batch that arrives when that many are is completed
 * at once as SHED (the operator's capacity is above that bound, so {@link #asyncInvoke} never waits for a slot),
 * so a shadow that falls behind samples less and the report says how many it compared. A call gets one try within
 * {@code async.timeout}: a failure or timeout completes the batch as FAILED (counted and reported), with no
 * retries, halving or dead letters, so the shadow's cost is bounded by its threads. Each batch is completed once
 * (worker or Flink's timeout, first wins), never exceptionally while the stage runs.
 *
 * <p>Threads: {@link ShadowOptions#THREADS} callers of one intra-op thread each on a CPU (unless
 * inference.intra-op-threads is set), taken from the primary's share of the cores ({@code ThreadBudget}).
 *
 * <p>Metrics ({@code labelstream} group): {@code shadowScored}, {@code shadowShed}, {@code shadowFailed} (records).
 */
final class ShadowClassifyFunction extends RichAsyncFunction<List<ShadowInput>, ShadowOutcome> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ShadowClassifyFunction.class);

    private final Configuration conf;
    private final ModelIdentity shadowModel;
    private final ClassifyBatchFunction.ClassifierFactory factory;

    private transient Classifier classifier;
    private transient ThreadPoolExecutor executor;
    private transient Map<ResultFuture<ShadowOutcome>, Task> tasks;
    private transient AtomicInteger inFlight;
    private transient int maxInFlight;
    private transient Duration deadline;
    private transient KafkaOptions.OutputFormat outputFormat;
    private transient Counter scored;
    private transient Counter shed;
    private transient Counter failed;
    /** Deciders of the policies recent primary decisions were made under, by their stored JSON. */
    private transient Map<String, Decider> deciders;

    ShadowClassifyFunction(Configuration conf, ModelIdentity shadowModel) {
        this(conf, shadowModel, resolved -> Classifier.open(shadowModel, resolved));
    }

    /** With another way to open the shadow's classifier: for tests (e.g. one that fails on every call). */
    ShadowClassifyFunction(Configuration conf, ModelIdentity shadowModel, ClassifyBatchFunction.ClassifierFactory factory) {
        this.conf = Objects.requireNonNull(conf, "conf");
        this.shadowModel = Objects.requireNonNull(shadowModel, "shadowModel");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /** Flink's timeout for one shadow batch: its own call, after the calls queued before it on the threads. */
    static Duration operatorTimeout(Configuration conf) {
        int waves = (conf.get(ShadowOptions.MAX_IN_FLIGHT) + conf.get(ShadowOptions.THREADS) - 1)
                / conf.get(ShadowOptions.THREADS);
        return conf.get(JobOptions.ASYNC_TIMEOUT).multipliedBy(waves + 1);
    }

    /** The operator's capacity: above the in-flight bound, so a batch to shed always finds a slot. */
    static int capacity(Configuration conf) {
        return 2 * conf.get(ShadowOptions.MAX_IN_FLIGHT) + 2;
    }

    /** The shadow's configuration: its bundle, and on a CPU one intra-op thread per caller unless set. */
    static Configuration shadowConfiguration(Configuration conf) {
        Configuration c = JobSettings.shadowConfiguration(conf);
        if (c.get(InferenceOptions.PROVIDER) == InferenceOptions.Provider.CPU) {
            c.set(InferenceOptions.INTRA_OP_THREADS, conf.getOptional(InferenceOptions.INTRA_OP_THREADS).orElse(1));
            c.set(InferenceOptions.MAX_SUB_BATCH, conf.getOptional(InferenceOptions.MAX_SUB_BATCH).orElse(1));
        }
        return c;
    }

    @Override
    public void open(OpenContext ctx) {
        open(getRuntimeContext().getMetricGroup(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    void open(MetricGroup operatorGroup, int subtask) {
        classifier = factory.open(shadowConfiguration(conf));
        maxInFlight = conf.get(ShadowOptions.MAX_IN_FLIGHT);
        deadline = conf.get(JobOptions.ASYNC_TIMEOUT);
        outputFormat = conf.get(KafkaOptions.OUTPUT_FORMAT);
        tasks = new ConcurrentHashMap<>();
        deciders = new ConcurrentHashMap<>();
        inFlight = new AtomicInteger();
        int threads = conf.get(ShadowOptions.THREADS);
        AtomicInteger n = new AtomicInteger();
        // At most maxInFlight tasks are ever submitted (asyncInvoke sheds the rest), so this queue never overflows.
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(maxInFlight), r -> {
                    Thread t = new Thread(r, "labelstream-shadow-" + subtask + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        MetricGroup g = Metrics.group(operatorGroup);
        scored = Metrics.counter(g, Metrics.SHADOW_SCORED);
        shed = Metrics.counter(g, Metrics.SHADOW_SHED_RECORDS);
        failed = Metrics.counter(g, Metrics.SHADOW_FAILED_RECORDS);
        LOG.info("Shadow model {} on {}: {} thread(s), at most {} batches in flight (more are shed), sample rate {}",
                classifier.model().key(), classifier.provider(), threads, maxInFlight,
                conf.get(ShadowOptions.SAMPLE_RATE));
    }

    @Override
    public void asyncInvoke(List<ShadowInput> batch, ResultFuture<ShadowOutcome> result) {
        if (inFlight.get() >= maxInFlight) {
            // Behind: not scored, so the primary never waits for the shadow. Counted and reported as shed.
            shed.inc(batch.size());
            result.complete(notScored(batch, AgreementObservation.Status.SHED));
            return;
        }
        Task task = new Task(batch, result);
        inFlight.incrementAndGet();
        tasks.put(result, task);
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // Only once close() has shut the executor down: the batch is replayed from the last checkpoint.
            tasks.remove(result);
            inFlight.decrementAndGet();
            result.completeExceptionally(new IllegalStateException("the shadow stage is closing", e));
        }
    }

    @Override
    public void timeout(List<ShadowInput> batch, ResultFuture<ShadowOutcome> result) {
        Task task = tasks.get(result);
        if (task == null) {
            return;
        }
        task.cancelled = true;
        executor.remove(task);
        if (task.complete(notScored(batch, AgreementObservation.Status.FAILED), false)) {
            LOG.warn("The shadow stage timed out a batch of {}; counted as failed", batch.size());
        }
    }

    private final class Task implements Runnable {
        final List<ShadowInput> batch;
        final ResultFuture<ShadowOutcome> result;
        final AtomicBoolean completed = new AtomicBoolean();
        volatile boolean cancelled;

        Task(List<ShadowInput> batch, ResultFuture<ShadowOutcome> result) {
            this.batch = batch;
            this.result = result;
        }

        @Override
        public void run() {
            if (cancelled) {
                return;
            }
            List<ShadowOutcome> out;
            boolean ok;
            try {
                out = scored(batch);
                ok = true;
            } catch (Throwable t) {
                // A shadow failure is the shadow's: counted and reported, never the primary's or the job's.
                LOG.warn("The shadow model failed on a batch of {}: {}", batch.size(), t.toString());
                out = notScored(batch, AgreementObservation.Status.FAILED);
                ok = false;
            }
            complete(out, ok);
        }

        boolean complete(List<ShadowOutcome> out, boolean ok) {
            if (!completed.compareAndSet(false, true)) {
                return false;
            }
            tasks.remove(result);
            inFlight.decrementAndGet();
            (ok ? scored : failed).inc(batch.size());
            result.complete(out);
            return true;
        }
    }

    private static List<Classifier.Request> requests(List<ShadowInput> batch) {
        List<Classifier.Request> in = new ArrayList<>(batch.size());
        for (ShadowInput s : batch) {
            in.add(ClassifiedEvents.request(s.input()));
        }
        return in;
    }

    /**
     * Scores a batch, each record decided under the policy that decided its primary decision (one call per policy:
     * a batch holds one, or two at a policy change), so the action matrix shows the model's change alone.
     */
    private List<ShadowOutcome> scored(List<ShadowInput> batch) throws Exception {
        Map<String, List<Integer>> byPolicy = new java.util.LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            byPolicy.computeIfAbsent(String.valueOf(batch.get(i).policy()), k -> new ArrayList<>()).add(i);
        }
        ShadowOutcome[] out = new ShadowOutcome[batch.size()];
        for (List<Integer> rows : byPolicy.values()) {
            List<ShadowInput> part = new ArrayList<>(rows.size());
            rows.forEach(i -> part.add(batch.get(i)));
            String policy = part.get(0).policy();
            List<ShadowOutcome> got = scored(part, classifier.classify(requests(part), deadline,
                    policy == null ? null : decider(policy)));
            for (int j = 0; j < rows.size(); j++) {
                out[rows.get(j)] = got.get(j);
            }
        }
        return java.util.Arrays.asList(out);
    }

    /** The decider of a policy document's stored JSON; the last few are kept (policies change rarely). */
    private Decider decider(String policy) throws PolicyRejectedException {
        Decider d = deciders.get(policy);
        if (d == null) {
            d = PolicyDecider.of(PolicyDocument.parseStored(policy), conf.get(PolicyOptions.TENANT_ATTRIBUTE));
            if (deciders.size() >= 4) {
                deciders.clear();
            }
            deciders.put(policy, d);
        }
        return d;
    }

    private List<ShadowOutcome> scored(List<ShadowInput> batch, Decisions decisions) {
        long now = System.currentTimeMillis();
        String shadowKey = shadowModel.key();
        List<ShadowOutcome> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            ShadowInput in = batch.get(i);
            Decision d = decisions.decisions().get(i);
            ClassifiedEvent e = ClassifiedEvents.build(in.input(), d, decisions.inferenceMillis(), now);
            e.setShadow(true);
            e.setPrimaryDecisionId(in.primaryDecisionId());
            OutboundRecord r = ClassifiedEvents.toRecord(in.input(), e, outputFormat);
            out.add(new ShadowOutcome(new OutboundRecord(OutboundRecord.Destination.SHADOW, r.key(), r.value(),
                    r.headers(), r.timestamp()), AgreementObservation.compared(shadowKey, in, d.labels(), d.scores(),
                    d.action().name())));
        }
        return out;
    }

    private List<ShadowOutcome> notScored(List<ShadowInput> batch, AgreementObservation.Status status) {
        List<ShadowOutcome> out = new ArrayList<>(batch.size());
        for (ShadowInput in : batch) {
            out.add(new ShadowOutcome(null, AgreementObservation.notScored(shadowModel.key(), in, status)));
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        if (executor != null) {
            executor.shutdownNow();
            executor.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (classifier != null) {
            classifier.close();
        }
    }
}
