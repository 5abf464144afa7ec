package dev.labelstream.bench;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.job.JobTestSupport;
import dev.labelstream.job.TestKafka;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.inference.InferenceOptions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Small bench runs of the real job: every record is counted once, in its phase; nothing asserts on time. The runs
 * share one MiniCluster ({@link BenchCluster}), as the bench's do.
 */
class BenchPipelineTest {

    @org.junit.jupiter.api.AfterAll
    static void closeCluster() throws Exception {
        BenchCluster.closeShared();
    }

    @Test
    void countsEveryRecordOnceAndMeasuresFromSendToCommit() throws Exception {
        Configuration conf = new Configuration();
        conf.set(InferenceOptions.MODEL_DIR, JobTestSupport.defaultModel().toString());
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        conf.set(JobOptions.PARALLELISM, 1);
        BenchCorpus corpus = new BenchCorpus("test", List.of(
                new BenchCorpus.Text("a", "WIN a FREE cruise, click now!", "spam"),
                new BenchCorpus.Text("b", "Lunch tomorrow? I can bring the slides for the review.", "ham"),
                new BenchCorpus.Text("c", "Your account statement for November is ready.", "ham")));
        BenchPipeline.Plan plan = new BenchPipeline.Plan(3, 7, 4, 0, Duration.ofSeconds(1));

        BenchPipeline.Result r = BenchPipeline.run(TestKafka.broker(), conf,
                "test-" + UUID.randomUUID().toString().substring(0, 8), corpus, plan);

        assertThat(r.problem()).isNull();
        assertThat(r.deadLetters()).isZero();
        assertThat(r.warmup().classified()).isEqualTo(3);
        assertThat(r.measured().classified()).isEqualTo(7);
        assertThat(r.pacedSent()).isEqualTo(4);
        assertThat(r.paced().classified()).isEqualTo(4);
        assertThat(r.offeredRate()).isEqualTo(4.0);
        // a record's latency runs from its send to the consumer's receipt of the committed output
        for (long latency : r.paced().latencies()) {
            assertThat(latency).isNotNegative();
        }
        // records of one batch share their key; all batches together hold every record
        int[] sizes = BenchStats.groupSizes(r.measured().batchKeys);
        assertThat(java.util.Arrays.stream(sizes).sum()).isEqualTo(7);
        assertThat(new HashSet<>(r.paced().batchKeys).size()).isBetween(1, 4);
        assertThat(r.metrics().batches()).isPositive();
        assertThat(r.startupMs()).isPositive();

        // a second job on the same cluster: its own records only, none lost
        BenchPipeline.Result again = BenchPipeline.run(TestKafka.broker(), conf,
                "test-" + UUID.randomUUID().toString().substring(0, 8), corpus,
                BenchPipeline.Plan.throughput(2, 5));
        assertThat(again.problem()).isNull();
        assertThat(again.warmup().classified()).isEqualTo(2);
        assertThat(again.measured().classified()).isEqualTo(5);
    }
}
