package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The inference options are checked from the configuration alone, before any model is read or submitted. */
class InferenceSettingsTest {
    @TempDir
    static Path tmp;

    @Test
    void defaults() {
        InferenceSettings s = InferenceSettings.of(new Configuration());
        assertThat(s.tokenBudget()).isEqualTo(8192);
        assertThat(s.minPaddingEfficiency()).isEqualTo(0.9);
        assertThat(s.maxSubBatch()).isEqualTo(128);
        assertThat(s.maxLength()).isEmpty();
        assertThat(s.allowUntestedModelType()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "inference.token-budget|1|less than one sequence",
            "inference.token-budget|many|an integer",
            "inference.min-padding-efficiency|1.5|must be in [0, 1]",
            "inference.min-padding-efficiency|-0.1|must be in [0, 1]",
            "inference.min-padding-efficiency|NaN|must be in [0, 1]",
            "inference.max-sub-batch|0|must be >= 1",
            "inference.max-length|4|must be >= 8",
            "inference.intra-op-threads|-1|must be >= 0",
            "inference.cuda.device-id|-2|must be >= 0",
            "inference.provider|TPU|CPU, CUDA",
            "inference.long-text|SUMMARIZE|TRUNCATE, WINDOWS",
            "inference.cuda.memory-limit|lots|a memory size"})
    void badValueNamesTheKeyAndWhatIsAllowed(String key, String value, String problem) {
        assertThatThrownBy(() -> InferenceSettings.of(conf(key, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(key + ": ")
                .hasMessageContaining("; allowed: ")
                .hasMessageContaining(problem);
    }

    @Test
    void tokenBudgetAgainstAnExplicitMaxLengthNeedsNoModel() {
        assertThatThrownBy(() -> InferenceSettings.of(conf("inference.token-budget", "200",
                "inference.max-length", "256")))
                .hasMessageStartingWith("inference.token-budget: 200 tokens")
                .hasMessageContaining("inference.max-length (256)");
    }

    @Test
    void tokenBudgetAgainstTheBundlesMaxLengthIsCheckedFromALoadedBundle() throws Exception {
        ModelBundle bert = ModelBundle.load(TestBundles.bert(tmp.resolve("bert")));
        InferenceSettings s = InferenceSettings.of(conf("inference.token-budget", "256"));
        assertThatThrownBy(() -> s.check(bert))
                .hasMessageStartingWith("inference.token-budget: 256 tokens")
                .hasMessageContaining("(512)");
        InferenceSettings fits = InferenceSettings.of(conf("inference.token-budget", "256",
                "inference.max-length", "256"));
        fits.check(bert);
        assertThat(fits.applyTo(bert).maxLength()).isEqualTo(256);
        assertThat(fits.applyTo(bert).identity().maxLength()).isEqualTo(256);
        assertThat(fits.applyTo(bert).version()).isEqualTo(bert.version());
    }
}
