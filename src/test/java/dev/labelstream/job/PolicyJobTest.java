package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.policy.PolicyOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The live policy in the running job (kafka.policy-topic, docs/policy.md), on the shared in-JVM broker and one
 * MiniCluster, with the tiny faulty bundle (fast; its poison and slow words are never used). Actions do not
 * depend on the tiny model's scores: every threshold is 0, so a rule with a block score blocks every record and a
 * rule with only a review score reviews every record; which policy version and rule decided is what is tested.
 */
@Tag("slow")
class PolicyJobTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    /** TaskManagers killed by earlier tests of this class (they share one MiniCluster). */
    static int taskManagersKilled;

    private static final String ID = "community";
    /** Reviews every record (the toxic rule has only a review score, 0). */
    private static final String V1 = "{\"id\":\"community\",\"version\":1,\"rules\":{\"toxic\":{\"review\":0.0}}}";
    /** Blocks every record by default; tenant acme blocks too (its own rule), tenant beta is only reviewed. */
    private static final String V2 = "{\"id\":\"community\",\"version\":2,\"rules\":{\"toxic\":{\"block\":0.0}},"
            + "\"tenants\":{\"acme\":{\"toxic\":{\"review\":0.0,\"block\":0.0}},\"beta\":{\"toxic\":{\"review\":0.0}}}}";
    /** Names a label the model does not have: rejected. */
    private static final String BAD_LABEL = "{\"id\":\"community\",\"version\":3,\"rules\":{\"spam\":{\"block\":0.1}}}";
    /** Not JSON at all: rejected. */
    private static final String NOT_JSON = "{\"id\":\"community\",\"version\":4,";

    @Test
    void midStreamChangeTenantOverridesAndABadPolicy(@InjectMiniCluster MiniCluster cluster) throws Exception {
        Fixture f = Fixture.create();
        f.publish(V1);
        Configuration conf = f.conf();
        // As 'run' does: the pre-flight reads the newest valid version, so the very first record is decided by v1.
        JobSettings settings = PolicyStart.prepare(JobSettings.of(conf), Duration.ofSeconds(30), w -> { });
        assertThat(settings.startingPolicy().version()).isEqualTo(1);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings.configuration());
        LabelstreamJob.build(env, settings);
        InProcessMetrics.clear();
        JobClient job = env.executeAsync("labelstream-policy-test");
        List<ClassifiedEvent> all;
        List<Event> reports;
        try {
            f.produce("a", 0, 30, null);
            f.await(30);
            f.publish(V2);
            int probes = f.probeUntil("2");
            f.produce("b", 0, 30, null);
            f.await(60 + probes);

            f.publish(BAD_LABEL);
            f.publish(NOT_JSON);
            // Both reach the batcher before the last phase: their rejections are on the report topic.
            reports = f.reports(rs -> rs.stream().filter(r -> r.kind().equals("REJECTED")).count() >= 2);
            List<TestKafka.Input> tenants = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                tenants.add(f.input("c", i, i % 3 == 0 ? "acme" : i % 3 == 1 ? "beta" : null));
            }
            FaultTestSupport.produce(f.client, f.t.input(), tenants);
            all = f.await(90 + probes).classified();
            Thread.sleep(1000); // anything extra (a duplicate) would be committed by now
            all = f.await(Integer.MAX_VALUE, Duration.ofSeconds(3)).classified();
            assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).as("no restart").isFalse();
            // the policy documents come through a source of their own: recordsIn counts the input topic's
            Counters.assertAddUp(job, 90 + probes);
        } finally {
            JobTestSupport.cancel(job);
        }

        Map<String, ClassifiedEvent> byId = all.stream().collect(Collectors.toMap(ClassifiedEvent::getInputId,
                e -> e, (a, b) -> {
                    throw new AssertionError("duplicate output for " + a.getInputId());
                }));
        for (ClassifiedEvent e : all) {
            assertThat(e.getPolicyId()).as(e.getInputId()).isEqualTo(ID);
            String phase = e.getInputId().substring(0, 1);
            switch (phase) {
                case "a" -> expect(e, "1", ModerationAction.REVIEW, "DEFAULT");
                case "b" -> expect(e, "2", ModerationAction.BLOCK, "DEFAULT");
                case "c" -> {
                    int i = Integer.parseInt(e.getInputId().substring(2));
                    if (i % 3 == 0) {
                        expect(e, "2", ModerationAction.BLOCK, "TENANT");
                    } else if (i % 3 == 1) {
                        expect(e, "2", ModerationAction.REVIEW, "TENANT");
                        assertThat(e.getActionReason()).contains("tenant \"beta\" override");
                    } else {
                        expect(e, "2", ModerationAction.BLOCK, "DEFAULT");
                    }
                }
                default -> assertThat(e.getInputId()).startsWith("probe-");
            }
            assertThat(e.getPolicyThreshold()).isEqualTo(0.0);
        }
        assertThat(byId.keySet().stream().filter(id -> !id.startsWith("probe-"))).hasSize(90);
        assertVersionNeverDecreasesPerPartition(all);

        assertThat(reports).anySatisfy(r -> assertThat(r.kind()).isEqualTo("ACCEPTED"));
        assertThat(reports).anySatisfy(r -> {
            assertThat(r.kind()).isEqualTo("REJECTED");
            assertThat(r.version()).isEqualTo(3);
            assertThat(r.reason()).contains("$.rules.spam").contains("not one of the model's labels");
        });
        assertThat(reports).anySatisfy(r -> {
            assertThat(r.kind()).isEqualTo("REJECTED");
            assertThat(r.reason()).contains("not JSON");
        });
        assertThat(counter("policyRejected")).isGreaterThanOrEqualTo(2);

        Map<String, Long> perVersion = new TreeMap<>();
        all.forEach(e -> perVersion.merge("v" + e.getPolicyVersion(), 1L, Long::sum));
        FaultTestSupport.figures("policy change mid-stream (v1 -> v2, 2 rejected)", "in=" + all.size()
                + " perVersion=" + perVersion + " duplicates=0 rejectedEvents="
                + reports.stream().filter(r -> r.kind().equals("REJECTED")).count() + " restarts=0");
    }

    @Test
    void aRestartResumesWithThePolicyInForce(@InjectMiniCluster MiniCluster cluster) throws Exception {
        Fixture f = Fixture.create();
        Configuration conf = f.conf();
        // No pre-flight: the job starts with the bundle's thresholds, so only its state can bring v2 back.
        JobClient first = JobTestSupport.start(conf);
        String savepoint;
        int beforeFailover;
        try {
            f.publish(V2);
            int probes = f.probeUntil("2");
            // Three checkpoints: v2 is in the broadcast state and the policy source's offset is past it.
            Thread.sleep(1600);
            beforeFailover = probes;
            cluster.terminateTaskManager(taskManagersKilled++).get();
            cluster.startTaskManager();
            f.produce("f", 0, 20, null);
            f.await(probes + 20);
            assertThat(FaultTestSupport.restarted(cluster, first.getJobID())).as("failed over").isTrue();
            Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "savepoints-");
            savepoint = first.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();
        } finally {
            JobTestSupport.cancel(first);
        }

        Configuration restored = new Configuration(conf);
        restored.set(JobOptions.PARALLELISM, 2);
        restored.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        JobClient second = JobTestSupport.start(restored);
        List<ClassifiedEvent> all;
        int parallelism = 0;
        try {
            f.produce("s", 0, 20, null);
            int expected = beforeFailover + 40;
            f.await(expected);
            Thread.sleep(1000);
            all = f.await(Integer.MAX_VALUE, Duration.ofSeconds(3)).classified();
            for (AccessExecutionJobVertex v : cluster.getExecutionGraph(second.getJobID()).get().getAllVertices()
                    .values()) {
                parallelism = Math.max(parallelism, v.getParallelism());
            }
        } finally {
            JobTestSupport.cancel(second);
        }
        assertThat(parallelism).isEqualTo(2);
        Map<String, Long> copies = all.stream().collect(Collectors.groupingBy(ClassifiedEvent::getInputId,
                Collectors.counting()));
        assertThat(copies).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
        // After the failover and after the restore, the first record (and every one) is decided by v2.
        for (ClassifiedEvent e : all) {
            if (e.getInputId().startsWith("f-") || e.getInputId().startsWith("s-")) {
                expect(e, "2", ModerationAction.BLOCK, "DEFAULT");
            }
        }
        assertThat(copies.keySet().stream().filter(id -> id.startsWith("s-"))).hasSize(20);
        assertVersionNeverDecreasesPerPartition(all);
        FaultTestSupport.figures("policy restart (failover, savepoint 1 -> 2)", "in=" + all.size()
                + " afterFailoverV2=" + all.stream().filter(e -> e.getInputId().startsWith("f-")).count()
                + " afterRestoreV2=" + all.stream().filter(e -> e.getInputId().startsWith("s-")).count()
                + " duplicates=0");
    }

    private static void expect(ClassifiedEvent e, String version, ModerationAction action, String rule) {
        assertThat(e.getPolicyVersion()).as(e.getInputId() + " version").isEqualTo(version);
        assertThat(e.getAction()).as(e.getInputId() + " action").isEqualTo(action);
        assertThat(e.getPolicyRule()).as(e.getInputId() + " rule").isEqualTo(rule);
        assertThat(e.getPolicyRuleLabel()).as(e.getInputId() + " label").isEqualTo("toxic");
    }

    /** Within each input partition, the deciding version never goes down as offsets go up. */
    private static void assertVersionNeverDecreasesPerPartition(List<ClassifiedEvent> all) {
        Map<Integer, List<ClassifiedEvent>> byPartition = all.stream()
                .collect(Collectors.groupingBy(e -> e.getSource().getPartition()));
        for (List<ClassifiedEvent> p : byPartition.values()) {
            p.sort(Comparator.comparingLong(e -> e.getSource().getOffset()));
            long last = -1;
            for (ClassifiedEvent e : p) {
                long v = version(e);
                assertThat(v).as("version at %s-%d@%d", e.getSource().getTopic(), e.getSource().getPartition(),
                        e.getSource().getOffset()).isGreaterThanOrEqualTo(last);
                last = v;
            }
        }
    }

    /** The version as a number; the bundle's built-in thresholds (a name, not digits) count as 0. */
    private static long version(ClassifiedEvent e) {
        return e.getPolicyVersion().matches("\\d+") ? Long.parseLong(e.getPolicyVersion()) : 0;
    }

    private static long counter(String name) {
        long n = 0;
        for (Map.Entry<String, Metric> e : FaultTestSupport.metrics().entrySet()) {
            if (e.getKey().endsWith(name) && e.getValue() instanceof Counter c) {
                n += c.getCount();
            }
        }
        return n;
    }

    /** A policy event read back from the report topic. */
    record Event(String kind, long version, String reason) {}

    /** One test's topics, client and helpers. */
    private static final class Fixture {
        final TestKafka.Topics t;
        final String policyTopic;
        final Properties client;
        private int probe;

        private Fixture(TestKafka.Topics t, String policyTopic, Properties client) {
            this.t = t;
            this.policyTopic = policyTopic;
            this.client = client;
        }

        static Fixture create() throws Exception {
            TestKafka.Topics t = TestKafka.Topics.create(2);
            String policyTopic = "policy-" + UUID.randomUUID().toString().substring(0, 8);
            TestKafka.broker().createTopics(1, policyTopic);
            return new Fixture(t, policyTopic, FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers()));
        }

        Configuration conf() throws Exception {
            Configuration c = FaultTestSupport.jobConf(TestKafka.broker().bootstrapServers(), t, InputFormat.JSON);
            c.set(InferenceOptions.MODEL_DIR, FaultTestSupport.faultyModel().toString());
            c.set(PolicyOptions.POLICY_TOPIC, policyTopic);
            c.set(PolicyOptions.POLICY_ID, ID);
            return c;
        }

        void publish(String json) {
            FaultTestSupport.produce(client, policyTopic, List.of(TestKafka.Input.of(ID,
                    json.getBytes(StandardCharsets.UTF_8))));
        }

        TestKafka.Input input(String phase, int i, String tenant) {
            String id = phase + "-" + i;
            String attributes = tenant == null ? "" : ",\"attributes\":{\"tenant\":" + JobTestSupport.quote(tenant) + "}";
            return TestKafka.Input.of(id, ("{\"id\":\"" + id + "\",\"text\":\"hello world message number " + i
                    + "\"" + attributes + "}").getBytes(StandardCharsets.UTF_8));
        }

        void produce(String phase, int from, int to, String tenant) {
            List<TestKafka.Input> in = new ArrayList<>();
            for (int i = from; i < to; i++) {
                in.add(input(phase, i, tenant));
            }
            FaultTestSupport.produce(client, t.input(), in);
        }

        FaultTestSupport.Outputs await(int expected) {
            return await(expected, Duration.ofSeconds(120));
        }

        FaultTestSupport.Outputs await(int expected, Duration timeout) {
            FaultTestSupport.Outputs out = FaultTestSupport.read(client, t, expected, timeout);
            if (expected != Integer.MAX_VALUE) {
                assertThat(out.count()).as("outputs").isGreaterThanOrEqualTo(expected);
            }
            assertThat(out.deadLetters()).isEmpty();
            return out;
        }

        /**
         * Produces one probe record at a time until one is decided by {@code version}: from then on every record
         * is (one subtask; the version in force never decreases). Returns the number of probes.
         */
        int probeUntil(String version) {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            int sent = 0;
            while (System.nanoTime() < deadline) {
                String id = "probe-" + probe++;
                sent++;
                FaultTestSupport.produce(client, t.input(), List.of(TestKafka.Input.of(id, FaultTestSupport.json(id,
                        "hello world probe"))));
                List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(client, List.of(t.output()),
                        Duration.ofSeconds(60), got -> got.stream().anyMatch(r -> id.equals(key(r))));
                ClassifiedEvent e = FaultTestSupport.decode(t, rs).classified().stream()
                        .filter(c -> c.getInputId().equals(id)).findFirst().orElseThrow();
                if (version.equals(e.getPolicyVersion())) {
                    return sent;
                }
            }
            throw new AssertionError("no probe was decided by version " + version + " within 90 s");
        }

        List<Event> reports(Predicate<List<Event>> done) {
            return FaultTestSupport.policyEvents(client, t, b -> new Event(b.getKind(), b.getVersion(), b.getReason()),
                    done);
        }

        private static String key(ConsumerRecord<byte[], byte[]> r) {
            return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
        }
    }
}
