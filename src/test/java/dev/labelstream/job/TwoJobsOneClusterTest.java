package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.demo.DemoData;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two jobs with their own job.name and topics and otherwise default Kafka settings (consumer group and
 * transactional-id prefix derived per job), on one broker and one MiniCluster, exactly-once; their TaskManager
 * is killed mid-stream. Before the per-job defaults both used the prefix 'labelstream' and fenced each other's
 * producers (see the shared stack notes). Each job's output must hold every one of its ids exactly once.
 */
class TwoJobsOneClusterTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    static final int N = 200;

    @Test
    void twoJobsWithDefaultKafkaSettingsSurviveATaskManagerFailureExactlyOnce(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        List<DemoData.Message> messages = DemoData.messages();
        List<TestKafka.Topics> topics = new ArrayList<>();
        List<JobClient> jobs = new ArrayList<>();
        List<JobSettings> settings = new ArrayList<>();
        try {
            for (String name : List.of("spam", "abuse")) {
                TestKafka.Topics t = TestKafka.Topics.create(2);
                List<TestKafka.Input> in = new ArrayList<>();
                for (int i = 0; i < N; i++) {
                    String text = messages.get(i % messages.size()).text();
                    String id = name + "-" + i;
                    in.add(TestKafka.Input.of(id, JobTestSupport.json(id, text.substring(0, Math.min(200, text.length())))));
                }
                TestKafka.produce(t.input(), in);
                Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
                conf.removeConfig(KafkaOptions.GROUP_ID);
                conf.removeConfig(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
                conf.set(JobOptions.JOB_NAME, name);
                conf.set(dev.labelstream.batching.BatchingOptions.MAX_RECORDS, 8);
                settings.add(JobSettings.of(conf));
                topics.add(t);
                jobs.add(JobTestSupport.start(conf));
            }
            assertThat(settings.get(0).transactionalIdPrefix()).isNotEqualTo(settings.get(1).transactionalIdPrefix());
            assertThat(settings.get(0).groupId()).isNotEqualTo(settings.get(1).groupId());
            // Both mid-stream: some output committed by each. Then kill their TaskManager, start a fresh one.
            for (TestKafka.Topics t : topics) {
                JobTestSupport.read(t, 20, Duration.ofSeconds(120));
            }
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
            for (JobClient job : jobs) {
                long restartedAt = 0;
                for (int i = 0; i < 600 && restartedAt == 0; i++) {
                    restartedAt = cluster.getExecutionGraph(job.getJobID()).get().getStatusTimestamp(JobStatus.RESTARTING);
                    Thread.sleep(100);
                }
                assertThat(restartedAt).as("job %s restarted", job.getJobID()).isPositive();
            }
            for (int j = 0; j < topics.size(); j++) {
                TestKafka.Topics t = topics.get(j);
                TestKafka.consumeUntil(List.of(t.output(), t.deadLetters()), Duration.ofSeconds(180),
                        got -> got.stream().map(r -> new String(r.key())).distinct().count() >= N);
            }
            // Two more checkpoints, then read everything again: late duplicates would show now.
            Thread.sleep(1500);
            for (int j = 0; j < topics.size(); j++) {
                JobTestSupport.Outputs out = JobTestSupport.read(topics.get(j), Integer.MAX_VALUE, Duration.ofSeconds(5));
                Map<String, Integer> counts = new TreeMap<>();
                out.classified().forEach((id, events) -> counts.merge(id, events.size(), Integer::sum));
                out.deadLetters().forEach(d -> counts.merge(d.getInputId(), 1, Integer::sum));
                String prefix = j == 0 ? "spam-" : "abuse-";
                System.out.printf("two jobs: job %s: %d in, %d out (%d dead letters), %d distinct, %d duplicates%n",
                        prefix, N, out.count(), out.deadLetters().size(), counts.size(), out.count() - counts.size());
                assertThat(counts).as("job %s", prefix).hasSize(N);
                assertThat(counts.keySet()).allSatisfy(id -> assertThat(id).startsWith(prefix));
                assertThat(counts).allSatisfy((id, n) -> assertThat(n).as("copies of %s", id).isEqualTo(1));
            }
            for (JobClient job : jobs) {
                assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            }
        } finally {
            jobs.forEach(JobTestSupport::cancel);
        }
    }
}
