package dev.labelstream.batching;

import dev.labelstream.metrics.Metrics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingTaskMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Drives {@link MicroBatcher} through Flink's operator test harness, on the harness's processing-time clock. */
@SuppressWarnings("try") // harnesses and iterators declare close() throws InterruptedException
class MicroBatcherTest {
    private static final long LINGER = 20;
    /** Estimates a "name:tokens" record as its tokens; a plain name costs 1. */
    private static final TokenEstimator<String> TOKENS_AFTER_COLON = r -> {
        int colon = r.indexOf(':');
        return colon < 0 ? 1 : Integer.parseInt(r.substring(colon + 1));
    };

    @Test
    void flushesOnSizeKeepingOrder() throws Exception {
        try (var h = harness(3, 1000, LINGER)) {
            for (String r : List.of("a", "b", "c", "d", "e", "f", "g")) {
                h.processElement(r, 0);
            }
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b", "c"), List.of("d", "e", "f"));
        }
    }

    @Test
    void flushesOnTokenBudget() throws Exception {
        try (var h = harness(100, 10, LINGER)) {
            h.processElement("a:4", 0);
            h.processElement("b:6", 0); // reaches 10 exactly
            h.processElement("c:7", 0);
            h.processElement("d:4", 0); // 11 would exceed: c leaves alone first
            h.processElement("e:25", 0); // over the budget on its own: flushes d, then travels alone
            h.processElement("f:0", 0);
            assertThat(h.extractOutputValues()).containsExactly(
                    List.of("a:4", "b:6"), List.of("c:7"), List.of("d:4"), List.of("e:25"));
        }
    }

    @Test
    void lingerIsAMaxAgeOfTheFirstRecordNotADebounce() throws Exception {
        try (var h = harness(100, 1000, LINGER)) {
            h.setProcessingTime(0);
            h.processElement("a", 0);
            h.setProcessingTime(5);
            h.processElement("b", 0);
            h.setProcessingTime(10);
            h.processElement("c", 0);
            h.setProcessingTime(LINGER - 1);
            assertThat(h.extractOutputValues()).isEmpty();
            h.setProcessingTime(LINGER);
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b", "c"));
            assertThat(h.getProcessingTimeService().getNumActiveTimers()).isZero();
        }
    }

    @Test
    void staleTimerOfAFlushedBatchDoesNotFlushTheNextEarly() throws Exception {
        try (var h = harness(2, 1000, LINGER)) {
            h.setProcessingTime(0);
            h.processElement("a", 0);
            h.processElement("b", 0); // flushed by size; its linger timer (due at LINGER) stays registered
            h.setProcessingTime(LINGER - 1);
            h.processElement("c", 0);
            assertThat(h.getProcessingTimeService().getNumActiveTimers()).as("one timer, whatever the batch rate").isEqualTo(1);
            h.setProcessingTime(LINGER);
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b"));
            h.setProcessingTime(LINGER - 1 + LINGER - 1);
            assertThat(h.extractOutputValues()).hasSize(1);
            h.setProcessingTime(LINGER - 1 + LINGER);
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b"), List.of("c"));
        }
    }

    @Test
    void zeroLingerFlushesEveryRecordAtOnceWithoutTimers() throws Exception {
        try (var h = harness(10, 1000, 0)) {
            h.processElement("a", 0);
            h.processElement("b", 0);
            assertThat(h.extractOutputValues()).containsExactly(List.of("a"), List.of("b"));
            assertThat(h.getProcessingTimeService().getNumActiveTimers()).isZero();
        }
    }

    @Test
    void flushesBeforeTheBarrierAndSnapshotsNothing() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness(10, 1000, LINGER)) {
            h.processElement("a", 1);
            h.processElement("b", 2);
            h.prepareSnapshotPreBarrier(1);
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b"));
            snapshot = h.snapshot(1, 3);
        }
        assertThat(snapshot.getManagedOperatorState()).isEmpty();
        assertThat(snapshot.getRawOperatorState()).isEmpty();
        assertThat(snapshot.getManagedKeyedState()).isEmpty();
        assertThat(snapshot.getRawKeyedState()).isEmpty();

        try (var restored = newHarness(new MicroBatcher<>(10, 1000, LINGER, TOKENS_AFTER_COLON),
                StringSerializer.INSTANCE, null)) {
            restored.setup(new ListSerializer<>(StringSerializer.INSTANCE));
            restored.initializeState(snapshot);
            restored.open();
            restored.processElement("c", 4);
            restored.getOperator().finish();
            assertThat(restored.extractOutputValues()).as("nothing replayed from the snapshot")
                    .containsExactly(List.of("c"));
        }
    }

    @Test
    void endOfInputFlushesTheRest() throws Exception {
        try (var h = harness(2, 1000, LINGER)) {
            h.processElement("a", 0);
            h.processElement("b", 0);
            h.processElement("c", 0);
            h.getOperator().finish();
            assertThat(h.extractOutputValues()).containsExactly(List.of("a", "b"), List.of("c"));
        }
    }

    @Test
    void batchCarriesTheMaxTimestampAndLeavesBeforeAWatermark() throws Exception {
        try (var h = harness(10, 1000, LINGER)) {
            h.processElement("a", 9);
            h.processElement("b", 5);
            h.processWatermark(10);
            h.processElement(new StreamRecord<>("c"));
            h.getOperator().finish();
            assertThat(new ArrayList<>(h.getOutput())).containsExactly(
                    new StreamRecord<>(List.of("a", "b"), 9), new Watermark(10), new StreamRecord<>(List.of("c")));
        }
    }

    @Test
    void copiesRecordsWhenObjectReuseIsEnabled() throws Exception {
        TypeSerializer<MutableText> serializer =
                TypeInformation.of(MutableText.class).createSerializer(new SerializerConfigImpl());
        try (var h = newHarness(new MicroBatcher<MutableText>(10, 1000, LINGER, t -> 1), serializer, null)) {
            h.getExecutionConfig().enableObjectReuse();
            h.setup(new ListSerializer<>(serializer));
            h.open();
            MutableText reused = new MutableText();
            reused.text = "first";
            h.processElement(reused, 0);
            reused.text = "second"; // what a reusing source does with the instance it handed out
            h.processElement(reused, 0);
            reused.text = "changed after";
            h.prepareSnapshotPreBarrier(1);
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(batch -> assertThat(batch).extracting(t -> t.text).containsExactly("first", "second"));
        }
    }

    @Test
    void countsFlushesPerReasonAndBatchSizes() throws Exception {
        // The batcher registers in the operator's "labelstream" group; intercept that group's metrics.
        InterceptingOperatorMetricGroup metrics = new InterceptingOperatorMetricGroup() {
            @Override
            public org.apache.flink.metrics.MetricGroup addGroup(String name) {
                return Metrics.GROUP.equals(name) ? this : super.addGroup(name);
            }
        };
        InterceptingTaskMetricGroup taskMetrics = new InterceptingTaskMetricGroup() {
            @Override
            public InternalOperatorMetricGroup getOrAddOperator(
                    OperatorID id, String name, Map<String, String> additionalVariables) {
                return metrics;
            }
        };
        try (MockEnvironment env = new MockEnvironmentBuilder().setMetricGroup(taskMetrics).build();
                var h = newHarness(new MicroBatcher<>(3, 100, LINGER, TOKENS_AFTER_COLON),
                        StringSerializer.INSTANCE, env)) {
            h.setup(new ListSerializer<>(StringSerializer.INSTANCE));
            h.open();
            h.setProcessingTime(0);
            h.processElement("a", 0);
            h.processElement("b", 0);
            h.processElement("c", 0); // size
            h.processElement("d:100", 0); // tokens
            h.processElement("e", 0);
            assertThat(((Gauge<?>) metrics.get(Metrics.BUFFERED_RECORDS)).getValue()).isEqualTo(1);
            h.setProcessingTime(LINGER); // linger
            h.processElement("f", 0);
            h.processElement("g", 0);
            h.prepareSnapshotPreBarrier(1); // barrier
            h.processElement("h", 1);
            h.processWatermark(1); // watermark
            h.processElement("i", 2);
            h.getOperator().finish(); // end of input

            assertThat(count(metrics, Metrics.BATCHES_FLUSHED)).isEqualTo(6);
            for (String reason : List.of(Metrics.FLUSHES_ON_SIZE, Metrics.FLUSHES_ON_TOKENS,
                    Metrics.FLUSHES_ON_LINGER, Metrics.FLUSHES_ON_BARRIER, Metrics.FLUSHES_ON_WATERMARK,
                    Metrics.FLUSHES_ON_END_OF_INPUT)) {
                assertThat(count(metrics, reason)).as(reason).isEqualTo(1);
            }
            Histogram sizes = (Histogram) metrics.get(Metrics.BATCH_SIZE);
            assertThat(sizes.getCount()).isEqualTo(6);
            assertThat(sizes.getStatistics().getMax()).isEqualTo(3);
            assertThat(sizes.getStatistics().getMin()).isEqualTo(1);
            Histogram tokens = (Histogram) metrics.get(Metrics.BATCH_ESTIMATED_TOKENS);
            assertThat(tokens.getCount()).isEqualTo(6);
            assertThat(tokens.getStatistics().getMax()).isEqualTo(100);
            Histogram queueTime = (Histogram) metrics.get(Metrics.BATCH_QUEUE_TIME_MS);
            assertThat(queueTime.getCount()).isEqualTo(6);
            assertThat(queueTime.getStatistics().getMax()).isEqualTo(LINGER);
            assertThat(((Gauge<?>) metrics.get(Metrics.BUFFERED_RECORDS)).getValue()).isEqualTo(0);
        }
    }

    /**
     * Random sequences of records (random token estimates, some above the budget), clock ticks, barriers and
     * watermarks: every record leaves exactly once and in order, batches respect both caps, and no record waits
     * longer than linger. The clock moves 1 ms at a time, so a flush time is the time the batcher saw.
     */
    @Test
    void randomSequencesKeepEveryInvariant() throws Exception {
        Random random = new Random(20240611L);
        for (int iteration = 0; iteration < 150; iteration++) {
            int maxRecords = 1 + random.nextInt(8);
            int maxTokens = 1 + random.nextInt(60);
            long linger = List.of(0L, 1L, 5L, 20L).get(random.nextInt(4));
            String setup = "iteration " + iteration + ": maxRecords=" + maxRecords + " maxTokens=" + maxTokens
                    + " linger=" + linger;
            List<String> sent = new ArrayList<>();
            Map<String, Long> arrival = new HashMap<>();
            List<List<String>> batches = new ArrayList<>();
            long now = 0;
            try (var h = harness(maxRecords, maxTokens, linger)) {
                h.setProcessingTime(now);
                for (int step = 0; step < 200; step++) {
                    int action = random.nextInt(100);
                    if (action < 60) {
                        int tokens = random.nextInt(maxTokens + maxTokens / 3 + 1);
                        String record = sent.size() + ":" + tokens;
                        sent.add(record);
                        arrival.put(record, now);
                        h.processElement(record, now);
                    } else if (action < 95) {
                        int ticks = random.nextInt((int) linger + 3);
                        for (int t = 0; t < ticks; t++) {
                            h.setProcessingTime(++now);
                            collectNew(h, batches, arrival, now, linger, setup);
                        }
                    } else if (action < 98) {
                        h.prepareSnapshotPreBarrier(step);
                    } else {
                        h.processWatermark(now);
                    }
                    collectNew(h, batches, arrival, now, linger, setup);
                    assertThat(h.getProcessingTimeService().getNumActiveTimers()).as(setup).isLessThanOrEqualTo(1);
                }
                h.getOperator().finish();
                collectNew(h, batches, Map.of(), now, linger, setup);
            }
            assertThat(batches.stream().flatMap(List::stream)).as(setup).containsExactlyElementsOf(sent);
            for (List<String> batch : batches) {
                assertThat(batch).as(setup).isNotEmpty().hasSizeLessThanOrEqualTo(maxRecords);
                int tokens = batch.stream().mapToInt(TOKENS_AFTER_COLON::estimate).sum();
                if (batch.size() > 1) {
                    assertThat(tokens).as(setup + " batch " + batch).isLessThanOrEqualTo(maxTokens);
                }
            }
        }
    }

    @Test
    void rejectsInvalidArgumentsWithPreciseMessages() {
        assertThatThrownBy(() -> new MicroBatcher<>(0, 1, 0, TOKENS_AFTER_COLON))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxRecords must be at least 1, got 0");
        assertThatThrownBy(() -> new MicroBatcher<>(1, 0, 0, TOKENS_AFTER_COLON))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxTokens must be at least 1, got 0");
        assertThatThrownBy(() -> new MicroBatcher<>(1, 1, -1, TOKENS_AFTER_COLON))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lingerMillis must be 0 or more, got -1");
        assertThatThrownBy(() -> new MicroBatcher<>(1, 1, 0, null))
                .isInstanceOf(NullPointerException.class).hasMessage("estimator");
    }

    @Test
    void failsOnANegativeEstimate() throws Exception {
        try (var h = harness(10, 10, LINGER)) {
            assertThatThrownBy(() -> h.processElement("a:-1", 0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("TokenEstimator returned -1");
        }
    }

    @Test
    void settingsComeFromOptionsWithMessagesThatNameTheOption() {
        assertThat(BatchingSettings.fromConfig(new Configuration()))
                .isEqualTo(new BatchingSettings(64, 8192, Duration.ofMillis(20)));
        Configuration config = new Configuration();
        config.set(BatchingOptions.MAX_RECORDS, 8);
        config.set(BatchingOptions.MAX_TOKENS, 512);
        config.set(BatchingOptions.LINGER, Duration.ZERO);
        assertThat(BatchingSettings.fromConfig(config)).isEqualTo(new BatchingSettings(8, 512, Duration.ZERO));

        assertThatThrownBy(() -> new BatchingSettings(0, 1, Duration.ZERO))
                .hasMessage("batching.max-records must be at least 1, got 0");
        assertThatThrownBy(() -> new BatchingSettings(1, -5, Duration.ZERO))
                .hasMessage("batching.max-tokens must be at least 1, got -5");
        assertThatThrownBy(() -> new BatchingSettings(1, 1, Duration.ofMillis(-1)))
                .hasMessage("batching.linger must be 0 ms or more, got PT-0.001S");
        assertThatThrownBy(() -> new BatchingSettings(1, 1, Duration.ofNanos(1_500_000)))
                .hasMessage("batching.linger must be a whole number of milliseconds, got PT0.0015S");
    }

    /** A record type that a reusing source mutates in place. */
    public static final class MutableText {
        public String text;
    }

    private static OneInputStreamOperatorTestHarness<String, List<String>> harness(
            int maxRecords, int maxTokens, long linger) throws Exception {
        var h = newHarness(new MicroBatcher<>(maxRecords, maxTokens, linger, TOKENS_AFTER_COLON),
                StringSerializer.INSTANCE, null);
        h.setup(new ListSerializer<>(StringSerializer.INSTANCE));
        h.open();
        return h;
    }

    private static <T> OneInputStreamOperatorTestHarness<T, List<T>> newHarness(
            MicroBatcher<T> operator, TypeSerializer<T> in, MockEnvironment env) throws Exception {
        return env == null
                ? new OneInputStreamOperatorTestHarness<>(operator, in)
                : new OneInputStreamOperatorTestHarness<>(operator, in, env);
    }

    /** Moves batches emitted since the last call into {@code batches}, checking each record's wait. */
    private static void collectNew(OneInputStreamOperatorTestHarness<String, List<String>> h,
            List<List<String>> batches, Map<String, Long> arrival, long now, long linger, String setup) {
        List<List<String>> all = h.extractOutputValues();
        for (List<String> batch : all.subList(batches.size(), all.size())) {
            for (String record : batch) {
                Long arrived = arrival.get(record);
                if (arrived != null) {
                    assertThat(now - arrived).as(setup + " wait of " + record).isLessThanOrEqualTo(linger);
                }
            }
            batches.add(batch);
        }
    }

    private static long count(InterceptingOperatorMetricGroup metrics, String name) {
        return ((Counter) metrics.get(name)).getCount();
    }
}
