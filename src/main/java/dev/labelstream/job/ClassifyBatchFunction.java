package dev.labelstream.job;

import dev.labelstream.settings.AsyncBudget;
import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.settings.ThreadBudget;
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
import dev.labelstream.policy.PolicyDecider;
import dev.labelstream.shadow.ShadowInput;
import dev.labelstream.shadow.ShadowSample;
import java.io.Serializable;
import java.time.Duration;
import dev.labelstream.batching.BatchingOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumMap;
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
 * deadlines, metrics and the encoding of decisions as output records. The model is the model in force built with
 * the job graph ({@link ModelIdentity}): the bundle is read again here, but model.onnx is not hashed again.
 *
 * <p>Contract: each batch is completed exactly once, with exactly one record per input, and never exceptionally
 * while the stage runs, so no classifier failure fails the job or drops a record. Flink's async operator keeps
 * in-flight batches in its checkpoint, so nothing in flight is lost on failover.
 *
 * <p>Slowness is backpressure, not dead letters. Every classify call is bounded by {@link
 * JobOptions#ASYNC_TIMEOUT} (ONNX Runtime's terminate flag). A call of several records that runs over it is
 * halved (and the halves again) until its parts fit, and an adaptive cap on rows per call, shared by the
 * subtask's threads, is halved with it, so the batches after it are cut into calls that fit from the start; the
 * cap grows back gradually after calls at the cap that finish within a quarter of the deadline. A model that
 * slows down uniformly therefore only makes the stage slower (its in-flight slots stay busy and the source is
 * backpressured), and only a record that exceeds the deadline alone, on each of its {@link
 * JobOptions#ASYNC_MAX_RETRIES} retries, becomes an INFERENCE_TIMEOUT dead letter. A call that fails (not a
 * timeout) is retried with exponential backoff; if it still fails it is halved, each half tried once, and the
 * records of a half that fails are classified one by one, so a poison record takes only itself to the failure
 * policy. A failure followed by a timeout goes on splitting, never skips the isolation.
 *
 * <p>The cost of one batch is bounded: {@link #batchBudget} (the first call's tries and backoff, one timed-out
 * call per halving, each record once within its deadline, and one record's own tries) bounds the worker's time
 * on it; records still unclassified when it is spent are INFERENCE_TIMEOUT dead letters. Flink's timeout, {@link
 * #operatorTimeout}, adds the time a batch can wait in the queue behind the ones running before it, so it fires
 * only when a call did not stop at its deadline; {@link JobSettings} checks it before submit. When it fires, the
 * batch's task is cancelled (taken out of the queue if it has not started; if it has, it stops at its current
 * call's deadline and emits nothing) and the batch is completed with INFERENCE_TIMEOUT dead letters; a result
 * that comes later is discarded and counts nothing (a complete-once guard per batch).
 *
 * <p>The executor never rejects work while the stage runs: Flink admits at most {@link JobOptions#ASYNC_CAPACITY}
 * batches, its queue holds as many, and a cancelled task leaves it. {@link #asyncInvoke} never blocks.
 *
 * <p>Metrics ({@code labelstream} group; counters thread-safe, counted once per completed batch): recordsOut,
 * actions per {@code action}, deadLetters per {@code reason}, batchRetries, batchFailures, batchTimeouts,
 * inFlightBatches, rowsPerCallCap, inferenceLatencyMs, tokenizeLatencyMs, paddedTokens, realTokens,
 * paddingEfficiency, modelCalls, endToEndLatencyMs (from the input's Kafka record timestamp to its
 * classification, per record; add the checkpoint interval for when exactly-once output becomes visible), and
 * executionProvider (1, labelled by {@code provider}).
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
    /** With a shadow model: which classified records it scores; null without one. */
    private ShadowSample shadowSample;

    private transient Classifier classifier;
    /** Promoted models' classifiers, by bundle directory, opened when a batch first names one. */
    private transient Map<String, Classifier> promoted;
    /** The configuration a promoted model opens with (this one's, thread budget resolved). */
    private transient Configuration resolved;
    /** Runs the batches: async.threads threads, a queue of async.capacity (Flink admits no more). */
    private transient ThreadPoolExecutor executor;
    /** The task of each batch in flight, by its result future (identity), so that {@link #timeout} can cancel it. */
    private transient Map<ResultFuture<Outcome>, Task> tasks;
    /** Most rows per classify call: halved on a timeout, grown back after fast calls; shared by the threads. */
    private transient AtomicInteger rowCap;
    /** The most time the worker spends on one batch ({@link #batchBudget}). */
    private transient Duration budget;
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

    /** Hands the records in {@code sample} to a shadow stage after this one ({@link Outcome#shadow()}). */
    ClassifyBatchFunction withShadow(ShadowSample sample) {
        this.shadowSample = sample;
        return this;
    }

    @Override
    public void open(OpenContext ctx) {
        open(getRuntimeContext().getMetricGroup(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    /** {@link #open(OpenContext)} without a runtime context: the operator's metric group and subtask index. */
    void open(MetricGroup operatorGroup, int subtask) {
        Configuration conf = ThreadBudget.resolve(this.conf); // CPU: threads and rows per call follow the cores
        classifier = factory.open(conf);
        resolved = conf;
        promoted = new ConcurrentHashMap<>();
        outputFormat = conf.get(KafkaOptions.OUTPUT_FORMAT);
        failurePolicy = conf.get(JobOptions.FAILURE_POLICY);
        attemptTimeout = conf.get(JobOptions.ASYNC_TIMEOUT);
        DriftSettings driftSettings = DriftSettings.of(conf);
        drift = driftSettings.enabled();
        driftEmbeddings = driftSettings.embeddings();
        maxRetries = conf.get(JobOptions.ASYNC_MAX_RETRIES);
        backoffMillis = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis();
        budget = AsyncBudget.batchBudget(conf);
        rowCap = new AtomicInteger(Integer.MAX_VALUE);
        tasks = new ConcurrentHashMap<>();
        int threads = conf.get(JobOptions.ASYNC_THREADS);
        AtomicInteger n = new AtomicInteger();
        // Flink admits at most async.capacity batches, and a batch its timeout completed leaves the queue
        // (timeout() removes it), so a queue of that size never overflows.
        executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(Math.max(1, conf.get(JobOptions.ASYNC_CAPACITY))), r -> {
                    Thread t = new Thread(r, "labelstream-classify-" + subtask + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });

        MetricGroup g = Metrics.group(operatorGroup);
        recordsOut = Metrics.counter(g, Metrics.RECORDS_OUT);
        actions = Metrics.countersByLabel(g, Metrics.ACTION, ModerationAction.class, Metrics.ACTIONS);
        deadLetters = DecodeFunction.deadLetterCounters(g);
        retries = Metrics.counter(g, Metrics.BATCH_RETRIES);
        failures = Metrics.counter(g, Metrics.BATCH_FAILURES);
        timeouts = Metrics.counter(g, Metrics.BATCH_TIMEOUTS);
        inFlight = new AtomicInteger();
        g.gauge(Metrics.IN_FLIGHT_BATCHES, inFlight::get);
        int maxRows = conf.get(BatchingOptions.MAX_RECORDS);
        g.gauge(Metrics.ROWS_PER_CALL_CAP, () -> Math.min(rowCap.get(), maxRows));
        inferenceLatency = Metrics.histogram(g, Metrics.INFERENCE_LATENCY_MS);
        tokenizeLatency = Metrics.histogram(g, Metrics.TOKENIZE_LATENCY_MS);
        paddedTokens = Metrics.histogram(g, Metrics.PADDED_TOKENS);
        realTokens = Metrics.histogram(g, Metrics.REAL_TOKENS);
        modelCalls = Metrics.histogram(g, Metrics.MODEL_CALLS);
        endToEndLatency = Metrics.histogram(g, Metrics.END_TO_END_LATENCY_MS);
        lastPaddingEfficiencyPpm = new AtomicLong(1_000_000);
        g.gauge(Metrics.PADDING_EFFICIENCY, () -> lastPaddingEfficiencyPpm.get() / 1e6);
        g.addGroup(Metrics.PROVIDER, classifier.provider()).gauge(Metrics.EXECUTION_PROVIDER, () -> 1);
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
        asyncInvoke(batch, decider, null, result);
    }

    /**
     * The same, classified by the promoted model whose bundle is {@code modelDir} (null: the configured model):
     * the model the batch was batched with ({@link PolicyClassifyFunction}).
     */
    void asyncInvoke(List<InputEvent> batch, Decider decider, String modelDir, ResultFuture<Outcome> result) {
        Task task = new Task(batch, decider, modelDir, result);
        inFlight.incrementAndGet();
        tasks.put(result, task);
        try {
            executor.execute(task); // never blocks: the queue has room for every batch Flink admits
        } catch (RejectedExecutionException e) {
            // Only once close() has shut the executor down: the task is being cancelled or failed over. Not a dead
            // letter: the batch is in the operator's last checkpoint and is replayed from it after the restart;
            // completing exceptionally makes sure it cannot be mistaken for done.
            tasks.remove(result);
            inFlight.decrementAndGet();
            result.completeExceptionally(new IllegalStateException("the classify stage is closing; the batch of "
                    + batch.size() + " is replayed from the last checkpoint", e));
        }
    }

    /**
     * Flink's timeout: a call did not stop at its deadline (the worker's own budget ends first). Cancels the batch's
     * task (out of the queue if not started; if running, it emits nothing) and sends the batch to dead letters.
     */
    @Override
    public void timeout(List<InputEvent> batch, ResultFuture<Outcome> result) {
        Task task = tasks.get(result);
        timeout(batch, task == null ? null : task.decider, result);
    }

    /** {@link #timeout(List, ResultFuture)} for a batch decided under {@code decider}. */
    void timeout(List<InputEvent> batch, Decider decider, ResultFuture<Outcome> result) {
        Task task = tasks.get(result);
        if (task == null) {
            return; // completed meanwhile
        }
        task.cancelled = true;
        boolean queued = executor.remove(task);
        Tally tally = new Tally();
        List<Outcome> out = fail(batch, ErrorKind.INFERENCE_TIMEOUT, "no result within the async operator's timeout"
                + " (" + AsyncBudget.operatorTimeout(conf).toMillis() + " ms" + (queued ? ", still queued" : "") + ")", tally, decider,
                task.by == null ? classifier : task.by);
        if (task.complete(out, tally)) {
            timeouts.inc();
            LOG.warn("The async operator timed out a batch of {} ({}); its records are dead letters", batch.size(),
                    queued ? "it had not started" : "its call did not stop at its deadline");
        }
    }

    /** One batch in flight: runs on a worker, completes its result future once (worker or timeout, first wins). */
    private final class Task implements Runnable {
        final List<InputEvent> batch;
        /** The policy the batch is decided under; null for the classifier's own thresholds. */
        final Decider decider;
        final ResultFuture<Outcome> result;
        /** The promoted model's bundle the batch names; null: the configured model. */
        final String modelDir;
        /** The classifier of the batch's model, set when the worker starts it. */
        volatile Classifier by;
        /** Set by the first completion; a later one is discarded and counts nothing. */
        final AtomicBoolean completed = new AtomicBoolean();
        /** Set by {@link #timeout}: a worker that has not started skips the batch, one running stops at its next call. */
        volatile boolean cancelled;

        Task(List<InputEvent> batch, Decider decider, String modelDir, ResultFuture<Outcome> result) {
            this.batch = batch;
            this.decider = decider;
            this.modelDir = modelDir;
            this.result = result;
        }

        @Override
        public void run() {
            if (cancelled) {
                return;
            }
            Tally tally = new Tally();
            List<Outcome> out;
            by = classifierFor(modelDir);
            try {
                out = classifyBatch(this, tally);
            } catch (InterruptedException e) {
                // close() interrupted the worker: the task is being cancelled or failed over, and the batch is in
                // the last checkpoint. Complete nothing; a dead letter here would be a record lost to a shutdown.
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                // Never fail the job for one batch: a bug here must still end in dead letters.
                LOG.error("Unexpected error classifying a batch of {}; sending it to dead letters", batch.size(), t);
                tally = new Tally();
                out = fail(batch, ErrorKind.INFERENCE_FAILED, t.toString(), tally, decider, by);
            }
            if (out != null && !complete(out, tally)) {
                LOG.debug("Discarded the late result of a batch of {} that the async operator timed out",
                        batch.size());
            }
        }

        /** Completes the batch unless it already was; counts its records only if this completion won. */
        boolean complete(List<Outcome> out, Tally tally) {
            if (!completed.compareAndSet(false, true)) {
                return false;
            }
            tasks.remove(result);
            tally.count();
            inFlight.decrementAndGet();
            result.complete(out);
            return true;
        }
    }

    /** What a batch's outcomes add to the counters: applied once, by the completion that wins. */
    private final class Tally {
        private long out;
        private final Map<ModerationAction, Long> byAction = new EnumMap<>(ModerationAction.class);
        private final Map<ErrorKind, Long> byKind = new EnumMap<>(ErrorKind.class);

        void action(ModerationAction a) {
            out++;
            byAction.merge(a, 1L, Long::sum);
        }

        void deadLetters(ErrorKind kind, int n) {
            byKind.merge(kind, (long) n, Long::sum);
        }

        void count() {
            recordsOut.inc(out);
            byAction.forEach((a, n) -> actions.get(a).inc(n));
            byKind.forEach((k, n) -> deadLetters.get(k).inc(n));
        }
    }

    /** Rows {@code [from, to)} of a batch; {@code isolating}: after a failure, so halves get one try each. */
    private record Part(int from, int to, boolean isolating) {
        int size() {
            return to - from;
        }
    }

    /**
     * Classifies {@code task}'s batch in calls of at most the row cap: each call tried as the class comment says,
     * parts that time out halved, parts that fail isolated. Returns one outcome per input in input order, or null
     * when the task was cancelled (its result is Flink's timeout's).
     */
    private List<Outcome> classifyBatch(Task task, Tally tally) throws InterruptedException {
        List<InputEvent> batch = task.batch;
        Outcome[] out = new Outcome[batch.size()];
        long budgetEnd = System.nanoTime() + budget.toNanos();
        Deque<Part> work = new ArrayDeque<>();
        work.add(new Part(0, batch.size(), false));
        while (!work.isEmpty()) {
            if (task.cancelled) {
                return null;
            }
            Part p = work.pollFirst();
            int cap = rowCap.get();
            if (p.size() > cap) {
                work.addFirst(new Part(p.from() + cap, p.to(), p.isolating()));
                work.addFirst(new Part(p.from(), p.from() + cap, p.isolating()));
                continue;
            }
            List<InputEvent> rows = batch.subList(p.from(), p.to());
            boolean alone = rows.size() == 1;
            // A part of several records after a failure gets one try (the batch had its retries); a part that timed
            // out is split, not retried: a call of the same size would time out again.
            int tries = p.isolating() && !alone ? 1 : maxRetries + 1;
            ClassificationException last = null;
            int timedOut = 0;
            boolean done = false;
            for (int attempt = 0; attempt < tries && !done; attempt++) {
                if (attempt > 0) {
                    retries.inc();
                    Thread.sleep(Math.min(backoffMillis << (attempt - 1),
                            Math.max(0, (budgetEnd - System.nanoTime()) / 1_000_000)));
                    if (task.cancelled) {
                        return null;
                    }
                }
                long left = budgetEnd - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                Duration deadline = left < attemptTimeout.toNanos() ? Duration.ofNanos(left) : attemptTimeout;
                long start = System.nanoTime();
                try {
                    List<Outcome> got = classified(rows, task.by.classify(requests(rows), deadline, task.decider), tally,
                            task.by, task.decider);
                    for (int i = 0; i < got.size(); i++) {
                        out[p.from() + i] = got.get(i);
                    }
                    grow(rows.size(), System.nanoTime() - start);
                    done = true;
                } catch (ClassificationException e) {
                    last = e;
                    LOG.warn("Attempt {} of {} at {} record{} failed: {}", attempt + 1, tries, rows.size(),
                            alone ? "" : "s", e.getMessage());
                    if (e.timedOut()) {
                        timeouts.inc();
                        timedOut++;
                        shrink(rows.size());
                        if (!alone) {
                            break;
                        }
                    } else if (p.isolating() && alone) {
                        break; // a record alone after its batch failed: once, as before
                    }
                }
            }
            if (done) {
                continue;
            }
            if (System.nanoTime() - budgetEnd >= 0) {
                // The batch's budget is spent (many records that each loop): what is left times out, bounded.
                fill(out, task, p.from(), p.to(), ErrorKind.INFERENCE_TIMEOUT, "the batch's time budget ("
                        + budget.toMillis() + " ms) was spent" + (last == null ? "" : ": " + last.getMessage()), tally);
                for (Part rest : work) {
                    fill(out, task, rest.from(), rest.to(), ErrorKind.INFERENCE_TIMEOUT, "the batch's time budget ("
                            + budget.toMillis() + " ms) was spent before this record's turn", tally);
                }
                break;
            }
            if (alone) {
                boolean timeout = last.timedOut();
                fill(out, task, p.from(), p.to(), timeout ? ErrorKind.INFERENCE_TIMEOUT : ErrorKind.INFERENCE_FAILED,
                        timeout ? "timed out " + timedOut + " times alone (async.timeout=" + attemptTimeout + "): "
                                + last.getMessage() : last.getMessage(), tally);
                continue;
            }
            int mid = p.from() + rows.size() / 2;
            if (last.timedOut()) {
                // Too big for the deadline, or a record in it loops: halve (the cap was halved too).
                work.addFirst(new Part(mid, p.to(), p.isolating()));
                work.addFirst(new Part(p.from(), mid, p.isolating()));
            } else if (!p.isolating()) {
                failures.inc();
                work.addFirst(new Part(mid, p.to(), true));
                work.addFirst(new Part(p.from(), mid, true));
            } else {
                for (int i = p.to() - 1; i >= p.from(); i--) {
                    work.addFirst(new Part(i, i + 1, true));
                }
            }
        }
        return Arrays.asList(out);
    }

    private void fill(Outcome[] out, Task task, int from, int to, ErrorKind kind, String message, Tally tally) {
        List<Outcome> failed = fail(task.batch.subList(from, to), kind, message, tally, task.decider, task.by);
        for (int i = 0; i < failed.size(); i++) {
            out[from + i] = failed.get(i);
        }
    }

    /** A call of {@code rows} timed out: later calls get at most half as many. */
    private void shrink(int rows) {
        int to = Math.max(1, rows / 2);
        int before = rowCap.getAndUpdate(c -> Math.min(c, to));
        if (to < before) {
            LOG.info("A call of {} rows timed out: at most {} rows per call from now on", rows, to);
        }
    }

    /** A call at the cap finished within a quarter of the deadline: allow a quarter more rows (at least one). */
    private void grow(int rows, long nanos) {
        if (nanos < attemptTimeout.toNanos() / 4) {
            rowCap.updateAndGet(c -> rows >= c && c < Integer.MAX_VALUE / 2 ? c + Math.max(1, c / 4) : c);
        }
    }

    private static List<Classifier.Request> requests(List<InputEvent> batch) {
        List<Classifier.Request> in = new ArrayList<>(batch.size());
        for (InputEvent e : batch) {
            in.add(ClassifiedEvents.request(e));
        }
        return in;
    }

    /**
     * The classifier of a batch's model: the configured one, or a promoted one, opened the first time a batch names
     * it (its checks passed in the batcher, on the same files). Should it not open on this TaskManager (a path not
     * mounted here), the configured model classifies the batch, its decisions say so by their model version, and
     * the error is logged: one subtask cannot veto a promotion the others have already applied.
     */
    private Classifier classifierFor(String modelDir) {
        if (modelDir == null) {
            return classifier;
        }
        try {
            return promoted.computeIfAbsent(modelDir, dir -> {
                Classifier c = Classifier.open(JobSettings.withModel(resolved, dir));
                LOG.info("Opened the promoted model {} ({}) on {}", c.model().key(), dir, c.provider());
                return c;
            });
        } catch (RuntimeException e) {
            LOG.error("Cannot open the promoted model at {} on this TaskManager ({}); the configured {} classifies"
                    + " this batch. Make the bundle visible at that path on every TaskManager", modelDir,
                    e.getMessage(), classifier.model().key());
            return classifier;
        }
    }

    private List<Outcome> classified(List<InputEvent> batch, Decisions decisions, Tally tally, Classifier by,
            Decider decider) {
        String policyJson = shadowSample != null && decider instanceof PolicyDecider p ? p.policy().toJson() : null;
        ClassifiedBatch r = decisions.batch();
        float millis = decisions.inferenceMillis();
        inferenceLatency.update(Math.round(millis));
        tokenizeLatency.update(Math.round(r.tokenizeNanos() / 1e6));
        paddedTokens.update(r.paddedTokens());
        realTokens.update(r.realTokens());
        modelCalls.update(r.modelCalls());
        lastPaddingEfficiencyPpm.set(Math.round(r.paddingEfficiency() * 1e6));
        long now = System.currentTimeMillis();
        ModelIdentity m = by.model();
        List<Outcome> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            InputEvent in = batch.get(i);
            Decision d = decisions.decisions().get(i);
            OutboundRecord record = ClassifiedEvents.toRecord(in, ClassifiedEvents.build(in, d, millis, now),
                    outputFormat);
            ShadowInput shadow = shadowSample != null && shadowSample.sampled(in.source())
                    ? new ShadowInput(in, d.decisionId(), m.key(), d.labels(), d.scores(), d.action().name(),
                            policyJson) : null;
            out.add(new Outcome(record, drift ? DriftObservation.classified(m.name(), m.version(), m.multiLabel(),
                    d.classification(), in.source().timestamp(), now, driftEmbeddings,
                    by == classifier ? null : m.dir()) : null, shadow));
            tally.action(d.action());
            long produced = in.source().timestamp();
            if (produced >= 0) {
                endToEndLatency.update(Math.max(0, now - produced));
            }
        }
        return out;
    }

    private List<Outcome> fail(List<InputEvent> batch, ErrorKind kind, String message, Tally tally,
            Decider decider, Classifier by) {
        // A policy document's failure policy wins over classification.failure-policy.
        JobOptions.FailurePolicy failurePolicy = decider == null || decider.failurePolicy() == null
                ? this.failurePolicy : JobOptions.FailurePolicy.valueOf(decider.failurePolicy());
        List<Outcome> out = new ArrayList<>(batch.size());
        long failedAt = System.currentTimeMillis();
        if (failurePolicy == JobOptions.FailurePolicy.DEAD_LETTER) {
            for (InputEvent e : batch) {
                out.add(new Outcome(DeadLetters.of(e.source(), kind, message, e.id()), unclassified(e, failedAt, by)));
            }
            tally.deadLetters(kind, batch.size());
            return out;
        }
        ModerationAction action = failurePolicy == JobOptions.FailurePolicy.FAIL_OPEN
                ? ModerationAction.ALLOW : ModerationAction.REVIEW;
        String reason = "unclassified (" + kind + ": " + message + "); " + failurePolicy + " decided";
        long now = System.currentTimeMillis();
        for (InputEvent e : batch) {
            Decision d = by.unclassified(ClassifiedEvents.request(e), action, kind.name(), reason, decider);
            out.add(new Outcome(ClassifiedEvents.toRecord(e, ClassifiedEvents.build(e, d, 0f, now), outputFormat),
                    unclassified(e, now, by)));
            tally.action(action);
        }
        return out;
    }

    /** Inputs that were not classified count in the drift monitor's dead-letter rate, whatever the policy. */
    private DriftObservation unclassified(InputEvent e, long now, Classifier by) {
        ModelIdentity m = by.model();
        return drift ? DriftObservation.unclassified(m.name(), m.version(), e.source().timestamp(), now) : null;
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
        if (promoted != null) {
            promoted.values().forEach(Classifier::close);
        }
    }
}
