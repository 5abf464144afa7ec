package dev.labelstream.config;

import dev.labelstream.inference.DefaultModel;
import dev.labelstream.inference.InferenceOptions;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/** Model and execution-provider options shared by the commands that load a model. */
public final class ModelArgs {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Model bundle directory (model.onnx, tokenizer.json, config.json[, labelstream.json])."
                    + " Default: the built-in model --builtin names.")
    Path model;

    @Option(names = "--builtin", paramLabel = "NAME",
            description = "Built-in model when --model is not given: spam-minilm-l6 (fp32) or spam-minilm-l6-int8"
                    + " (int8, one sequence per call). Default: spam-minilm-l6 with either provider"
                    + " (option model.builtin).")
    String builtin;

    @Option(names = "--provider", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "Execution provider (default: ${DEFAULT-VALUE}). CUDA falls back to CPU with a warning"
                    + " unless --require-gpu is set.")
    public InferenceOptions.Provider provider;

    @Option(names = "--require-gpu", description = "Fail instead of falling back to CPU when CUDA cannot start.")
    boolean requireGpu;

    @Option(names = "--max-length", paramLabel = "TOKENS", description = "Override the bundle's max_length.")
    Integer maxLength;

    /** The bundle directory: --model, else the built-in model --builtin (or the provider's default) names. */
    public Path modelDir() {
        return model != null ? model : DefaultModel.directory(selection());
    }

    /**
     * The options these arguments set. The built-in model is passed as {@link InferenceOptions#MODEL_BUILTIN}, not
     * resolved to a directory, so that options added later (e.g. a bench's {@code --set model.builtin=...} or
     * {@code --set inference.provider=...}) still choose it; {@code --model} is passed as {@link
     * InferenceOptions#MODEL_DIR}, which wins.
     */
    public Configuration toConfiguration() {
        Configuration c = selection();
        if (model != null) {
            c.set(InferenceOptions.MODEL_DIR, model.toString());
        }
        c.set(InferenceOptions.REQUIRE_GPU, requireGpu);
        if (maxLength != null) {
            c.set(InferenceOptions.MAX_LENGTH, maxLength);
        }
        return c;
    }

    private Configuration selection() {
        Configuration c = new Configuration();
        c.set(InferenceOptions.PROVIDER, provider);
        if (builtin != null) {
            c.setString(InferenceOptions.MODEL_BUILTIN.key(), builtin);
            try {
                c.get(InferenceOptions.MODEL_BUILTIN);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--builtin: unknown built-in model '" + builtin + "'; choose one"
                        + " of " + java.util.Arrays.toString(DefaultModel.Builtin.values()), e);
            }
        }
        return c;
    }
}

