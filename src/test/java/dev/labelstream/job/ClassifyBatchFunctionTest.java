package dev.labelstream.job;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
        function = new ClassifyBatchFunction(conf, MODEL, resolved -> Classifier.of(MODEL, POLICY, "CPU", engine));
        function.open(UnregisteredMetricsGroup.createOperatorMetricGroup(), 0);
        return function;
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
        // two attempts at the batch, then one call per record
        assertThat(engine.calls).hasValue(2 + 3);
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
        assertThat(engine.calls).hasValue(3);
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
}
