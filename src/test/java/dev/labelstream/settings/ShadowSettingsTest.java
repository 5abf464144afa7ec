package dev.labelstream.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.job.JobTestSupport;
import dev.labelstream.shadow.ShadowOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JobSettings#of} with a shadow model: the shadow bundle is checked as the primary's is, its errors naming
 * shadow.model.dir; the shadow topic must be one of its own; the shadow options' values are checked; and the topics
 * the job writes gain the shadow topic and the report topic.
 */
class ShadowSettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    /** The default bundle under another version, its files shared by links. */
    static Path candidate;
    /** The same without config.json. */
    static Path noConfig;

    @BeforeAll
    static void bundles() throws Exception {
        candidate = copyOfDefault(tmp.resolve("candidate"), Set.of());
        noConfig = copyOfDefault(tmp.resolve("no-config"), Set.of("config.json"));
    }

    static Path copyOfDefault(Path dir, Set<String> without) throws Exception {
        Path primary = JobTestSupport.defaultModel();
        Files.createDirectories(dir);
        try (var files = Files.list(primary)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!without.contains(name) && !name.equals("labelstream.json")) {
                    Files.createSymbolicLink(dir.resolve(name), f.toAbsolutePath());
                }
            }
        }
        ObjectNode meta = (ObjectNode) JSON.readTree(primary.resolve("labelstream.json").toFile());
        meta.put("version", meta.get("version").asText() + "-candidate");
        JSON.writeValue(dir.resolve("labelstream.json").toFile(), meta);
        return dir;
    }

    static Configuration conf() {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, "localhost:9092");
        c.set(InferenceOptions.MODEL_DIR, JobTestSupport.defaultModel().toString());
        return c;
    }

    static Configuration withShadow(Path dir) {
        Configuration c = conf();
        c.set(ShadowOptions.MODEL_DIR, dir.toString());
        return c;
    }

    @Test
    void aValidShadowBundleIsTheShadowModelAndItsTopicsAreWritten() {
        Configuration c = withShadow(candidate);
        c.set(DriftOptions.ENABLED, false);
        c.set(KafkaOptions.SHADOW_TOPIC, "candidate-decisions");
        c.set(KafkaOptions.DRIFT_TOPIC, "reports");
        JobSettings s = JobSettings.of(c);
        assertThat(s.shadowModel()).isPresent();
        assertThat(s.shadowModel().get().version()).endsWith("-candidate");
        assertThat(s.shadowModel().get().name()).isEqualTo(s.model().name());
        Map<String, String> written = s.writtenTopics();
        assertThat(written).containsEntry("candidate-decisions", KafkaOptions.SHADOW_TOPIC.key())
                // the agreement reports go to the report topic, drift off or not
                .containsEntry("reports", KafkaOptions.DRIFT_TOPIC.key())
                .containsEntry(c.get(KafkaOptions.OUTPUT_TOPIC), KafkaOptions.OUTPUT_TOPIC.key())
                .containsEntry(c.get(KafkaOptions.DEAD_LETTER_TOPIC), KafkaOptions.DEAD_LETTER_TOPIC.key());

        // the default shadow topic when none is given
        Configuration defaults = withShadow(candidate);
        assertThat(JobSettings.of(defaults).writtenTopics())
                .containsEntry(KafkaOptions.SHADOW_TOPIC.defaultValue(), KafkaOptions.SHADOW_TOPIC.key());
    }

    @Test
    void withoutAShadowNothingChanges() {
        Configuration c = conf();
        c.set(DriftOptions.ENABLED, false);
        JobSettings s = JobSettings.of(c);
        assertThat(s.shadowModel()).isEmpty();
        assertThat(s.writtenTopics().values()).containsExactly(KafkaOptions.OUTPUT_TOPIC.key(),
                KafkaOptions.DEAD_LETTER_TOPIC.key());
        // a shadow topic that would clash is no matter without a shadow
        c.set(KafkaOptions.SHADOW_TOPIC, c.get(KafkaOptions.OUTPUT_TOPIC));
        assertThat(JobSettings.of(c).shadowModel()).isEmpty();
    }

    @Test
    void theShadowConfigurationOpensTheShadowBundleWithTheJobsOptions() {
        Configuration c = withShadow(candidate);
        c.set(InferenceOptions.MODEL_BUILTIN, dev.labelstream.inference.DefaultModel.Builtin.SPAM_MINILM_L6);
        c.set(InferenceOptions.MAX_LENGTH, 64);
        Configuration shadow = JobSettings.shadowConfiguration(c);
        assertThat(shadow.get(InferenceOptions.MODEL_DIR)).isEqualTo(candidate.toString());
        assertThat(shadow.getOptional(InferenceOptions.MODEL_BUILTIN)).isEmpty();
        assertThat(shadow.get(InferenceOptions.MAX_LENGTH)).isEqualTo(64);
        // the job's own configuration is untouched
        assertThat(c.get(InferenceOptions.MODEL_DIR)).isEqualTo(JobTestSupport.defaultModel().toString());
    }

    @Test
    void aMissingShadowDirectoryIsRefusedNamingTheOption() {
        Path missing = tmp.resolve("no-such-bundle");
        assertThatThrownBy(() -> JobSettings.of(withShadow(missing))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ShadowOptions.MODEL_DIR.key()).hasMessageContaining(missing.toString());
    }

    @Test
    void aShadowDirectoryWithoutConfigJsonIsRefusedNamingTheOptionAndTheFile() {
        assertThatThrownBy(() -> JobSettings.of(withShadow(noConfig))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ShadowOptions.MODEL_DIR.key()).hasMessageContaining("config.json");
        // a file is not a bundle either
        Path file = candidate.resolve("labelstream.json");
        assertThatThrownBy(() -> JobSettings.of(withShadow(file))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ShadowOptions.MODEL_DIR.key());
    }

    @Test
    void theShadowTopicMustBeNoneOfTheJobsOtherTopics() {
        for (ConfigOption<String> other : java.util.List.of(KafkaOptions.OUTPUT_TOPIC, KafkaOptions.INPUT_TOPIC,
                KafkaOptions.DEAD_LETTER_TOPIC, KafkaOptions.DRIFT_TOPIC)) {
            // set explicitly
            Configuration c = withShadow(candidate);
            c.set(other, "shared-topic");
            c.set(KafkaOptions.SHADOW_TOPIC, "shared-topic");
            assertThatThrownBy(() -> JobSettings.of(c)).as(other.key()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(KafkaOptions.SHADOW_TOPIC.key()).hasMessageContaining(other.key())
                    .hasMessageContaining("shared-topic");
            // the other topic left at its default
            Configuration d = withShadow(candidate);
            d.set(KafkaOptions.SHADOW_TOPIC, other.defaultValue());
            assertThatThrownBy(() -> JobSettings.of(d)).as(other.key() + " by default")
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(KafkaOptions.SHADOW_TOPIC.key()).hasMessageContaining(other.key());
        }
        Configuration policy = withShadow(candidate);
        policy.set(dev.labelstream.policy.PolicyOptions.POLICY_TOPIC, "policies");
        policy.set(dev.labelstream.policy.PolicyOptions.POLICY_ID, "p");
        policy.set(KafkaOptions.SHADOW_TOPIC, "policies");
        assertThatThrownBy(() -> JobSettings.of(policy)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(KafkaOptions.SHADOW_TOPIC.key()).hasMessageContaining("kafka.policy-topic");

        Configuration bad = withShadow(candidate);
        bad.set(KafkaOptions.SHADOW_TOPIC, "bad topic!");
        assertThatThrownBy(() -> JobSettings.of(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(KafkaOptions.SHADOW_TOPIC.key());
    }

    @Test
    void agreementThresholdsMustBeOrderedInTheUnitInterval() {
        double[][] bad = {{0.95, 0.96}, {1.5, 0.9}, {0.9, -0.1}, {Double.NaN, 0.5}, {0.5, Double.NaN}};
        for (double[] wa : bad) {
            for (boolean shadow : new boolean[] {true, false}) {
                Configuration c = shadow ? withShadow(candidate) : conf();
                c.set(ShadowOptions.AGREEMENT_WARN, wa[0]);
                c.set(ShadowOptions.AGREEMENT_ALERT, wa[1]);
                assertThatThrownBy(() -> JobSettings.of(c)).as("warn %s alert %s", wa[0], wa[1])
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(ShadowOptions.AGREEMENT_WARN.key())
                        .hasMessageContaining(ShadowOptions.AGREEMENT_ALERT.key());
            }
        }
        // equal thresholds are allowed: no WARN band
        Configuration equal = withShadow(candidate);
        equal.set(ShadowOptions.AGREEMENT_WARN, 0.9);
        equal.set(ShadowOptions.AGREEMENT_ALERT, 0.9);
        assertThat(JobSettings.of(equal).shadowModel()).isPresent();
    }

    @Test
    void countsBelowTheirMinimumAreRefusedNamingTheOption() {
        Map<ConfigOption<Integer>, Integer> bad = Map.of(ShadowOptions.MAX_IN_FLIGHT, 0, ShadowOptions.THREADS, 0,
                ShadowOptions.MIN_RECORDS, 0, ShadowOptions.EXAMPLES, -1);
        bad.forEach((option, value) -> {
            for (boolean shadow : new boolean[] {true, false}) {
                Configuration c = shadow ? withShadow(candidate) : conf();
                c.set(option, value);
                assertThatThrownBy(() -> JobSettings.of(c)).as("%s=%s", option.key(), value)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(option.key());
            }
        });
        Configuration rate = withShadow(candidate);
        rate.set(ShadowOptions.SAMPLE_RATE, 0.0);
        assertThatThrownBy(() -> JobSettings.of(rate)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ShadowOptions.SAMPLE_RATE.key());
    }
}
