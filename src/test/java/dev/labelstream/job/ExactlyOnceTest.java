package dev.labelstream.job;

import dev.labelstream.demo.DemoData;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A TaskManager is killed mid-stream; the job restarts from its last checkpoint. With EXACTLY_ONCE a
 * read_committed consumer then sees every input id exactly once across output and dead letters; with
 * AT_LEAST_ONCE every id at least once.
 */
class ExactlyOnceTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2);

    static final int N = 300;
    /** TaskManagers killed by earlier tests of this class (they share one MiniCluster). */
    static int taskManagersKilled;

    @ParameterizedTest
    @EnumSource(KafkaOptions.Guarantee.class)
    void killingTheTaskManagerMidStreamLosesNothing(KafkaOptions.Guarantee guarantee, @InjectMiniCluster MiniCluster cluster)
            throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(2);
        List<DemoData.Message> messages = DemoData.messages();
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            String text = messages.get(i % messages.size()).text();
            // Short texts keep the test quick; the ids are what is checked.
            String id = "id-" + i;
            in.add(TestKafka.Input.of(id, JobTestSupport.json(id, text.substring(0, Math.min(200, text.length())))));
        }
        // A few bad records too: dead letters are outputs that must also appear exactly once.
        for (int i = 0; i < 5; i++) {
            in.add(N / 2 + i, TestKafka.Input.of("bad-" + i, ("{\"id\": \"bad-" + i + "\", \"text\": 7}").getBytes()));
        }
        TestKafka.produce(t.input(), in);
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(KafkaOptions.DELIVERY_GUARANTEE, guarantee);
        conf.set(dev.labelstream.batching.BatchingOptions.MAX_RECORDS, 8);
        JobClient job = JobTestSupport.start(conf);
        try {
            // Some output is committed: the job is mid-stream. Kill its only TaskManager, start a fresh one.
            JobTestSupport.read(t, 40, Duration.ofSeconds(90));
            // The MiniCluster keeps terminated TaskManagers in its list: the live one is the last started.
            cluster.terminateTaskManager(taskManagersKilled++).get();
            cluster.startTaskManager();
            // The job notices the lost TaskManager and restarts from its last checkpoint.
            long restartedAt = 0;
            for (int i = 0; i < 600 && restartedAt == 0; i++) {
                restartedAt = cluster.getExecutionGraph(job.getJobID()).get()
                        .getStatusTimestamp(org.apache.flink.api.common.JobStatus.RESTARTING);
                Thread.sleep(100);
            }
            assertThat(restartedAt).as("the job restarted").isPositive();
            // Read until every key (= input id) has appeared: with AT_LEAST_ONCE, replays can come first.
            TestKafka.consumeUntil(List.of(t.output(), t.deadLetters()), Duration.ofSeconds(120),
                    got -> got.stream().map(r -> new String(r.key())).distinct().count() >= in.size());
            // Let two more checkpoints pass, then read everything again: late duplicates would show now.
            Thread.sleep(1500);
            List<String> ids = ids(JobTestSupport.read(t, Integer.MAX_VALUE, Duration.ofSeconds(5)));
            Map<String, Integer> counts = new TreeMap<>();
            ids.forEach(id -> counts.merge(id, 1, Integer::sum));
            assertThat(counts).hasSize(in.size());
            if (guarantee == KafkaOptions.Guarantee.EXACTLY_ONCE) {
                assertThat(counts).allSatisfy((id, n) -> assertThat(n).as("copies of %s", id).isEqualTo(1));
            } else {
                assertThat(counts).allSatisfy((id, n) -> assertThat(n).as("copies of %s", id).isGreaterThanOrEqualTo(1));
            }
            assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
        } finally {
            JobTestSupport.cancel(job);
        }
    }

    private static List<String> ids(JobTestSupport.Outputs out) {
        List<String> ids = new ArrayList<>();
        out.classified().forEach((id, events) -> events.forEach(e -> ids.add(id)));
        out.deadLetters().forEach(d -> ids.add(d.getInputId()));
        return ids;
    }
}
