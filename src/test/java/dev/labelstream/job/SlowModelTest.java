package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.classify.Classifier;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.InputFormat;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.moderation.ModerationPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A model that becomes 20 times slower for longer than async.timeout x (retries + 1), then recovers, while records
 * keep arriving: one record stays well under async.timeout (100 ms against 1 s), a full batch of 16 goes well over
 * it (1.6 s). The classify stage must split the batch and shrink the calls after it, so the job only slows down:
 * the source is backpressured (the lag grows, then drains once the model recovers), nothing is dead-lettered, the
 * heap stays flat, and recordsIn == recordsOut + deadLetters exactly.
 *
 * <p>The model is a stand-in engine behind the real classification core (the classifier factory seam of {@link
 * LabelstreamJob#build}); it honours each call's deadline as ONNX Runtime's terminate flag does: a call whose
 * cost exceeds it runs until the deadline, then fails as timed out. The real looping model is {@code
 * InferenceFaultsTest}'s.
 */
class SlowModelTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1, FaultTestSupport.clusterConf());

    static final long FAST_MS_PER_ROW = 5;
    static final long SLOW_MS_PER_ROW = 20 * FAST_MS_PER_ROW;
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    static final int RETRIES = 1;
    static final int MAX_RECORDS = 16;
    static final int SLOW_SECONDS = 8;
    static final int RATE = 40;
    static final long HEAP_ALLOWANCE_MB = 64;

    /** Cost of one row now; the MiniCluster runs in this JVM, so the job's engine reads it. */
    static volatile long msPerRow = FAST_MS_PER_ROW;
    static final AtomicInteger CALLS_TIMED_OUT = new AtomicInteger();

    static ClassifiedBatch classify(List<TextInput> inputs, Duration deadline) {
        long cost = msPerRow * inputs.size();
        try {
            if (cost > deadline.toMillis()) {
                Thread.sleep(deadline.toMillis());
                CALLS_TIMED_OUT.incrementAndGet();
                throw new ClassificationException("ONNX Runtime was stopped at the deadline", null, true);
            }
            Thread.sleep(cost);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClassificationException("interrupted", e);
        }
        List<Classification> out = new ArrayList<>();
        for (TextInput in : inputs) {
            out.add(new Classification(new float[] {0.9f, 0.1f}, 0, false, 7, 0, 1, null, "CPU"));
        }
        return new ClassifiedBatch(out, 1, 7L * inputs.size(), 16L * inputs.size(), 1000, 2000, "CPU");
    }

    @Test
    void aModelTwentyTimesSlowerBackpressuresTheSourceAndDeadLettersNothing(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(BatchingOptions.MAX_RECORDS, MAX_RECORDS);
        conf.set(BatchingOptions.LINGER, Duration.ofMillis(50));
        conf.set(JobOptions.ASYNC_TIMEOUT, TIMEOUT);
        conf.set(JobOptions.ASYNC_MAX_RETRIES, RETRIES);
        conf.set(JobOptions.ASYNC_RETRY_BACKOFF, Duration.ofMillis(100));
        conf.set(JobOptions.ASYNC_CAPACITY, 2);
        conf.set(JobOptions.ASYNC_THREADS, 1);
        conf.set(DriftOptions.ENABLED, false);
        JobSettings settings = JobSettings.of(conf);
        ModelIdentity model = settings.model();
        ClassifyBatchFunction.ClassifierFactory slow = resolved -> Classifier.of(model,
                new ModerationPolicy(model.labels(), Map.of(), "slow-test"), "CPU", SlowModelTest::classify);
        assertThat(model.labels()).hasSize(2);
        msPerRow = FAST_MS_PER_ROW;
        CALLS_TIMED_OUT.set(0);
        InProcessMetrics.clear();

        List<String> texts = OverloadTest.texts();
        AtomicInteger next = new AtomicInteger();
        List<TestKafka.Input> warmUp = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            warmUp.add(OverloadTest.record(next.getAndIncrement(), texts, 512));
        }
        FaultTestSupport.produce(client, t.input(), warmUp);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings.configuration());
        LabelstreamJob.build(env, settings, slow);
        JobClient job = env.executeAsync("labelstream-slow-model");
        List<String> samples = new ArrayList<>();
        long baselineHeap;
        long maxHeap = 0;
        long maxLag = 0;
        long lagAtSlowEnd;
        int total;
        FaultTestSupport.Outputs out;
        Counters.Read counters;
        try {
            OverloadTest.awaitRecordsOut(100);
            baselineHeap = OverloadTest.heapAfterGc();
            // the model slows down 20x while records keep coming at 40/s, about 5 times what it now sustains
            msPerRow = SLOW_MS_PER_ROW;
            OverloadTest.Flood producer = new OverloadTest.Flood(client, t.input(), RATE, SLOW_SECONDS, next, texts,
                    512);
            try (Admin admin = Admin.create(client)) {
                while (producer.isAlive()) {
                    Thread.sleep(1000);
                    long heap = OverloadTest.heapAfterGc();
                    long lag = OverloadTest.lag(admin, t.input());
                    maxHeap = Math.max(maxHeap, heap);
                    maxLag = Math.max(maxLag, lag);
                    samples.add(String.format(Locale.ROOT, "slow: produced=%d lag=%d recordsOut=%d heapMiB=%d"
                            + " rowsPerCallCap=%.0f", producer.produced(), lag, OverloadTest.recordsOut(), heap >> 20,
                            FaultTestSupport.maxGauge("", InProcessMetrics.suffix(Metrics.ROWS_PER_CALL_CAP))));
                }
                total = 100 + producer.finish();
                lagAtSlowEnd = OverloadTest.lag(admin, t.input());
                msPerRow = FAST_MS_PER_ROW; // recovers
                out = FaultTestSupport.readDistinct(client, t, total, Duration.ofSeconds(180));
                long lagAfter = OverloadTest.lag(admin, t.input());
                samples.add("recovered: lag=" + lagAfter + " recordsOut=" + OverloadTest.recordsOut());
                // the source's currentOffset is the last offset it emitted, so a drained partition reads 1
                assertThat(lagAfter).as("the backlog drained").isLessThanOrEqualTo(1);
            }
            assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).as("job restarted").isFalse();
            counters = Counters.assertAddUp(job, total);
        } finally {
            msPerRow = FAST_MS_PER_ROW;
            JobTestSupport.cancel(job);
        }
        samples.forEach(s -> System.out.println("SLOW MODEL SAMPLE " + s));
        assertThat(out.copiesById()).hasSize(total).allSatisfy((id, copies) -> assertThat(copies).isEqualTo(1));
        assertThat(out.deadLetters()).as("dead letters").isEmpty();
        assertThat(CALLS_TIMED_OUT.get()).as("calls over the deadline while slow").isPositive();
        assertThat(maxLag).as("the source was backpressured: the backlog waited in Kafka").isGreaterThan(RATE);
        assertThat(lagAtSlowEnd).isGreaterThan(RATE);
        assertThat((maxHeap - baselineHeap) >> 20).as("heap growth after GC, MiB").isLessThan(HEAP_ALLOWANCE_MB);
        FaultTestSupport.figures("model 20x slower for " + SLOW_SECONDS + " s (async.timeout 1 s, retries 1)",
                "in=" + total + " classified=" + out.classified().size() + " deadLetters=" + out.deadLetters().size()
                        + " duplicates=" + out.duplicates() + " callsTimedOut=" + CALLS_TIMED_OUT.get() + " maxLag="
                        + maxLag + " lagAtSlowEnd=" + lagAtSlowEnd + " heapBaselineMiB=" + (baselineHeap >> 20) + " heapMaxMiB=" + (maxHeap >> 20)
                        + " heapGrowthMiB="
                        + ((maxHeap - baselineHeap) >> 20) + " recordsIn=" + counters.in() + " recordsOut=" + counters.out()
                        + " restarts=0");
    }
}
