package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.inference.DefaultModel.Builtin;
import dev.labelstream.inference.InferenceOptions;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The bench's second built-in model, and the options its sql part hands to ML_PREDICT. */
class BenchModelsTest {
    @Test
    void theOtherBuiltinModelIsTheOtherPrecisionAndNoneForAModelDir() {
        Configuration fp32 = Configuration.fromMap(Map.of("model.builtin", "spam-minilm-l6"));
        assertThat(BenchModels.other(fp32).orElseThrow().get(InferenceOptions.MODEL_BUILTIN))
                .isEqualTo(Builtin.SPAM_MINILM_L6_INT8);
        Configuration int8 = Configuration.fromMap(Map.of("model.builtin", "spam-minilm-l6-int8"));
        assertThat(BenchModels.int8(int8)).isTrue();
        assertThat(BenchModels.other(int8).orElseThrow().get(InferenceOptions.MODEL_BUILTIN))
                .isEqualTo(Builtin.SPAM_MINILM_L6);
        assertThat(BenchModels.other(Configuration.fromMap(Map.of("model.dir", "/models/x")))).isEmpty();
    }

    @Test
    void builtinAndTheNewPartsParse() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--builtin", "spam-minilm-l6-int8",
                "--skip", "models,gemm,sql");
        assertThat(b.skip).containsExactlyInAnyOrder(BenchCommand.Part.MODELS, BenchCommand.Part.GEMM,
                BenchCommand.Part.SQL);
        assertThat(b.modelArgs.toConfiguration().get(InferenceOptions.MODEL_BUILTIN))
                .isEqualTo(Builtin.SPAM_MINILM_L6_INT8);
        assertThat(b.modelArgs.toConfiguration().getOptional(InferenceOptions.MODEL_DIR)).isEmpty();
    }

    @Test
    void theSqlPartGetsTheSameModelThreadsAndBatching() {
        Configuration c = Configuration.fromMap(Map.of("model.builtin", "spam-minilm-l6-int8", "async.threads", "2",
                "inference.intra-op-threads", "1", "inference.max-sub-batch", "1", "drift.enabled", "false"));
        Map<String, String> with = BenchSql.modelOptions(c);
        assertThat(with).containsEntry("model.builtin", "spam-minilm-l6-int8").containsEntry("async.threads", "2")
                .containsEntry("inference.intra-op-threads", "1").containsEntry("inference.max-sub-batch", "1")
                .containsKeys("batching.max-records", "batching.linger", "inference.token-budget")
                .doesNotContainKey("drift.enabled");
    }
}
