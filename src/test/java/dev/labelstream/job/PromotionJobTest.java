package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.policy.ModelControl;
import dev.labelstream.policy.PolicyOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Promotion without a restart (a control record on the policy topic, docs/shadow.md), under exactly-once, on the
 * shared in-JVM broker and a MiniCluster, with the tiny faulty bundle as the model in force (version 1) and two
 * candidates beside it: the same graph as version 2, and one whose config.json has a third label. Which model
 * version decided each record is what is tested, not the scores.
 */
@Tag("slow")
class PromotionJobTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    private static final String ID = "community";

    @TempDir
    static Path tmp;
    static Path v2;
    static Path threeLabels;

    @BeforeAll
    static void candidates() throws Exception {
        v2 = FaultTestSupport.faultyVariant(tmp.resolve("v2"), "2", false);
        threeLabels = FaultTestSupport.faultyVariant(tmp.resolve("three-labels"), "3", true);
    }

    @Test
    void aPromotionMidStreamSwitchesEveryPartitionOnceAndSurvivesATaskManagerFailure(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(2);
        String policyTopic = "policy-" + UUID.randomUUID().toString().substring(0, 8);
        TestKafka.broker().createTopics(1, policyTopic);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        Configuration conf = FaultTestSupport.jobConf(TestKafka.broker().bootstrapServers(), t, InputFormat.JSON);
        conf.set(InferenceOptions.MODEL_DIR, FaultTestSupport.faultyModel().toString());
        conf.set(PolicyOptions.POLICY_TOPIC, policyTopic);
        conf.set(PolicyOptions.POLICY_ID, ID);
        Probe probe = new Probe(client, t);

        JobClient job = JobTestSupport.start(conf);
        List<ClassifiedEvent> all;
        List<String[]> events;
        try {
            produce(client, t, "a", 20);
            await(client, t, 20);
            // A bundle with three labels: rejected on every subtask; version 1 keeps deciding.
            promote(client, policyTopic, new ModelControl(threeLabels.toString(), "3"));
            events = modelEvents(client, t, es -> es.stream().anyMatch(e -> e[0].equals("MODEL_REJECTED")));
            produce(client, t, "b", 10);
            await(client, t, 30);
            promote(client, policyTopic, new ModelControl(v2.toString(), "2"));
            int probes = probe.until("2");
            produce(client, t, "c", 20);
            await(client, t, 50 + probes);
            // Three checkpoints: the promotion is in the broadcast state and the policy source's offset past it.
            Thread.sleep(1600);
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
            produce(client, t, "d", 20);
            all = await(client, t, 70 + probes).classified();
            assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).as("failed over").isTrue();
            events = modelEvents(client, t, es -> es.stream().anyMatch(e -> e[0].equals("MODEL_PROMOTED")));
        } finally {
            JobTestSupport.cancel(job);
        }

        Map<String, Long> copies = all.stream().collect(Collectors.groupingBy(ClassifiedEvent::getInputId,
                Collectors.counting()));
        assertThat(copies).hasSize(70 + probe.sent).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
        for (ClassifiedEvent e : all) {
            String phase = e.getInputId().substring(0, 1);
            String expected = phase.equals("a") || phase.equals("b") ? "1" : phase.equals("p") ? null : "2";
            if (expected != null) {
                assertThat(e.getModelVersion()).as(e.getInputId()).isEqualTo(expected);
            }
        }
        // Per partition, by offset: version 1, then version 2, switching once and never back.
        Map<Integer, List<ClassifiedEvent>> byPartition = all.stream()
                .collect(Collectors.groupingBy(e -> e.getSource().getPartition()));
        Map<Integer, Integer> switches = new TreeMap<>();
        for (Map.Entry<Integer, List<ClassifiedEvent>> p : byPartition.entrySet()) {
            List<ClassifiedEvent> es = new ArrayList<>(p.getValue());
            es.sort(Comparator.comparingLong(e -> e.getSource().getOffset()));
            int changes = 0;
            for (int i = 1; i < es.size(); i++) {
                if (!es.get(i).getModelVersion().equals(es.get(i - 1).getModelVersion())) {
                    changes++;
                }
            }
            assertThat(es.get(0).getModelVersion()).isEqualTo("1");
            assertThat(es.get(es.size() - 1).getModelVersion()).isEqualTo("2");
            assertThat(changes).as("model version changes in partition %d", p.getKey()).isEqualTo(1);
            switches.put(p.getKey(), changes);
        }
        String[] rejected = events.stream().filter(e -> e[0].equals("MODEL_REJECTED")).findFirst().orElseThrow();
        assertThat(rejected[1]).contains("labels").contains("threat");
        assertThat(rejected[2]).isEqualTo("faulty@1");
        assertThat(events).anySatisfy(e -> {
            assertThat(e[0]).isEqualTo("MODEL_PROMOTED");
            assertThat(e[2]).isEqualTo("faulty@2");
        });
        Map<String, Long> perVersion = new TreeMap<>();
        all.forEach(e -> perVersion.merge("v" + e.getModelVersion(), 1L, Long::sum));
        FaultTestSupport.figures("promotion mid-stream (v1 -> v2, a 3-label bundle rejected, TaskManager killed"
                + " after)", "in=" + all.size() + " perVersion=" + perVersion + " duplicates=0 switchesPerPartition="
                + switches + " restarted=true");
    }

    private static void promote(Properties client, String topic, ModelControl c) {
        FaultTestSupport.produce(client, topic, List.of(new TestKafka.Input(
                ModelControl.key(ID).getBytes(StandardCharsets.UTF_8), c.toJson(), Map.of())));
    }

    private static void produce(Properties client, TestKafka.Topics t, String phase, int n) {
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = phase + "-" + i;
            in.add(TestKafka.Input.of(id, FaultTestSupport.json(id, "hello world message number " + i)));
        }
        FaultTestSupport.produce(client, t.input(), in);
    }

    private static FaultTestSupport.Outputs await(Properties client, TestKafka.Topics t, int expected) {
        FaultTestSupport.Outputs out = FaultTestSupport.read(client, t, expected, Duration.ofSeconds(120));
        assertThat(out.count()).as("outputs").isGreaterThanOrEqualTo(expected);
        assertThat(out.deadLetters()).isEmpty();
        return out;
    }

    /** Model events on the report topic: kind, reason, model. */
    private static List<String[]> modelEvents(Properties client, TestKafka.Topics t, Predicate<List<String[]>> done) {
        return FaultTestSupport.policyEvents(client, t, b -> b.getKind().startsWith("MODEL_")
                ? new String[] {b.getKind(), b.getReason(), b.getModel()} : null, done);
    }

    /** Produces one probe record at a time until one is decided by a model version. */
    private static final class Probe {
        final Properties client;
        final TestKafka.Topics t;
        int sent;

        Probe(Properties client, TestKafka.Topics t) {
            this.client = client;
            this.t = t;
        }

        int until(String version) {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            int before = sent;
            while (System.nanoTime() < deadline) {
                String id = "p-" + sent++;
                FaultTestSupport.produce(client, t.input(), List.of(TestKafka.Input.of(id,
                        FaultTestSupport.json(id, "hello world probe"))));
                List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(client, List.of(t.output()),
                        Duration.ofSeconds(60), got -> got.stream().anyMatch(r -> r.key() != null
                                && id.equals(new String(r.key(), StandardCharsets.UTF_8))));
                ClassifiedEvent e = FaultTestSupport.decode(t, rs).classified().stream()
                        .filter(c -> c.getInputId().equals(id)).findFirst().orElseThrow();
                if (version.equals(e.getModelVersion())) {
                    return sent - before;
                }
            }
            throw new AssertionError("no probe was decided by model version " + version + " within 90 s");
        }
    }
}
