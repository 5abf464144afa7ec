package dev.labelstream.inference;

import static org.apache.flink.configuration.ConfigOptions.key;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;

/** Options of the model and of the ONNX Runtime session that runs it. */
public final class InferenceOptions {
    private InferenceOptions() {}

    /** Where the model runs. */
    public enum Provider {
        /** ONNX Runtime's default CPU execution provider. */
        CPU,
        /** NVIDIA GPU through the CUDA execution provider (CUDA 12 and cuDNN 9 libraries on the loader path). */
        CUDA
    }

    public static final ConfigOption<String> MODEL_DIR = key("model.dir")
            .stringType()
            .noDefaultValue()
            .withDescription("Model bundle directory (model.onnx, tokenizer.json, config.json, optional"
                    + " labelstream.json). When unset, the built-in model model.builtin names is used; when set, it"
                    + " wins over model.builtin.");

    public static final ConfigOption<DefaultModel.Builtin> MODEL_BUILTIN = key("model.builtin")
            .enumType(DefaultModel.Builtin.class)
            .noDefaultValue()
            .withDescription("The built-in model to run when model.dir is unset: spam-minilm-l6 (fp32 MiniLM-L6 +"
                    + " spam/ham head, batched) or spam-minilm-l6-int8 (the int8, dynamically quantized build of the"
                    + " same encoder with its own head, run one unpadded sequence per call so scores do not depend on"
                    + " the batch; CPU only in practice: its integer operators fall back to the CPU under CUDA). Unset:"
                    + " spam-minilm-l6 with either provider (the int8 pipeline measured a median 1.42x the fp32 one"
                    + " in five quiet runs on a 2-core CPU, under the 1.5x asked of a default).");

    public static final ConfigOption<Boolean> ALLOW_UNTESTED_MODEL_TYPE = key("inference.allow-untested-model-type")
            .booleanType()
            .defaultValue(false)
            .withDescription("Accept a config.json model_type that no labelstream test covers (tested: albert, bert,"
                    + " gpt2, roberta). Relatives such as distilbert, xlm-roberta, llama or mistral are then run with"
                    + " the nearest family rule (encoder: first-token head; decoder: last-token head, eos padding)."
                    + " Check the scores against the original model before relying on them.");

    public static final ConfigOption<Provider> PROVIDER = key("inference.provider")
            .enumType(Provider.class)
            .defaultValue(Provider.CPU)
            .withDescription("Execution provider: CPU, or CUDA. When CUDA cannot start, the job logs why and runs"
                    + " on CPU, unless inference.require-gpu is set.");

    public static final ConfigOption<Boolean> REQUIRE_GPU = key("inference.require-gpu")
            .booleanType()
            .defaultValue(false)
            .withDescription("Fail at startup instead of falling back to CPU when the CUDA provider cannot start.");

    public static final ConfigOption<Integer> CUDA_DEVICE = key("inference.cuda.device-id")
            .intType()
            .defaultValue(0)
            .withDescription("CUDA device ordinal the session runs on.");

    public static final ConfigOption<MemorySize> CUDA_MEMORY_LIMIT = key("inference.cuda.memory-limit")
            .memoryType()
            .noDefaultValue()
            .withDescription("Upper bound of ONNX Runtime's GPU memory arena (e.g. 4gb). Unset: no limit.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS = key("inference.intra-op-threads")
            .intType()
            .defaultValue(0)
            .withDescription("ONNX Runtime intra-op threads of the CPU provider; 0 = one per core. Unset in the job"
                    + " on CPU: cores / async.threads (one each when both are unset), since more threads than cores"
                    + " only take turns. CUDA sessions always use 1, since the GPU does the work.");

    public static final ConfigOption<Integer> TOKEN_BUDGET = key("inference.token-budget")
            .intType()
            .defaultValue(8192)
            .withDescription("Most padded tokens (rows x padded length) in one model call. A batch is sorted by"
                    + " length and split into sub-batches under this budget: it bounds activation memory on the"
                    + " GPU. Must be at least the model's max length.");

    public static final ConfigOption<Double> MIN_PADDING_EFFICIENCY = key("inference.min-padding-efficiency")
            .doubleType()
            .defaultValue(0.9)
            .withDescription("A length-sorted batch is cut into another model call where keeping the next, longer"
                    + " sequence would make less than this share of the call's cells real tokens. 0 packs calls up"
                    + " to the token budget; higher values mean less padding and more, smaller calls.");

    public static final ConfigOption<Integer> MAX_SUB_BATCH = key("inference.max-sub-batch")
            .intType()
            .defaultValue(128)
            .withDescription("Most rows in one model call. Unset in the job on CPU: 1, since on a CPU a bigger call"
                    + " does the same arithmetic plus its padding (measured by 'labelstream bench'); with CUDA: 128.");

    public static final ConfigOption<Integer> MAX_LENGTH = key("inference.max-length")
            .intType()
            .noDefaultValue()
            .withDescription("Overrides the bundle's max_length (tokens, special tokens included).");

    public static final ConfigOption<ModelBundle.LongText> LONG_TEXT = key("inference.long-text")
            .enumType(ModelBundle.LongText.class)
            .noDefaultValue()
            .withDescription("TRUNCATE texts longer than max length, or split them into overlapping WINDOWS and"
                    + " aggregate the scores. Default: the bundle's long_text, else TRUNCATE.");

    public static final ConfigOption<ModelBundle.WindowAggregate> WINDOW_AGGREGATE = key("inference.window-aggregate")
            .enumType(ModelBundle.WindowAggregate.class)
            .noDefaultValue()
            .withDescription("How window scores combine: MAX (a long text is as bad as its worst part) or MEAN.");
}
