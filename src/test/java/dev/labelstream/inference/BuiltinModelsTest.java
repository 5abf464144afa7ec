package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.demo.DemoData;
import dev.labelstream.inference.DefaultModel.Builtin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two built-in models: how {@code model.builtin} selects one, and the int8 bundle's batch invariance (its
 * dynamic quantization takes one scale over the whole call's tensor, so it must run one sequence per call).
 */
class BuiltinModelsTest {
    @Test
    void modelBuiltinSelectsTheBundleAndModelDirWins(@TempDir Path tmp) {
        assertThat(conf("model.builtin", "spam-minilm-l6-int8").get(InferenceOptions.MODEL_BUILTIN))
                .isEqualTo(Builtin.SPAM_MINILM_L6_INT8);
        assertThat(conf("model.builtin", "spam-minilm-l6").get(InferenceOptions.MODEL_BUILTIN))
                .isEqualTo(Builtin.SPAM_MINILM_L6);
        // fp32 on CPU too: int8 measured a median 1.42x end to end (five runs), under the 1.5x a default had to reach
        assertThat(DefaultModel.builtin(new Configuration())).isEqualTo(Builtin.SPAM_MINILM_L6)
                .isEqualTo(Builtin.defaultFor(InferenceOptions.Provider.CPU));
        assertThat(DefaultModel.builtin(conf("inference.provider", "cuda"))).isEqualTo(Builtin.SPAM_MINILM_L6);
        assertThatThrownBy(() -> conf("model.builtin", "spam-minilm-l6-int4").get(InferenceOptions.MODEL_BUILTIN))
                .isInstanceOf(IllegalArgumentException.class);

        Path int8 = DefaultModel.directory(Builtin.SPAM_MINILM_L6_INT8, tmp);
        ModelBundle bundle = ModelBundle.load(int8);
        assertThat(bundle.name()).isEqualTo("spam-minilm-l6-int8");
        assertThat(OnnxSessions.quantizesDynamically(bundle.modelFile())).isTrue();
        assertThat(ModelBundle.load(DefaultModel.directory(tmp)).name()).isEqualTo("spam-minilm-l6");
        // model.dir wins over model.builtin.
        assertThat(ModelBundle.load(conf("model.dir", int8.toString(), "model.builtin", "spam-minilm-l6")).name())
                .isEqualTo("spam-minilm-l6-int8");
    }

    @Test
    void theInt8BundleScoresATextTheSameInAnyBatch(@TempDir Path tmp) {
        List<TextInput> inputs = new ArrayList<>();
        for (DemoData.Message m : DemoData.messages().subList(0, 8)) {
            inputs.add(TextInput.of(m.text()));
        }
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(DefaultModel.directory(
                Builtin.SPAM_MINILM_L6_INT8, tmp)), conf("inference.intra-op-threads", "1"))) {
            ClassifiedBatch together = c.classify(inputs);
            assertThat(together.modelCalls()).isEqualTo(inputs.size());
            assertThat(together.paddedTokens()).isEqualTo(together.realTokens());
            List<TextInput> reversed = new ArrayList<>(inputs);
            Collections.reverse(reversed);
            List<Classification> backwards = c.classify(reversed).results();
            for (int i = 0; i < inputs.size(); i++) {
                Classification alone = c.classify(List.of(inputs.get(i))).results().get(0);
                assertThat(together.results().get(i).scores()).as("text %d batched", i).isEqualTo(alone.scores());
                assertThat(backwards.get(inputs.size() - 1 - i).scores()).as("text %d reversed", i)
                        .isEqualTo(alone.scores());
                assertThat(together.results().get(i).embedding()).isEqualTo(alone.embedding());
            }
        }
    }
}
