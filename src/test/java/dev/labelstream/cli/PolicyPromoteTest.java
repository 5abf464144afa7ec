package dev.labelstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.cli.InvalidOptionsTest.Result;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.FaultBundles;
import dev.labelstream.job.TestKafka;
import dev.labelstream.policy.ModelControl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code labelstream policy promote}: its argument errors are refused before any broker is contacted (the
 * bootstrap address has none behind it), and on the shared in-JVM broker it publishes the promotion record the
 * jobs read, keyed {@code <policy id>/model}.
 */
class PolicyPromoteTest {
    /** No broker listens here: a test that reached Kafka would wait for its timeout, not exit at once. */
    private static final String NO_BROKER = "localhost:1";

    @TempDir
    static Path tmp;
    /** The faulty bundle: faulty@1. */
    static Path bundle;

    @BeforeAll
    static void bundle() throws Exception {
        bundle = FaultBundles.write(tmp.resolve("faulty"));
    }

    @Test
    void bothTheShadowAndAModelDirIsABadArgument() {
        Result r = refused("--shadow", "--model-dir", bundle.toString());
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(2);
        assertThat(r.err()).contains("give either --model-dir DIR or --shadow");
    }

    @Test
    void neitherIsABadArgument() {
        Result r = refused();
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(2);
        assertThat(r.err()).contains("give either --model-dir DIR or --shadow");
    }

    @Test
    void aVersionWithTheShadowIsABadArgument() {
        // The shadow is each job's shadow.model.dir at its configured version: a version here would not be checked.
        Result r = refused("--shadow", "--version", "2");
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--version").contains("--model-dir");
    }

    /**
     * Help works without the required options, as for every other command; its --version is the bundle's version
     * (which once made picocli drop the standard help options, --help included: exit 2, "Missing required options").
     */
    @Test
    void itsHelpPrintsWithoutTheRequiredOptions() {
        for (String help : List.of("--help", "-h")) {
            Result r = InvalidOptionsTest.run("policy", "promote", help);
            assertThat(r.code()).as("%s%nstdout: %s%nstderr: %s", help, r.out(), r.err()).isZero();
            assertThat(r.out()).contains("--version=VERSION").contains("--shadow").contains("--model-dir=DIR")
                    .contains("--help");
            assertThat(r.out() + r.err()).doesNotContain("[picocli WARN]").doesNotContain("Missing required");
        }
    }

    @Test
    void theRequiredOptionsAreRequired() {
        Result r = InvalidOptionsTest.run("policy", "promote", "--shadow", "--bootstrap-servers", NO_BROKER,
                "--topic", "policies");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--policy-id");
    }

    @Test
    void aDirThatIsNoBundleIsRefusedNamingIt() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("not-a-bundle"));
        Result r = refused("--model-dir", empty.toString());
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(1);
        assertThat(r.err()).contains(empty.toString() + ": not a model bundle: ").doesNotContain("\tat ");
        Path missing = tmp.resolve("missing");
        Result m = refused("--model-dir", missing.toString());
        assertThat(m.code()).as("stderr: %s", m.err()).isEqualTo(1);
        assertThat(m.err()).contains(missing + ": not a model bundle: ");
    }

    @Test
    void aVersionOtherThanTheBundlesIsRefused() {
        Result r = refused("--model-dir", bundle.toString(), "--version", "2");
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(1);
        assertThat(r.err()).contains(bundle + " is version 1, not 2");
        assertThat(r.millis()).as("refused before Kafka").isLessThan(20_000);
    }

    /**
     * Publishes both forms: a bundle by a relative path is published by its absolute path and its own version,
     * keyed {@code <policy id>/model}, and reads back as the {@link ModelControl} the jobs parse.
     */
    @Test
    void publishesThePromotionUnderThePolicyIdsModelKey() throws Exception {
        EmbeddedKafka broker = TestKafka.broker();
        String topic = "policy-" + UUID.randomUUID().toString().substring(0, 8);
        broker.createTopics(1, topic);
        Path relative = Path.of("").toAbsolutePath().relativize(bundle);
        Result r = publish(broker.bootstrapServers(), topic, "--model-dir", relative.toString(), "--version", "1");
        assertThat(r.code()).as("stderr: %s", r.err()).isZero();
        assertThat(r.out()).contains("published {").contains(" to " + topic + "-0@0").contains("community");
        Result s = publish(broker.bootstrapServers(), topic, "--shadow");
        assertThat(s.code()).as("stderr: %s", s.err()).isZero();
        assertThat(s.out()).contains("published {\"promote\":\"shadow\"} to " + topic + "-0@1");

        List<ConsumerRecord<byte[], byte[]>> records = read(broker, topic, 2);
        assertThat(records).hasSize(2);
        assertThat(records).allSatisfy(rec -> assertThat(new String(rec.key(), StandardCharsets.UTF_8))
                .isEqualTo("community/model"));
        assertThat(ModelControl.parse(records.get(0).value()))
                .isEqualTo(new ModelControl(bundle.toAbsolutePath().normalize().toString(), "1"));
        assertThat(ModelControl.parse(records.get(1).value())).isEqualTo(new ModelControl(null, null));
    }

    /** {@code policy promote} with {@code args} and a bootstrap address no broker listens on. */
    private static Result refused(String... args) {
        return publish(NO_BROKER, "policies", args);
    }

    private static Result publish(String bootstrap, String topic, String... args) {
        List<String> all = new ArrayList<>(List.of("policy", "promote", "--policy-id", "community",
                "--bootstrap-servers", bootstrap, "--topic", topic, "--timeout", "PT20S"));
        all.addAll(List.of(args));
        return InvalidOptionsTest.run(all.toArray(String[]::new));
    }

    private static List<ConsumerRecord<byte[], byte[]>> read(EmbeddedKafka broker, String topic, int n) {
        Properties p = new Properties();
        p.putAll(broker.clientProperties());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
