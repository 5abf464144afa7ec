package dev.labelstream.job;

import dev.labelstream.settings.AsyncBudget;
import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.classify.Classifier;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.ModelFamily;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.KafkaHeader;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.Thresholds;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.metrics.Metrics;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The async classify stage alone, on a stand-in engine and a fake {@link ResultFuture}: retries, isolation of a
 * poison record, and what each failure policy makes of records that cannot be classified. The decisions are the
 * real classification core's.
 */
class ClassifyBatchFunctionTest {
    static final List<String> LABELS = List.of("ham", "spam");
    static final ModelIdentity MODEL = new ModelIdentity("/models/fake", "fake", "1", "bert", ModelFamily.ENCODER,
            LABELS, false, 128);
    static final ModerationPolicy POLICY = new ModerationPolicy(LABELS, Map.of("spam", new Thresholds(0.5, 0.9)),
            "p1");

    private ClassifyBatchFunction function;

    @AfterEach
    void close() throws Exception {
        if (function != null) {
            function.close();
        }
    }

    /** Scores spam 0.95 for texts containing "win", else 0.1; fails on "poison" and on the first calls. */
    static final class Engine implements Classifier.Engine {
        final AtomicInteger calls = new AtomicInteger();
        final int failFirst;
        final boolean timeOut;

        Engine(int failFirst, boolean timeOut) {
            this.failFirst = failFirst;
            this.timeOut = timeOut;
        }

        @Override
        public ClassifiedBatch classify(List<TextInput> inputs, Duration deadline) {
            int call = calls.incrementAndGet();
            if (call <= failFirst) {
                throw new ClassificationException("transient failure " + call, null, timeOut);
            }
            List<Classification> out = new ArrayList<>();
            for (TextInput in : inputs) {
                if (in.text().contains("poison")) {
                    throw new ClassificationException("cannot tokenize " + in.text(), null);
                }
                float spam = in.text().contains("win") ? 0.95f : 0.1f;
                float[] scores = {1 - spam, spam};
                out.add(new Classification(scores, spam > 0.5f ? 1 : 0, false, 7, 0, 1, null, "CPU"));
            }
            return new ClassifiedBatch(out, 1, 7L * inputs.size(), 16L * inputs.size(), 1000, 2000, "CPU");
        }
    }

    /** Collects one completion; fails the test when completed twice or exceptionally. */
    static final class Result implements ResultFuture<Outcome> {
        final CompletableFuture<List<Outcome>> done = new CompletableFuture<>();

        @Override
        public void complete(Collection<Outcome> result) {
            assertThat(done.complete(new ArrayList<>(result))).as("completed once").isTrue();
        }

        @Override
        public void completeExceptionally(Throwable error) {
            done.completeExceptionally(new AssertionError("the stage never completes exceptionally", error));
        }

        @Override
        public void complete(CollectionSupplier<Outcome> supplier) {
            try {
                complete(supplier.get());
            } catch (Exception e) {
                completeExceptionally(e);
            }
        }

        List<Outcome> get() throws Exception {
            return done.get(30, TimeUnit.SECONDS);
        }
    }

    static Configuration conf(JobOptions.FailurePolicy policy, int retries) {
        Configuration c = new Configuration();
        c.set(JobOptions.FAILURE_POLICY, policy);
        c.set(JobOptions.ASYNC_MAX_RETRIES, retries);
        c.set(JobOptions.ASYNC_RETRY_BACKOFF, Duration.ofMillis(1));
        c.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.AVRO);
        c.set(DriftOptions.ENABLED, true);
        return c;
    }

    ClassifyBatchFunction open(Configuration conf, Engine engine) {
        return open(conf, (Classifier.Engine) engine);
    }

    ClassifyBatchFunction open(Configuration conf, Classifier.Engine engine) {
        function = new ClassifyBatchFunction(conf, MODEL, resolved -> Classifier.of(MODEL, POLICY, "CPU", engine));
        function.open(metrics, 0);
        return function;
    }

    /** The metrics the function registered, by dotted path below the operator group. */
    final RecordingGroup metrics = new RecordingGroup(new ConcurrentHashMap<>(), "");

    /** A metric group that keeps what is registered in it and its subgroups, by path ("labelstream.recordsOut"). */
    static final class RecordingGroup extends UnregisteredMetricsGroup {
        final Map<String, Object> registered;
        final String prefix;

        RecordingGroup(Map<String, Object> registered, String prefix) {
            this.registered = registered;
            this.prefix = prefix;
        }

        @Override
        public <C extends Counter> C counter(String name, C counter) {
            registered.put(prefix + name, counter);
            return counter;
        }

        @Override
        public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
            registered.put(prefix + name, gauge);
            return gauge;
        }

        @Override
        public MetricGroup addGroup(String name) {
            return new RecordingGroup(registered, prefix + name + ".");
        }

        @Override
        public MetricGroup addGroup(String key, String value) {
            return new RecordingGroup(registered, prefix + key + "." + value + ".");
        }

        long count(String name) {
            return ((Counter) registered.get(Metrics.GROUP + "." + name)).getCount();
        }

        long count(String label, String value, String name) {
            return ((Counter) registered.get(Metrics.GROUP + "." + label + "." + value + "." + name)).getCount();
        }

        Object gauge(String name) {
            return ((Gauge<?>) registered.get(Metrics.GROUP + "." + name)).getValue();
        }
    }

    static List<InputEvent> batch(String... texts) {
        List<InputEvent> out = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            byte[] value = texts[i].getBytes(StandardCharsets.UTF_8);
            out.add(new InputEvent(new SourceRecord("in", 0, 100 + i, 1000L, null, value, List.of()), "id-" + i,
                    texts[i], null, null, null));
        }
        return out;
    }

    static List<Outcome> run(ClassifyBatchFunction f, List<InputEvent> batch) throws Exception {
        Result r = new Result();
        f.asyncInvoke(batch, r);
        List<Outcome> out = r.get();
        assertThat(out).as("one outcome per input").hasSize(batch.size());
        return out;
    }

    static ClassifiedEvent event(Outcome o) {
        assertThat(o.record().destination()).isEqualTo(OutboundRecord.Destination.CLASSIFIED);
        return ClassifiedEvents.decode(o.record().value(), KafkaOptions.OutputFormat.AVRO);
    }

    static String errorKind(Outcome o) {
        assertThat(o.record().destination()).isEqualTo(OutboundRecord.Destination.DEAD_LETTER);
        for (KafkaHeader h : o.record().headers()) {
            if (h.key().equals(DeadLetters.ERROR_KIND_HEADER)) {
                return new String(h.value(), StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError("dead letter without " + DeadLetters.ERROR_KIND_HEADER);
    }

    @Test
    void retriesThenSucceeds() throws Exception {
        Engine engine = new Engine(2, false);
        List<Outcome> out = run(open(conf(JobOptions.FailurePolicy.DEAD_LETTER, 2), engine),
                batch("win a cruise", "lunch at noon?"));
        assertThat(engine.calls).hasValue(3);
        ClassifiedEvent spam = event(out.get(0));
        assertThat(spam.getClassified()).isTrue();
        assertThat(spam.getTopLabel()).isEqualTo("spam");
        assertThat(spam.getAction()).isEqualTo(ModerationAction.BLOCK);
        assertThat(spam.getActionReason()).contains("spam").contains("block");
        assertThat(spam.getModelName()).isEqualTo("fake");
        assertThat(spam.getModelVersion()).isEqualTo("1");
        assertThat(spam.getPolicyVersion()).isEqualTo("p1");
        assertThat(spam.getExecutionProvider()).isEqualTo("CPU");
        assertThat(spam.getTokenCount()).isEqualTo(7);
        assertThat(spam.getSource().getOffset()).isEqualTo(100);
        assertThat(spam.getDecisionId()).isEqualTo(dev.labelstream.classify.Decision.id("in/0/100", "fake", "1",
                "p1"));
        ClassifiedEvent ham = event(out.get(1));
        assertThat(ham.getAction()).isEqualTo(ModerationAction.ALLOW);
        assertThat(ham.getSource().getOffset()).isEqualTo(101);
        assertThat(out).allSatisfy(o -> assertThat(o.observation()).isNotNull());
        assertThat(out.get(0).observation().modelKey()).isEqualTo(MODEL.key());
    }

    @Test
    void aPoisonRecordTakesOnlyItselfToDeadLetters() throws Exception {
        Engine engine = new Engine(0, false);
        List<Outcome> out = run(open(conf(JobOptions.FailurePolicy.DEAD_LETTER, 1), engine),
                batch("win a cruise", "poison pill", "lunch at noon?"));
        // two attempts at the batch, one at each half ("win" | "poison", "lunch"), then one call per record of
        // the half that failed
        assertThat(engine.calls).hasValue(2 + 2 + 2);
        assertThat(event(out.get(0)).getAction()).isEqualTo(ModerationAction.BLOCK);
        assertThat(errorKind(out.get(1))).isEqualTo("INFERENCE_FAILED");
        assertThat(event(out.get(2)).getAction()).isEqualTo(ModerationAction.ALLOW);
        // the dead letter still counts in the drift monitor's dead-letter rate
        assertThat(out.get(1).observation()).isNotNull();
    }

    @Test
    void timeoutsOnEveryAttemptAreDeadLettersOfKindTimeout() throws Exception {
        Engine engine = new Engine(Integer.MAX_VALUE, true);
        List<Outcome> out = run(open(conf(JobOptions.FailurePolicy.DEAD_LETTER, 2), engine),
                batch("win a cruise", "lunch at noon?"));
        // the pair once (a timed-out call of several records is split, not retried), then each record alone with
        // its retries
        assertThat(engine.calls).hasValue(1 + 3 + 3);
        assertThat(out).allSatisfy(o -> assertThat(errorKind(o)).isEqualTo("INFERENCE_TIMEOUT"));
    }

    @ParameterizedTest
    @EnumSource(JobOptions.FailurePolicy.class)
    void everyFailurePolicyDecidesWhatAnUnclassifiableRecordBecomes(JobOptions.FailurePolicy policy)
            throws Exception {
        Engine engine = new Engine(Integer.MAX_VALUE, false);
        List<Outcome> out = run(open(conf(policy, 1), engine), batch("win a cruise", "lunch at noon?"));
        for (Outcome o : out) {
            switch (policy) {
                case DEAD_LETTER -> assertThat(errorKind(o)).isEqualTo("INFERENCE_FAILED");
                case FAIL_OPEN, FAIL_CLOSED -> {
                    ClassifiedEvent e = event(o);
                    assertThat(e.getClassified()).isFalse();
                    assertThat(e.getAction()).isEqualTo(policy == JobOptions.FailurePolicy.FAIL_OPEN
                            ? ModerationAction.ALLOW : ModerationAction.REVIEW);
                    assertThat(e.getActionReason()).contains("unclassified").contains("INFERENCE_FAILED")
                            .contains(policy.name());
                    assertThat(e.getScores()).isEmpty();
                    assertThat(e.getTopLabel()).isNull();
                    assertThat(e.getModelVersion()).isEqualTo("1");
                    assertThat(e.getPolicyVersion()).isEqualTo("p1");
                    assertThat(e.getAutomated()).isTrue();
                }
                default -> throw new AssertionError(policy);
            }
            assertThat(o.observation()).as("unclassified inputs count as dead letters in drift").isNotNull();
            assertThat(o.observation().modelKey()).isEqualTo(MODEL.key());
        }
    }

    // ------------------------------------------------------------------------ slowness, timeouts, budget

    /**
     * A model whose cost is {@code perRowMillis} per row: a call whose cost exceeds its deadline runs until the
     * deadline and then times out, as ONNX Runtime's terminate flag makes it; texts containing "loop" never finish.
     * Records every call's size, and which calls timed out.
     */
    static final class CostEngine implements Classifier.Engine {
        volatile long perRowMillis;
        final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        final List<Integer> timedOut = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger failFirst;
        final List<String> seen = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch gate;

        CostEngine(long perRowMillis, int failFirst) {
            this.perRowMillis = perRowMillis;
            this.failFirst = new AtomicInteger(failFirst);
        }

        @Override
        public ClassifiedBatch classify(List<TextInput> inputs, Duration deadline) {
            sizes.add(inputs.size());
            inputs.forEach(i -> seen.add(i.text()));
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failFirst.getAndDecrement() > 0) {
                throw new ClassificationException("transient failure", null);
            }
            boolean loops = inputs.stream().anyMatch(i -> i.text().contains("loop"));
            long cost = loops ? Long.MAX_VALUE : perRowMillis * inputs.size();
            if (cost > deadline.toMillis()) {
                sleep(deadline.toMillis());
                timedOut.add(inputs.size());
                throw new ClassificationException("ONNX Runtime was stopped at the deadline", null, true);
            }
            sleep(cost);
            List<Classification> out = new ArrayList<>();
            for (TextInput in : inputs) {
                out.add(new Classification(new float[] {0.9f, 0.1f}, 0, false, 7, 0, 1, null, "CPU"));
            }
            return new ClassifiedBatch(out, 1, 7L * inputs.size(), 16L * inputs.size(), 1000, 2000, "CPU");
        }

        static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static List<InputEvent> numbered(int n, int looping) {
        String[] texts = new String[n];
        for (int i = 0; i < n; i++) {
            texts[i] = i == looping ? "loop forever " + i : "lunch at noon " + i;
        }
        return batch(texts);
    }

    static Configuration slowConf(Duration timeout, int retries) {
        Configuration c = conf(JobOptions.FailurePolicy.DEAD_LETTER, retries);
        c.set(JobOptions.ASYNC_TIMEOUT, timeout);
        c.set(JobOptions.ASYNC_THREADS, 1);
        c.set(BatchingOptions.MAX_RECORDS, 32);
        return c;
    }

    /** recordsIn (here: inputs handed over) == recordsOut + deadLetters, exactly. */
    void assertCountersAddUp(long in) {
        long dead = 0;
        for (dev.labelstream.io.ErrorKind k : dev.labelstream.io.ErrorKind.values()) {
            dead += metrics.count(Metrics.REASON, k.name(), Metrics.DEAD_LETTERS);
        }
        long actions = 0;
        for (ModerationAction a : ModerationAction.values()) {
            actions += metrics.count(Metrics.ACTION, a.name(), Metrics.ACTIONS);
        }
        assertThat(metrics.count(Metrics.RECORDS_OUT) + dead).as("recordsOut + deadLetters").isEqualTo(in);
        assertThat(actions).as("actions").isEqualTo(metrics.count(Metrics.RECORDS_OUT));
        assertThat(metrics.gauge(Metrics.IN_FLIGHT_BATCHES)).isEqualTo(0);
    }

    @Test
    void aUniformlySlowModelSplitsTheBatchAndShrinksTheNextOnesAndDeadLettersNothing() throws Exception {
        // 10 ms a row, 100 ms deadline: 32 rows cost 320 ms, 8 rows 80 ms, one row well under the deadline
        CostEngine engine = new CostEngine(10, 0);
        ClassifyBatchFunction f = open(slowConf(Duration.ofMillis(100), 1), engine);
        List<Outcome> first = run(f, numbered(32, -1));
        assertThat(first).allSatisfy(o -> assertThat(event(o).getClassified()).isTrue());
        assertThat(engine.timedOut).as("calls over the deadline: 32, then its first half of 16").containsExactly(32, 16);
        assertThat(metrics.gauge(Metrics.ROWS_PER_CALL_CAP)).isEqualTo(8);
        int callsBefore = engine.sizes.size();
        List<Outcome> second = run(f, numbered(32, -1));
        assertThat(second).allSatisfy(o -> assertThat(event(o).getClassified()).isTrue());
        assertThat(engine.sizes.subList(callsBefore, engine.sizes.size())).as("the next batch is cut to fit")
                .containsExactly(8, 8, 8, 8);
        assertThat(engine.timedOut).hasSize(2);
        // input order is kept across the parts
        for (int i = 0; i < 32; i++) {
            assertThat(event(second.get(i)).getSource().getOffset()).isEqualTo(100 + i);
        }
        assertThat(metrics.count(Metrics.BATCH_TIMEOUTS)).isEqualTo(2);
        assertCountersAddUp(64);
    }

    @Test
    void theRowCapGrowsBackGraduallyAfterCallsWellUnderTheDeadline() throws Exception {
        // 50 ms a row, 1 s deadline: 32 rows time out, 16 fit (800 ms, not under a quarter of the deadline)
        CostEngine engine = new CostEngine(50, 0);
        ClassifyBatchFunction f = open(slowConf(Duration.ofSeconds(1), 1), engine);
        run(f, numbered(32, -1));
        assertThat(metrics.gauge(Metrics.ROWS_PER_CALL_CAP)).isEqualTo(16);
        engine.perRowMillis = 0; // the model recovers: calls at the cap now finish within a quarter of the deadline
        int callsBefore = engine.sizes.size();
        run(f, numbered(32, -1));
        // a quarter more after a call at the cap, not back to 32 at once: 16 -> 20
        assertThat(engine.sizes.subList(callsBefore, engine.sizes.size())).containsExactly(16, 16);
        assertThat(metrics.gauge(Metrics.ROWS_PER_CALL_CAP)).isEqualTo(20);
        int batches = 2;
        while (engine.sizes.get(engine.sizes.size() - 1) != 32 && batches < 12) { // 20 -> 25 -> 31 -> 38
            run(f, numbered(32, -1));
            batches++;
        }
        assertThat(engine.sizes.get(engine.sizes.size() - 1)).as("back to whole batches").isEqualTo(32);
        assertThat(engine.timedOut).containsExactly(32);
        assertCountersAddUp(32L * batches);
    }

    @Test
    void aLoopingRecordInTheMiddleOfABatchOf32TakesOnlyItself() throws Exception {
        CostEngine engine = new CostEngine(0, 0);
        List<Outcome> out = run(open(slowConf(Duration.ofMillis(100), 1), engine), numbered(32, 16));
        for (int i = 0; i < 32; i++) {
            if (i == 16) {
                assertThat(errorKind(out.get(i))).isEqualTo("INFERENCE_TIMEOUT");
            } else {
                assertThat(event(out.get(i)).getSource().getOffset()).isEqualTo(100 + i);
            }
        }
        // bounded: one timed-out call per halving (32, 16, 8, 4, 2), then the record alone on each of its 2 tries
        assertThat(engine.timedOut).containsExactly(32, 16, 8, 4, 2, 1, 1);
        assertThat(metrics.count(Metrics.BATCH_RETRIES)).isEqualTo(1);
        assertCountersAddUp(32);
        FaultTestSupport.figures("looping record in a batch of 32 (unit)", "in=32 classified="
                + metrics.count(Metrics.RECORDS_OUT) + " deadLetters={INFERENCE_TIMEOUT="
                + metrics.count(Metrics.REASON, "INFERENCE_TIMEOUT", Metrics.DEAD_LETTERS) + "} duplicates=0 calls="
                + engine.sizes.size());
    }

    @Test
    void aFailureFollowedByATimeoutOnRetryStillIsolatesTheRecord() throws Exception {
        CostEngine engine = new CostEngine(0, 1); // the first call fails, the retry times out on the loop
        List<Outcome> out = run(open(slowConf(Duration.ofMillis(100), 1), engine), numbered(8, 3));
        for (int i = 0; i < 8; i++) {
            if (i == 3) {
                assertThat(errorKind(out.get(i))).isEqualTo("INFERENCE_TIMEOUT");
            } else {
                assertThat(event(out.get(i)).getClassified()).isTrue();
            }
        }
        assertCountersAddUp(8);
    }

    @Test
    void flinksTimeoutCancelsTheTaskAndALateResultCountsNothing() throws Exception {
        CostEngine engine = new CostEngine(0, 0);
        engine.gate = new CountDownLatch(1);
        ClassifyBatchFunction f = open(slowConf(Duration.ofSeconds(5), 1), engine); // one thread
        List<InputEvent> running = batch("lunch a", "lunch b");
        List<InputEvent> queued = batch("queued c", "queued d", "queued e");
        Result r1 = new Result();
        Result r2 = new Result();
        f.asyncInvoke(running, r1);
        f.asyncInvoke(queued, r2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.sizes.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(metrics.gauge(Metrics.IN_FLIGHT_BATCHES)).isEqualTo(2);
        // Flink times out both: the queued one leaves the queue, the running one's late result is discarded
        f.timeout(queued, r2);
        f.timeout(running, r1);
        assertThat(r2.get()).hasSize(3).allSatisfy(o -> assertThat(errorKind(o)).isEqualTo("INFERENCE_TIMEOUT"));
        assertThat(r1.get()).hasSize(2).allSatisfy(o -> assertThat(errorKind(o)).isEqualTo("INFERENCE_TIMEOUT"));
        engine.gate.countDown();
        Thread.sleep(300); // the zombie call finishes; its result must not be emitted or counted
        assertThat(engine.seen).as("the queued batch never ran").noneMatch(t -> t.startsWith("queued"));
        assertThat(metrics.count(Metrics.RECORDS_OUT)).isZero();
        assertThat(metrics.count(Metrics.BATCH_TIMEOUTS)).isEqualTo(2);
        assertCountersAddUp(5);
        // the function keeps working afterwards
        assertThat(run(f, batch("lunch again"))).allSatisfy(o -> assertThat(event(o).getClassified()).isTrue());
    }

    @Test
    void aRejectionWhileClosingIsNeverADeadLetter() throws Exception {
        ClassifyBatchFunction f = open(slowConf(Duration.ofSeconds(1), 1), new CostEngine(0, 0));
        f.close();
        function = null;
        Result r = new Result();
        f.asyncInvoke(batch("lunch"), r);
        assertThatThrownBy(r::get).isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    }

    @Test
    void flinksTimeoutIsDerivedFromTheBatchBudgetAndCheckedBeforeSubmit() {
        Configuration c = slowConf(Duration.ofSeconds(1), 1);
        c.set(JobOptions.ASYNC_RETRY_BACKOFF, Duration.ofMillis(100));
        c.set(JobOptions.ASYNC_CAPACITY, 2);
        // 1 s x (32 rows + 2 x 2 tries + 5 halvings) + 2 x 100 ms backoff
        assertThat(AsyncBudget.batchBudget(c)).isEqualTo(Duration.ofMillis(41_200));
        // two batches per thread: the second waits for the first
        assertThat(AsyncBudget.operatorTimeout(c)).isEqualTo(Duration.ofMillis(2 * 41_200 + 5_000));

        Configuration huge = new Configuration();
        huge.set(dev.labelstream.io.KafkaOptions.BOOTSTRAP_SERVERS, "localhost:9092");
        huge.set(JobOptions.ASYNC_TIMEOUT, Duration.ofMinutes(30));
        assertThatThrownBy(() -> JobSettings.of(huge)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(JobOptions.ASYNC_TIMEOUT.key()).hasMessageContaining("24 h")
                .hasMessageContaining(BatchingOptions.MAX_RECORDS.key());
        Configuration zero = new Configuration(huge);
        zero.set(JobOptions.ASYNC_TIMEOUT, Duration.ZERO);
        assertThatThrownBy(() -> JobSettings.of(zero)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(JobOptions.ASYNC_TIMEOUT.key() + " must be positive");
    }
}
