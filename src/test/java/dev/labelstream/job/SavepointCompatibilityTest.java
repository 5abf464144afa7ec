package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A savepoint taken by an earlier version of the job restores into this one. The fixture in
 * {@code src/test/resources/fixtures/savepoint-0.1/} was written by {@link #writeFixture} running on the
 * commit before the package layout changed (0cf87d6, see the README there): it holds the Kafka source's
 * offsets, the batches the async operator had in flight ({@code InputEvent}s) and the drift windows'
 * accumulators, each serialized under its class name. If one of those classes moves or changes its fields,
 * the restore fails here, before a user's upgrade does.
 *
 * <p>The restored job reads the same 200 records, produced in the same order to topics of the same names on
 * a fresh broker, so the saved offsets point at the same records. What the old job wrote before its stop plus
 * what the restored one writes covers every id (nothing in flight was lost), and the restored job does not
 * start over (it resumed from the saved offsets, so the restore really happened).
 */
@Tag("slow")
class SavepointCompatibilityTest {
    static final Path FIXTURE = Path.of("src", "test", "resources", "fixtures", "savepoint-0.1");
    static final int RECORDS = 200;
    static final TestKafka.Topics TOPICS = new TestKafka.Topics("sp01-in", "sp01-out", "sp01-dlq", "sp01-drift");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(1)
            .build());

    @Test
    void restoresASavepointOfTheEarlierLayout() throws Exception {
        Path savepoint = copyOfFixtureSavepoint();
        Set<String> before = new TreeSet<>(Files.readAllLines(FIXTURE.resolve("emitted-before-stop.txt")));
        assertThat(before).isNotEmpty().hasSizeLessThan(RECORDS);
        createTopicsAndProduce();

        Configuration conf = conf();
        conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint.toUri().toString());
        JobClient job = JobTestSupport.start(conf);
        Set<String> after = new TreeSet<>();
        try {
            Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            Set<String> all = new TreeSet<>(before);
            while (all.size() < RECORDS && System.nanoTime() < deadline) {
                FaultTestSupport.Outputs out = FaultTestSupport.read(client, TOPICS, Integer.MAX_VALUE,
                        Duration.ofSeconds(3));
                assertThat(out.deadLetters()).isEmpty();
                after.clear();
                out.classified().forEach(e -> after.add(e.getInputId()));
                all.addAll(after);
            }
            assertThat(all).as("ids before the stop plus after the restore").hasSize(RECORDS);
        } finally {
            JobTestSupport.cancel(job);
        }
        // Resumed from the saved offsets: the first records (classified before the stop, not in flight) do not
        // come again; a job that ignored the savepoint would start from EARLIEST and write all of them.
        assertThat(after).hasSizeLessThan(RECORDS);
        FaultTestSupport.figures("restore a savepoint of the 0.1 layout", "in=" + RECORDS + " outBeforeStop="
                + before.size() + " outAfterRestore=" + after.size());
    }

    /**
     * Writes the fixture: {@code mvn test -Dtest=SavepointCompatibilityTest#writeFixture
     * -Dlabelstream.savepoint-fixture=DIR} on the version whose savepoints the fixture stands for.
     */
    @Test
    @EnabledIfSystemProperty(named = "labelstream.savepoint-fixture", matches = ".+")
    void writeFixture() throws Exception {
        Path out = Path.of(System.getProperty("labelstream.savepoint-fixture")).toAbsolutePath();
        createTopicsAndProduce();
        JobClient job = JobTestSupport.start(conf());
        String savepoint;
        try {
            Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
            FaultTestSupport.read(client, TOPICS, 40, Duration.ofSeconds(120));
            Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "savepoints-");
            savepoint = job.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();
            FaultTestSupport.Outputs before = FaultTestSupport.read(client, TOPICS, Integer.MAX_VALUE,
                    Duration.ofSeconds(3));
            Set<String> ids = new TreeSet<>();
            before.classified().forEach(e -> ids.add(e.getInputId()));
            Files.createDirectories(out.resolve("savepoint"));
            copyTree(Path.of(java.net.URI.create(savepoint)), out.resolve("savepoint"));
            Files.write(out.resolve("emitted-before-stop.txt"), ids, StandardCharsets.UTF_8);
        } finally {
            JobTestSupport.cancel(job);
        }
    }

    /** At-least-once output: the fixture then holds no Kafka transaction of a broker that no longer exists. */
    static Configuration conf() throws Exception {
        Configuration conf = JobTestSupport.jobConf(TOPICS, InputFormat.JSON);
        conf.set(KafkaOptions.DELIVERY_GUARANTEE, KafkaOptions.Guarantee.AT_LEAST_ONCE);
        conf.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.AVRO);
        conf.set(BatchingOptions.MAX_RECORDS, 8);
        return conf;
    }

    static void createTopicsAndProduce() throws Exception {
        TestKafka.broker().createTopics(2, TOPICS.input());
        TestKafka.broker().createTopics(1, TOPICS.output(), TOPICS.deadLetters(), TOPICS.drift());
        List<TestKafka.Input> in = new ArrayList<>();
        List<dev.labelstream.demo.DemoData.Message> messages = dev.labelstream.demo.DemoData.messages();
        for (int i = 0; i < RECORDS; i++) {
            String text = messages.get(i % messages.size()).text();
            String id = "r-" + i;
            in.add(TestKafka.Input.of(id, FaultTestSupport.json(id, text.substring(0, Math.min(200, text.length())))));
        }
        TestKafka.produce(TOPICS.input(), in);
    }

    static Path copyOfFixtureSavepoint() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "savepoint-fixture-");
        copyTree(FIXTURE.resolve("savepoint"), dir);
        return dir;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
