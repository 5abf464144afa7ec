package dev.labelstream.moderation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TestModels;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The moderation options are checked without a model; their labels against a loaded bundle, before submit. */
class PolicySettingsTest {
    @TempDir
    static Path tmp;

    static ModelBundle bundle;

    @BeforeAll
    static void load() throws Exception {
        bundle = ModelBundle.load(TestModels.encoderOnly(tmp.resolve("model")));
    }

    static Configuration conf(String thresholds, String version) {
        Configuration c = new Configuration();
        if (thresholds != null) {
            c.set(ModerationOptions.THRESHOLDS, thresholds);
        }
        if (version != null) {
            c.set(ModerationOptions.POLICY_VERSION, version);
        }
        return c;
    }

    @Test
    void unsetMeansTheBundlesPolicy() {
        PolicySettings s = PolicySettings.of(new Configuration());
        assertThat(s.thresholds()).isEmpty();
        ModerationPolicy p = s.policy(bundle);
        assertThat(p.version()).isEqualTo(bundle.policy().version());
        assertThat(p).isEqualTo(PolicySettings.bundlePolicy(bundle));
    }

    @Test
    void configuredThresholdsOverrideTheBundles() {
        String label = bundle.labels().get(1);
        ModerationPolicy p = PolicySettings.check(bundle,
                conf("{\"" + label + "\": {\"review\": 0.5, \"block\": 0.9}}", "v7"));
        assertThat(p.version()).isEqualTo("v7");
        float[] scores = new float[bundle.labels().size()];
        scores[1] = 0.95f;
        ModerationPolicy.Decision d = p.decide(scores);
        assertThat(d.action()).isEqualTo(ModerationAction.BLOCK);
        assertThat(d.label()).isEqualTo(label);
        assertThat(d.threshold()).isEqualTo(0.9);
    }

    @Test
    void badThresholdsJsonNamesTheKey() {
        assertThatThrownBy(() -> PolicySettings.of(conf("{\"spam\": {\"review\": 0.5,", "v1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("moderation.thresholds: is not valid JSON")
                .hasMessageContaining("; allowed: a JSON object of label -> ");
        assertThatThrownBy(() -> PolicySettings.of(conf("[1, 2]", "v1")))
                .hasMessageStartingWith("moderation.thresholds: ").hasMessageContaining("must be an object");
        assertThatThrownBy(() -> PolicySettings.of(conf("{\"spam\": {\"review\": 0.9, \"block\": 0.5}}", "v1")))
                .hasMessageStartingWith("moderation.thresholds: ")
                .hasMessageContaining("below the review threshold");
        assertThatThrownBy(() -> PolicySettings.of(conf("{\"spam\": {\"review\": 2}}", "v1")))
                .hasMessageStartingWith("moderation.thresholds: ").hasMessageContaining("[0, 1]");
    }

    @Test
    void thresholdsNeedAVersion() {
        assertThatThrownBy(() -> PolicySettings.of(conf("{}", null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("moderation.policy-version: must be set with moderation.thresholds")
                .hasMessageContaining("; allowed: ");
    }

    @Test
    void unknownLabelIsFoundFromTheLoadedBundle() {
        PolicySettings s = PolicySettings.of(conf("{\"nope\": {\"review\": 0.5}}", "v1"));
        assertThatThrownBy(() -> s.policy(bundle))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("moderation.thresholds: thresholds name label \"nope\"")
                .hasMessageContaining(bundle.labels().toString());
    }
}
