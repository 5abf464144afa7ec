package dev.labelstream.inference;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The {@link InferenceOptions} of a configuration, read and checked once, so that a bad value is found before a
 * job is submitted (on the client) rather than in {@code open()} on every restart. {@link #of} needs only the
 * configuration; {@link #check(ModelBundle)} adds what needs the model (the token budget against its max
 * length) and runs wherever a bundle has been read: before submit, and again when a classifier opens.
 *
 * <pre>{@code
 * InferenceSettings s = InferenceSettings.of(conf);   // IllegalArgumentException("inference.token-budget: ...")
 * s.check(ModelBundle.load(conf));
 * }</pre>
 *
 * @param provider execution provider
 * @param requireGpu fail instead of falling back to CPU
 * @param cudaDevice CUDA device ordinal
 * @param cudaMemoryLimit bytes of ORT's GPU arena, 0 = no limit
 * @param intraOpThreads ORT intra-op threads, 0 = one per core
 * @param tokenBudget most padded tokens per model call
 * @param minPaddingEfficiency share of real tokens below which a sorted batch is cut
 * @param maxSubBatch most rows per model call
 * @param maxLength override of the bundle's max_length, if set
 * @param longText override of the bundle's long_text, if set
 * @param windowAggregate override of the bundle's window_aggregate, if set
 * @param allowUntestedModelType accept model types no test covers
 */
public record InferenceSettings(
        InferenceOptions.Provider provider,
        boolean requireGpu,
        int cudaDevice,
        long cudaMemoryLimit,
        int intraOpThreads,
        int tokenBudget,
        double minPaddingEfficiency,
        int maxSubBatch,
        Optional<Integer> maxLength,
        Optional<ModelBundle.LongText> longText,
        Optional<ModelBundle.WindowAggregate> windowAggregate,
        boolean allowUntestedModelType) {

    /** The shortest max length a model may have (also the bundle reader's floor for max_length). */
    static final int MIN_MAX_LENGTH = 8;

    /**
     * Reads and checks the inference options of {@code conf}.
     *
     * @throws IllegalArgumentException {@code "<key>: <what is wrong>; allowed: ..."}
     */
    public static InferenceSettings of(ReadableConfig conf) {
        Optional<Integer> maxLength = read(conf, InferenceOptions.MAX_LENGTH, "an integer >= 8");
        maxLength.ifPresent(m -> require(m >= MIN_MAX_LENGTH, InferenceOptions.MAX_LENGTH,
                "must be >= " + MIN_MAX_LENGTH + ", got " + m, "an integer from 8 to the model's"
                        + " max_position_embeddings"));
        int budget = get(conf, InferenceOptions.TOKEN_BUDGET, "an integer >= the model's max length");
        int floor = maxLength.orElse(MIN_MAX_LENGTH);
        require(budget >= floor, InferenceOptions.TOKEN_BUDGET, budget + " tokens is less than one sequence of "
                + (maxLength.isPresent() ? InferenceOptions.MAX_LENGTH.key() + " (" + floor + ")"
                        : "the shortest max length a model may have (" + floor + ")"),
                "an integer >= the model's max length (default " + InferenceOptions.TOKEN_BUDGET.defaultValue()
                        + ")");
        double efficiency = get(conf, InferenceOptions.MIN_PADDING_EFFICIENCY, "a number from 0 to 1");
        require(efficiency >= 0 && efficiency <= 1, InferenceOptions.MIN_PADDING_EFFICIENCY,
                "must be in [0, 1], got " + efficiency, "a number from 0 (pack to the token budget) to 1");
        int maxSub = get(conf, InferenceOptions.MAX_SUB_BATCH, "an integer >= 1");
        require(maxSub >= 1, InferenceOptions.MAX_SUB_BATCH, "must be >= 1, got " + maxSub, "an integer >= 1");
        int intraOp = get(conf, InferenceOptions.INTRA_OP_THREADS, "an integer >= 0");
        require(intraOp >= 0, InferenceOptions.INTRA_OP_THREADS, "must be >= 0, got " + intraOp,
                "0 (one per core) or a positive thread count");
        int device = get(conf, InferenceOptions.CUDA_DEVICE, "an integer >= 0");
        require(device >= 0, InferenceOptions.CUDA_DEVICE, "must be >= 0, got " + device, "a CUDA device ordinal");
        Optional<MemorySize> limit = read(conf, InferenceOptions.CUDA_MEMORY_LIMIT, "a memory size such as 4gb");
        limit.ifPresent(m -> require(m.getBytes() >= 1, InferenceOptions.CUDA_MEMORY_LIMIT,
                "must be more than 0 bytes, got " + m, "a memory size such as 4gb, or unset for no limit"));
        long memory = limit.map(MemorySize::getBytes).orElse(0L);
        return new InferenceSettings(
                get(conf, InferenceOptions.PROVIDER, allowed(InferenceOptions.Provider.class)),
                get(conf, InferenceOptions.REQUIRE_GPU, "true or false"),
                device, memory, intraOp, budget, efficiency, maxSub, maxLength,
                read(conf, InferenceOptions.LONG_TEXT, allowed(ModelBundle.LongText.class)),
                read(conf, InferenceOptions.WINDOW_AGGREGATE, allowed(ModelBundle.WindowAggregate.class)),
                get(conf, InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE, "true or false"));
    }

    /**
     * Checks these settings against a model: one sequence of its max length (after {@link
     * InferenceOptions#MAX_LENGTH}) must fit the token budget.
     *
     * @throws IllegalArgumentException naming the option
     */
    public void check(ModelBundle bundle) {
        int length = maxLength.orElse(bundle.maxLength());
        if (tokenBudget < length) {
            throw new IllegalArgumentException(InferenceOptions.TOKEN_BUDGET.key() + ": " + tokenBudget
                    + " tokens is less than one sequence of the model's max length (" + length + "); allowed: >= "
                    + length + ", or lower " + InferenceOptions.MAX_LENGTH.key() + ".");
        }
    }

    /** {@code bundle} with this configuration's max length and long-text overrides applied. */
    public ModelBundle applyTo(ModelBundle bundle) {
        if (maxLength.isEmpty() && longText.isEmpty() && windowAggregate.isEmpty()) {
            return bundle;
        }
        ModelBundle.Tokenization t = bundle.tokenization();
        return bundle.withLimits(maxLength.orElse(t.maxLength()), longText.orElse(t.longText()),
                windowAggregate.orElse(t.windowAggregate()));
    }

    /** The shared-session key of {@code bundle}'s graph under these settings. */
    OnnxSessions.Key sessionKey(ModelBundle bundle) {
        return new OnnxSessions.Key(bundle.modelFile().toAbsolutePath().normalize(), provider, cudaDevice,
                cudaMemoryLimit, intraOpThreads, requireGpu);
    }

    private static <T> T get(ReadableConfig conf, ConfigOption<T> option, String allowed) {
        return read(conf, option, allowed).orElseGet(option::defaultValue);
    }

    /** The option's value if set; a value Flink cannot parse becomes a message naming the key. */
    private static <T> Optional<T> read(ReadableConfig conf, ConfigOption<T> option, String allowed) {
        try {
            return conf.getOptional(option);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option.key() + ": " + rootMessage(e) + "; allowed: " + allowed, e);
        }
    }

    private static void require(boolean ok, ConfigOption<?> option, String problem, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(option.key() + ": " + problem + "; allowed: " + allowed);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
    }

    private static String allowed(Class<? extends Enum<?>> type) {
        return Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
