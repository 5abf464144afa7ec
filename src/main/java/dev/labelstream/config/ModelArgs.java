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
                    + " Default: the built-in MiniLM-L6 spam/ham model.")
    Path model;

    @Option(names = "--provider", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "Execution provider (default: ${DEFAULT-VALUE}). CUDA falls back to CPU with a warning"
                    + " unless --require-gpu is set.")
    public InferenceOptions.Provider provider;

    @Option(names = "--require-gpu", description = "Fail instead of falling back to CPU when CUDA cannot start.")
    boolean requireGpu;

    @Option(names = "--max-length", paramLabel = "TOKENS", description = "Override the bundle's max_length.")
    Integer maxLength;

    public Path modelDir() {
        return model != null ? model : DefaultModel.directory();
    }

    public Configuration toConfiguration() {
        Configuration c = new Configuration();
        c.set(InferenceOptions.MODEL_DIR, modelDir().toString());
        c.set(InferenceOptions.PROVIDER, provider);
        c.set(InferenceOptions.REQUIRE_GPU, requireGpu);
        if (maxLength != null) {
            c.set(InferenceOptions.MAX_LENGTH, maxLength);
        }
        return c;
    }
}
