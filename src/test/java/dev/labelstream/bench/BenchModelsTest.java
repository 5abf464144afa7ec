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
    void theDefaultsBeforeRunTheFp32ModelWhenTheBenchRunsTheInt8One() {
        Configuration int8 = Configuration.fromMap(Map.of("model.builtin", "spam-minilm-l6-int8",
                "inference.max-sub-batch", "4"));
        Configuration before = BenchSuite.OLD_DEFAULTS.applyTo(BenchModels.fp32Counterpart(int8).orElseThrow(),
                java.util.Set.of("inference.max-sub-batch"));
        assertThat(before.get(InferenceOptions.MODEL_BUILTIN)).isEqualTo(Builtin.SPAM_MINILM_L6);
        assertThat(before.get(dev.labelstream.settings.JobOptions.ASYNC_THREADS)).isEqualTo(2);
        assertThat(before.get(InferenceOptions.INTRA_OP_THREADS)).isZero();
        // an option set with --set is kept, as on every other run
        assertThat(before.get(InferenceOptions.MAX_SUB_BATCH)).isEqualTo(4);
        assertThat(BenchModels.tag(int8)).isEqualTo("int8 ");
        assertThat(BenchModels.tag(before)).isEqualTo("fp32 ");
        // fp32 or a model.dir bundle: the bench's own model, as before
        assertThat(BenchModels.fp32Counterpart(Configuration.fromMap(Map.of("model.builtin", "spam-minilm-l6"))))
                .isEmpty();
        Configuration dir = Configuration.fromMap(Map.of("model.dir", "/models/x"));
        assertThat(BenchModels.fp32Counterpart(dir)).isEmpty();
        assertThat(BenchModels.tag(dir)).isEmpty();
    }

    @Test
    void thePipelineAtItsBestIsTheBetterMeasuredOne() {
        assertThat(BenchSuite.better(27.5, 20.6)).isTrue();
        assertThat(BenchSuite.better(20.6, 27.5)).isFalse();
        assertThat(BenchSuite.better(20.6, 20.6)).isFalse();
        assertThat(BenchSuite.better(20.6, Double.NaN)).isTrue();
        assertThat(BenchSuite.better(Double.NaN, 20.6)).isFalse();
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
