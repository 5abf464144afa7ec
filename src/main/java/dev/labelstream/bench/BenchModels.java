package dev.labelstream.bench;

import dev.labelstream.inference.DefaultModel;
import dev.labelstream.inference.DefaultModel.Builtin;
import dev.labelstream.inference.InferenceOptions;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;

/**
 * The {@code models} part: the other built-in model (int8 when the bench runs the fp32 one, and the other way
 * round) through the same pipeline with the CPU defaults, so both precisions are measured in one run. Only when the
 * bench runs a built-in model: a {@code model.dir} bundle has no counterpart.
 */
final class BenchModels {
    private BenchModels() {}

    /** The built-in model {@code conf} runs, or empty when it runs a {@code model.dir} bundle. */
    static Optional<Builtin> running(Configuration conf) {
        return conf.getOptional(InferenceOptions.MODEL_DIR).isPresent() ? Optional.empty()
                : Optional.of(DefaultModel.builtin(conf));
    }

    /** The other built-in model's configuration: {@code conf} with {@code model.builtin} switched. */
    static Optional<Configuration> other(Configuration conf) {
        return running(conf).map(b -> {
            Configuration c = new Configuration(conf);
            c.set(InferenceOptions.MODEL_BUILTIN, b == Builtin.SPAM_MINILM_L6 ? Builtin.SPAM_MINILM_L6_INT8
                    : Builtin.SPAM_MINILM_L6);
            return c;
        });
    }

    /**
     * The fp32 built-in model's configuration when {@code conf} runs the int8 one, else empty: issue 17 compares
     * the CPU defaults with the defaults before on fp32, so the int8 bench runs that comparison on its other model.
     */
    static Optional<Configuration> fp32Counterpart(Configuration conf) {
        return int8(conf) ? other(conf) : Optional.empty();
    }

    /** "int8 " or "fp32 " for a built-in model, "" for a {@code model.dir} bundle: for labels. */
    static String tag(Configuration conf) {
        return running(conf).map(b -> b == Builtin.SPAM_MINILM_L6_INT8 ? "int8 " : "fp32 ").orElse("");
    }

    /** Whether {@code conf} runs the int8 built-in model (its GEMM rate is then the int8 one). */
    static boolean int8(Configuration conf) {
        return running(conf).filter(b -> b == Builtin.SPAM_MINILM_L6_INT8).isPresent();
    }
}
