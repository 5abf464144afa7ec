package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.inference.FaultBundles;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cancelling the job and submitting it again into the same running TaskManagers, and a failover in between.
 *
 * <p>{@link #failoverAndResubmissionLeakNoOnnxSession}: the job classes on the application class path (as in
 * every other test). One ONNX Runtime session while the job runs, also after a TaskManager is killed and the
 * job fails over, and none left (back to the baseline) after each cancel. The second submission starts from the
 * group's committed offsets (no savepoint), so what was read after the last offset commit is read again:
 * at-least-once across a plain cancel; {@link SavepointRescaleTest} shows exactly-once with a savepoint. (The
 * Kafka source commits group offsets from its fetcher thread, which runs queued commits only between fetches:
 * with an idle partition, a fetch is a 10 s poll, so the group offsets of a short run may not be committed at
 * all by the time it is cancelled, and the second run then replays from the earliest offset.)
 *
 * <p>{@link #aJobJarSubmittedTwiceThroughAUserCodeClassLoaderClassifiesBothTimes}: the deployment layout. A job
 * jar holding only labelstream's own classes is built from target/classes, turned into a JobGraph by Flink's
 * {@link PackagedProgram} (which runs its main() in a user-code class loader) and submitted to the MiniCluster
 * with the jar attached: the TaskManager loads the job's classes child-first from the jar, in a new class loader
 * per submission, while ONNX Runtime and the DJL tokenizers come from the parent class path, which is what
 * Flink's lib/ is on a real cluster. Submitted, cancelled, submitted again: both runs classify. (With the
 * tokenizers inside the job jar, the second submission fails with "UnsatisfiedLinkError ... already loaded in
 * another classloader": measured on a standalone cluster, see STACK-NOTES; not repeated here.)
 *
 * <p>Not covered: separate JobManager and TaskManager processes, the {@code flink run} client, the packaged
 * target/labelstream-job.jar itself (this test builds an equivalent jar), and GPU memory (no GPU here).
 */
@Tag("slow")
class ResubmissionTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    @Test
    void failoverAndResubmissionLeakNoOnnxSession(@InjectMiniCluster MiniCluster cluster) throws Exception {
        // a model directory of its own: its session is this test's alone
        Path model = FaultBundles.write(Path.of("target", "test-cache", "faulty-resubmit").toAbsolutePath());
        int baseline = FaultBundles.openSessions();
        TestKafka.Topics t = TestKafka.Topics.create(2);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(InferenceOptions.MODEL_DIR, model.toString());
        conf.set(JobOptions.PARALLELISM, 2);
        conf.set(BatchingOptions.MAX_RECORDS, 8);
        // the second submission continues from the group's committed offsets
        conf.set(KafkaOptions.STARTING_OFFSETS, KafkaOptions.StartingOffsets.COMMITTED);

        FaultTestSupport.produce(client, t.input(), inputs("a-", 0, 100));
        JobClient first = JobTestSupport.start(conf);
        int duringRun;
        int afterFailover;
        try {
            FaultTestSupport.read(client, t, 100, Duration.ofSeconds(120));
            duringRun = FaultBundles.openSessions();
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
            FaultTestSupport.produce(client, t.input(), inputs("a-", 100, 200));
            assertThat(ids(FaultTestSupport.readDistinct(client, t, 200, Duration.ofSeconds(120)))).hasSize(200);
            assertThat(FaultTestSupport.restarted(cluster, first.getJobID())).as("failed over").isTrue();
            afterFailover = FaultBundles.openSessions();
        } finally {
            JobTestSupport.cancel(first);
        }
        awaitStatus(cluster, first.getJobID(), JobStatus.CANCELED);
        int afterCancel = awaitSessions(baseline);

        FaultTestSupport.produce(client, t.input(), inputs("b-", 0, 100));
        JobClient second = JobTestSupport.start(conf);
        int duringSecond;
        int replayed;
        try {
            FaultTestSupport.Outputs out = FaultTestSupport.readDistinct(client, t, 300, Duration.ofSeconds(120));
            assertThat(ids(out)).hasSize(300);
            replayed = out.duplicates();
            duringSecond = FaultBundles.openSessions();
        } finally {
            JobTestSupport.cancel(second);
        }
        awaitStatus(cluster, second.getJobID(), JobStatus.CANCELED);
        int afterSecondCancel = awaitSessions(baseline);

        assertThat(duringRun).isEqualTo(baseline + 1);
        assertThat(afterFailover).isEqualTo(baseline + 1);
        assertThat(afterCancel).isEqualTo(baseline);
        assertThat(duringSecond).isEqualTo(baseline + 1);
        assertThat(afterSecondCancel).isEqualTo(baseline);
        FaultTestSupport.figures("cancel + resubmit (failover in between)", "in=300 distinctIdsOut=300 replayedAfterCancel=" + replayed
                + " onnxSessions baseline/running/afterFailover/afterCancel/secondRun/afterSecondCancel="
                + baseline + "/" + duringRun + "/" + afterFailover + "/" + afterCancel + "/" + duringSecond + "/"
                + afterSecondCancel);
    }

    @Test
    void aJobJarSubmittedTwiceThroughAUserCodeClassLoaderClassifiesBothTimes(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        Path jar = jobJar();
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        int baseline = FaultBundles.openSessions();
        List<String> args = new ArrayList<>(jarArgs(t, "500 ms"));
        args.addAll(List.of("restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=3",
                "restart-strategy.fixed-delay.delay=500 ms"));

        InProcessMetrics.clear();
        FaultTestSupport.produce(client, t.input(), inputs("j1-", 0, 50));
        JobID first = submit(cluster, jar, args);
        int sessionsInParent;
        try {
            assertThat(ids(FaultTestSupport.readDistinct(client, t, 50, Duration.ofSeconds(120)))).hasSize(50);
            // the job's OnnxSessions is the jar's copy of the class: the application class path's stays untouched
            sessionsInParent = FaultBundles.openSessions();
            assertThat(cluster.getJobStatus(first).get()).isEqualTo(JobStatus.RUNNING);
            assertThat(FaultTestSupport.restarted(cluster, first)).as("first submission restarted").isFalse();
            Counters.assertAddUp(first, 50);
        } finally {
            cluster.cancelJob(first).get();
        }
        awaitStatus(cluster, first, JobStatus.CANCELED);

        FaultTestSupport.produce(client, t.input(), inputs("j2-", 0, 50));
        // The second submission starts at the group's committed offset (none committed: the earliest): it reads the
        // first run's records from there again, then the 50 new ones.
        long committed = committedOffset(client, "group-" + t.input(), t.input());
        long secondReads = 100 - committed;
        JobID second = submit(cluster, jar, args);
        List<String> ids;
        try {
            FaultTestSupport.Outputs out = FaultTestSupport.read(client, t, (int) (50 + secondReads),
                    Duration.ofSeconds(120));
            ids = ids(out);
            assertThat(out.count()).as("outputs of both runs").isEqualTo(50 + secondReads);
            assertThat(out.duplicates()).as("records the second run read again").isEqualTo(secondReads - 50);
            assertThat(cluster.getJobStatus(second).get()).isEqualTo(JobStatus.RUNNING);
            assertThat(FaultTestSupport.restarted(cluster, second)).as("second submission restarted").isFalse();
            Counters.assertAddUp(second, secondReads);
        } finally {
            cluster.cancelJob(second).get();
        }
        awaitStatus(cluster, second, JobStatus.CANCELED);
        assertThat(sessionsInParent).isEqualTo(baseline);
        assertThat(ids).filteredOn(id -> id.startsWith("j1-")).hasSize(50);
        assertThat(ids).filteredOn(id -> id.startsWith("j2-")).hasSize(50);
        FaultTestSupport.figures("job jar submitted twice (user-code class loader)", "in=100 distinctIdsOut="
                + ids.size() + " (run 1: 50/50, run 2: 50/50; run 2 read " + secondReads + " from committed offset "
                + committed + ") jar=" + Files.size(jar) / 1024 + " KiB, no JNI jars");
    }

    static JobID submit(MiniCluster cluster, Path jar, List<String> args) throws Exception {
        PackagedProgram program = PackagedProgram.newBuilder()
                .setJarFile(jar.toFile())
                .setEntryPointClassName(JarEntryPoint.class.getName())
                .setArguments(args.toArray(String[]::new))
                .build();
        try {
            JobGraph graph = PackagedProgramUtils.createJobGraph(program, new Configuration(), 1, false);
            assertThat(graph.getUserJars()).hasSize(1);
            return cluster.submitJob(graph).get().getJobID();
        } finally {
            program.close();
        }
    }

    /** The job's arguments for the job jar against the test broker's {@code t}, with the tiny faulty model. */
    static List<String> jarArgs(TestKafka.Topics t, String checkpointInterval) throws Exception {
        return List.of(
                KafkaOptions.BOOTSTRAP_SERVERS.key() + "=" + TestKafka.broker().bootstrapServers(),
                KafkaOptions.INPUT_TOPIC.key() + "=" + t.input(),
                KafkaOptions.OUTPUT_TOPIC.key() + "=" + t.output(),
                KafkaOptions.DEAD_LETTER_TOPIC.key() + "=" + t.deadLetters(),
                KafkaOptions.DRIFT_TOPIC.key() + "=" + t.drift(),
                KafkaOptions.GROUP_ID.key() + "=group-" + t.input(),
                KafkaOptions.TRANSACTIONAL_ID_PREFIX.key() + "=tx-" + t.input(),
                KafkaOptions.OUTPUT_FORMAT.key() + "=AVRO",
                InferenceOptions.MODEL_DIR.key() + "=" + FaultTestSupport.faultyModel(),
                JobOptions.CHECKPOINT_INTERVAL.key() + "=" + checkpointInterval,
                JobOptions.PARALLELISM.key() + "=1");
    }

    /**
     * A job jar of labelstream's own classes and resources (target/classes) plus {@link JarEntryPoint}: no ONNX
     * Runtime, no DJL, no Flink; those come from the parent class path.
     */
    static Path jobJar() throws IOException {
        Path jar = Path.of("target", "test-cache", "labelstream-test-job.jar").toAbsolutePath();
        Files.createDirectories(jar.getParent());
        Path classes = Path.of("target", "classes");
        Path testClasses = Path.of("target", "test-classes");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    add(out, classes.relativize(f).toString().replace('\\', '/'), f);
                }
            }
            String entry = JarEntryPoint.class.getName().replace('.', '/') + ".class";
            add(out, entry, testClasses.resolve(entry));
        }
        return jar;
    }

    private static void add(JarOutputStream out, String name, Path file) throws IOException {
        out.putNextEntry(new JarEntry(name));
        try (OutputStream o = new java.io.FilterOutputStream(out) {
            @Override
            public void close() {}
        }) {
            Files.copy(file, o);
        }
        out.closeEntry();
    }

    static void awaitStatus(MiniCluster cluster, JobID job, JobStatus status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cluster.getJobStatus(job).get() != status && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(cluster.getJobStatus(job).get()).isEqualTo(status);
    }

    /** Open sessions once they are back at {@code baseline}, or after 30 s (operators close asynchronously). */
    static int awaitSessions(int baseline) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (FaultBundles.openSessions() != baseline && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return FaultBundles.openSessions();
    }

    /** The committed offset of {@code group} on partition 0 of {@code topic}; 0 when it has none. */
    static long committedOffset(Properties client, String group, String topic) throws Exception {
        try (Admin admin = Admin.create(client)) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(topic, 0));
            return o == null ? 0 : o.offset();
        }
    }

    static List<String> ids(FaultTestSupport.Outputs out) {
        return new ArrayList<>(out.copiesById().keySet());
    }

    static List<TestKafka.Input> inputs(String prefix, int from, int to) {
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = from; i < to; i++) {
            in.add(TestKafka.Input.of(prefix + i, FaultTestSupport.json(prefix + i, InferenceFaultsTest.text(i))));
        }
        return in;
    }

}
