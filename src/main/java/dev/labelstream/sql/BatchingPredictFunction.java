package dev.labelstream.sql;

import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.metrics.Metrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ML_PREDICT's async function for a labelstream model: coalesces the rows Flink has in flight
 * ({@code max-concurrent-operations}) into micro-batches and completes each row's future with its own result.
 *
 * <p>A batch is flushed when it holds {@link ModelSpec#batchSize} rows, when its estimated tokens reach {@code
 * batching.max-tokens}, or when its first row is {@code batching.linger} old (a max-age armed by the first row;
 * a timer left from a flushed batch never flushes the next one). Batches run on {@code async.threads} worker
 * threads through {@link SqlClassifier}, with the DataStream job's attempts: each bounded by {@code
 * async.timeout} through ONNX Runtime's terminate flag, retried with backoff, and a batch that still fails is
 * classified row by row, so a poison row takes only itself down.
 *
 * <p>Contract: every future completes normally, never exceptionally, and before ML_PREDICT's {@code timeout}
 * (Flink's runner fails the job on a timeout or an exceptional future): a row the model cannot classify gets
 * its error columns, and a watchdog completes a row that is about to run out of time with {@code
 * INFERENCE_TIMEOUT} first. Nothing here is state: Flink's async operator checkpoints the rows in flight and
 * replays them on recovery.
 *
 * <p>Public only because the planner's generated code instantiates it; created by the provider alone.
 *
 * <p>Metrics ({@code labelstream} group, names shared with the DataStream job): batchSize, batchesFlushed,
 * batchQueueTimeMs, inferenceLatencyMs, recordsOut, unclassified per {@code reason}, batchRetries.
 */
public final class BatchingPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BatchingPredictFunction.class);

    /** The model as planned. */
    private final ModelSpec spec;
    /** Rows per batch: the configured size, capped at what Flink keeps in flight. */
    private final int batchSize;
    /** ML_PREDICT's timeout: no row's future may stay open longer. */
    private final Duration flinkTimeout;

    private transient SqlClassifier classifier;
    private transient ThreadPoolExecutor workers;
    /** Linger timers and per-row watchdogs. */
    private transient ScheduledThreadPoolExecutor timer;
    private transient BatchingSettings batching;
    private transient Duration attemptTimeout;
    private transient int maxRetries;
    private transient long backoffMillis;
    /** How long before ML_PREDICT's timeout a row's watchdog completes it. */
    private transient long guardNanos;
    /** The batch being filled; guarded by {@code this}. */
    private transient List<Pending> open;
    private transient long openTokens;
    private transient long openSinceNanos;
    /** Counts flushed batches, so a linger timer can tell whether its batch is still the open one. */
    private transient long generation;
    private transient ScheduledFuture<?> lingerTimer;
    private transient Histogram batchSizes;
    private transient Counter batchesFlushed;
    private transient Histogram queueTime;
    private transient Histogram inferenceLatency;
    private transient Counter recordsOut;
    private transient Counter retries;
    private transient java.util.Map<ErrorKind, Counter> unclassified;

    /** One row waiting for its result. */
    private static final class Pending {
        final TextInput input;
        final int tokens;
        final long deadlineNanos;
        final CompletableFuture<Collection<RowData>> future = new CompletableFuture<>();
        ScheduledFuture<?> watchdog;

        Pending(TextInput input, int tokens, long deadlineNanos) {
            this.input = input;
            this.tokens = tokens;
            this.deadlineNanos = deadlineNanos;
        }
    }

    BatchingPredictFunction(ModelSpec spec, int batchSize, Duration flinkTimeout) {
        this.spec = spec;
        this.batchSize = batchSize;
        this.flinkTimeout = flinkTimeout;
    }

    @Override
    public void open(FunctionContext context) {
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        classifier = SqlClassifier.open(spec.conf(), subtask);
        batching = spec.batching();
        attemptTimeout = spec.attemptTimeout();
        maxRetries = spec.maxRetries();
        backoffMillis = spec.backoff().toMillis();
        // A margin for the time between Flink registering the row and calling asyncPredict, and for completing.
        guardNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(50),
                Math.min(TimeUnit.SECONDS.toNanos(1), flinkTimeout.toNanos() / 10));
        open = new ArrayList<>(batchSize);
        int threads = spec.threads();
        AtomicInteger n = new AtomicInteger();
        // Unbounded queue, bounded in fact: Flink admits max-concurrent-operations rows, so at most that many batches.
        workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> daemon(r, "labelstream-sql-classify-" + subtask + "-" + n.incrementAndGet()));
        timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "labelstream-sql-timer-" + subtask));
        timer.setRemoveOnCancelPolicy(true);

        MetricGroup g = Metrics.group(context.getMetricGroup());
        batchSizes = Metrics.histogram(g, Metrics.BATCH_SIZE);
        batchesFlushed = Metrics.counter(g, Metrics.BATCHES_FLUSHED);
        queueTime = Metrics.histogram(g, Metrics.BATCH_QUEUE_TIME_MS);
        inferenceLatency = Metrics.histogram(g, Metrics.INFERENCE_LATENCY_MS);
        recordsOut = Metrics.counter(g, Metrics.RECORDS_OUT);
        retries = Metrics.counter(g, Metrics.BATCH_RETRIES);
        unclassified = new java.util.EnumMap<>(ErrorKind.class);
        for (ErrorKind k : List.of(ErrorKind.MISSING_FIELD, ErrorKind.EMPTY_TEXT, ErrorKind.INFERENCE_FAILED,
                ErrorKind.INFERENCE_TIMEOUT)) {
            unclassified.put(k, Metrics.counter(g.addGroup(Metrics.REASON, k.name()), Metrics.UNCLASSIFIED));
        }
        g.addGroup(Metrics.PROVIDER, classifier.provider()).gauge(Metrics.EXECUTION_PROVIDER, () -> 1);
        LOG.info("ML_PREDICT with labelstream on {}: batches of up to {} rows, linger {} ms, timeout {}",
                classifier.provider(), batchSize, batching.lingerMillis(), flinkTimeout);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData features) {
        // Read the strings now: with object reuse the row may be overwritten once this call returns.
        String text = features.isNullAt(0) ? null : features.getString(0).toString();
        String pair = features.getArity() > 1 && !features.isNullAt(1) ? features.getString(1).toString() : null;
        if (text == null || text.isBlank()) {
            ErrorKind kind = text == null ? ErrorKind.MISSING_FIELD : ErrorKind.EMPTY_TEXT;
            unclassified.get(kind).inc();
            recordsOut.inc();
            return CompletableFuture.completedFuture(List.of(spec.row(classifier.unclassified(kind,
                    text == null ? "the text column is NULL" : "the text is empty or only whitespace"))));
        }
        long now = System.nanoTime();
        Pending p = new Pending(new TextInput(text, pair), spec.estimateTokens(text, pair),
                now + flinkTimeout.toNanos() - guardNanos);
        p.watchdog = timer.schedule(() -> complete(p, null, ErrorKind.INFERENCE_TIMEOUT, "no result within"
                + " ML_PREDICT's timeout (" + flinkTimeout.toMillis() + " ms): raise 'timeout', or lower"
                + " batching.linger / max-concurrent-operations"), p.deadlineNanos - now, TimeUnit.NANOSECONDS);
        List<Pending> full = null;
        synchronized (this) {
            if (open.isEmpty()) {
                openSinceNanos = now;
                long gen = generation;
                lingerTimer = timer.schedule(() -> flushOnLinger(gen), batching.lingerMillis(), TimeUnit.MILLISECONDS);
            }
            open.add(p);
            openTokens += p.tokens;
            if (open.size() >= batchSize || openTokens >= batching.maxTokens()) {
                full = takeOpen();
            }
        }
        if (full != null) {
            submit(full);
        }
        return p.future;
    }

    /** Takes the open batch; caller holds the lock. */
    private List<Pending> takeOpen() {
        List<Pending> b = open;
        queueTime.update(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openSinceNanos));
        open = new ArrayList<>(batchSize);
        openTokens = 0;
        generation++;
        if (lingerTimer != null) {
            lingerTimer.cancel(false);
            lingerTimer = null;
        }
        return b;
    }

    private void flushOnLinger(long gen) {
        List<Pending> b;
        synchronized (this) {
            if (gen != generation || open.isEmpty()) {
                return; // that batch was flushed already; this timer belongs to no open batch
            }
            b = takeOpen();
        }
        submit(b);
    }

    private void submit(List<Pending> batch) {
        batchSizes.update(batch.size());
        batchesFlushed.inc();
        try {
            workers.execute(() -> run(batch));
        } catch (RejectedExecutionException e) {
            // Only when closing.
            for (Pending p : batch) {
                complete(p, null, ErrorKind.INFERENCE_FAILED, "the classifier is shutting down");
            }
        }
    }

    private void run(List<Pending> batch) {
        try {
            classifyWithRetries(batch);
        } catch (Throwable t) {
            // Never an exceptional future: a bug here still ends in error columns.
            LOG.error("Unexpected error classifying a batch of {} rows", batch.size(), t);
            for (Pending p : batch) {
                complete(p, null, ErrorKind.INFERENCE_FAILED, t.toString());
            }
        }
    }

    private void classifyWithRetries(List<Pending> batch) throws InterruptedException {
        ClassificationException last = null;
        List<Pending> live = batch;
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            if (attempt > 0) {
                retries.inc();
                Thread.sleep(backoffMillis << (attempt - 1));
            }
            live = live.stream().filter(p -> !p.future.isDone()).toList();
            Duration timeout = timeLeft(live);
            if (live.isEmpty() || timeout == null) {
                return; // the watchdogs have completed (or are completing) them
            }
            try {
                List<SqlClassifier.Decision> d = classifier.classify(inputs(live), timeout);
                for (int i = 0; i < live.size(); i++) {
                    complete(live.get(i), d.get(i), null, null);
                    inferenceLatency.update(Math.round(d.get(i).inferenceLatencyMs()));
                }
                return;
            } catch (ClassificationException e) {
                last = e;
                LOG.warn("Attempt {} of {} at a batch of {} rows failed: {}", attempt + 1, maxRetries + 1, live.size(),
                        e.getMessage());
            }
        }
        if (last.timedOut()) {
            for (Pending p : live) {
                complete(p, null, ErrorKind.INFERENCE_TIMEOUT, "timed out " + (maxRetries + 1) + " times"
                        + " (async.timeout=" + attemptTimeout.toMillis() + " ms): " + last.getMessage());
            }
            return;
        }
        if (live.size() == 1) {
            complete(live.get(0), null, ErrorKind.INFERENCE_FAILED, last.getMessage());
            return;
        }
        // Isolate the row(s) that fail: one by one, once each.
        for (Pending p : live) {
            Duration timeout = timeLeft(List.of(p));
            if (p.future.isDone() || timeout == null) {
                continue;
            }
            try {
                complete(p, classifier.classify(List.of(p.input), timeout).get(0), null, null);
            } catch (ClassificationException e) {
                complete(p, null, e.timedOut() ? ErrorKind.INFERENCE_TIMEOUT : ErrorKind.INFERENCE_FAILED,
                        e.getMessage());
            }
        }
    }

    /** The attempt timeout, cut to what the earliest row has left; null when a row has no time left. */
    private Duration timeLeft(List<Pending> rows) {
        long earliest = Long.MAX_VALUE;
        for (Pending p : rows) {
            earliest = Math.min(earliest, p.deadlineNanos);
        }
        long left = earliest - System.nanoTime();
        if (left <= 0) {
            return null;
        }
        return left < attemptTimeout.toNanos() ? Duration.ofNanos(left) : attemptTimeout;
    }

    private static List<TextInput> inputs(List<Pending> rows) {
        List<TextInput> in = new ArrayList<>(rows.size());
        for (Pending p : rows) {
            in.add(p.input);
        }
        return in;
    }

    /** Completes {@code p} once: with {@code d}, or with the error columns of {@code kind}. */
    private void complete(Pending p, SqlClassifier.Decision d, ErrorKind kind, String message) {
        if (p.future.isDone()) {
            return;
        }
        RowData row = spec.row(d != null ? d : classifier.unclassified(kind, message));
        if (p.future.complete(List.of(row))) {
            if (p.watchdog != null) {
                p.watchdog.cancel(false);
            }
            recordsOut.inc();
            if (d == null) {
                unclassified.get(kind).inc();
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (workers != null) {
            workers.shutdownNow();
            // The classifier's close waits for a run still inside ONNX Runtime; the shared session outlives it.
            workers.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (classifier != null) {
            classifier.close();
        }
    }
}
