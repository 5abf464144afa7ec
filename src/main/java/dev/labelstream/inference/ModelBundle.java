package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.apache.flink.configuration.ReadableConfig;

/**
 * A classifier in the directory layout Hugging Face Optimum exports, so users can bring their own fine-tuned
 * model:
 *
 * <pre>
 * model.onnx        inputs input_ids, attention_mask, [token_type_ids]; output logits [batch, labels]
 *                   (or last_hidden_state [batch, seq, hidden] with "pooling" and "head" in labelstream.json)
 * tokenizer.json    Hugging Face tokenizers format (WordPiece, Unigram/SentencePiece, byte-level BPE)
 * config.json       model_type, id2label, problem_type, pad_token_id / eos_token_id
 * labelstream.json  optional: name, version, max_length, long_text, padding_side, thresholds, pooling, head
 * </pre>
 *
 * <p>A bundle is four values: who the model is ({@link ModelIdentity}), how texts become ids ({@link
 * Tokenization}), how graph outputs become scores ({@link Scoring}), and the moderation defaults it ships
 * ({@link PolicyDefaults}, raw: the moderation package parses and checks them). One reader, {@link BundleReader},
 * reads and checks the files; the graph itself is checked against this description when a {@link
 * BatchClassifier} opens it. Every problem is reported as an {@link InvalidModelBundleException} that names the
 * file and what to do, at startup rather than at the first record.
 *
 * @param dir the bundle directory
 * @param identity name, version, labels, family: the model in force
 * @param tokenization tokenizer and sequence-length settings
 * @param scoring pooling, head and activation
 * @param policy thresholds and policy version from labelstream.json
 */
public record ModelBundle(Path dir, ModelIdentity identity, Tokenization tokenization, Scoring scoring,
        PolicyDefaults policy) {
    static final String MODEL_FILE = "model.onnx";
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String CONFIG_FILE = "config.json";
    static final String SETTINGS_FILE = "labelstream.json";

    public ModelBundle {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(tokenization, "tokenization");
        Objects.requireNonNull(scoring, "scoring");
        Objects.requireNonNull(policy, "policy");
    }

    /** How the scores of one input are computed from the graph's outputs. */
    enum Pooling {
        /** The graph ends in a classification head: its logits output is used as is. */
        NONE,
        /** Head-less encoder: the first token's hidden state feeds the head. */
        CLS,
        /** Head-less encoder: the attention-masked mean of the hidden states feeds the head. */
        MEAN,
        /** Head-less decoder: the last non-padding token's hidden state feeds the head. */
        LAST
    }

    /** What to do with texts longer than max_length. */
    public enum LongText {
        /** Keep the first max_length tokens (longest-first for pairs). */
        TRUNCATE,
        /** Split into overlapping windows, classify each and aggregate the scores. */
        WINDOWS
    }

    /** How the scores of a long text's windows are combined. */
    public enum WindowAggregate {
        MAX,
        MEAN
    }

    /**
     * How texts become the graph's input ids.
     *
     * @param tokenizerJson tokenizer.json with its baked-in truncation and padding removed (and, for decoders,
     *     the pair delimiter installed)
     * @param maxLength tokens per sequence, special tokens included
     * @param longText truncate or split texts longer than maxLength
     * @param windowStride overlap of windows, in tokens
     * @param maxWindows windows kept of a long text (labelstream.json max_windows); the rest is dropped
     * @param windowAggregate how window scores combine
     * @param padLeft pad on the left (decoders only)
     * @param padToMultipleOf sequence lengths are padded up to a multiple of this
     * @param padTokenId the id padding is filled with
     * @param pairDelimiter the token text joining pairs for decoders; null for encoders (their template does it)
     */
    record Tokenization(ObjectNode tokenizerJson, int maxLength, LongText longText, int windowStride,
            int maxWindows, WindowAggregate windowAggregate, boolean padLeft, int padToMultipleOf, long padTokenId,
            String pairDelimiter) {

        /** These settings with max length and long-text handling overridden by configuration. */
        Tokenization withLimits(int newMaxLength, LongText newLongText, WindowAggregate newAggregate) {
            return new Tokenization(tokenizerJson, newMaxLength, newLongText,
                    Math.min(windowStride, newMaxLength / 4), maxWindows, newAggregate, padLeft, padToMultipleOf, padTokenId,
                    pairDelimiter);
        }
    }

    /**
     * How the graph's output becomes scores.
     *
     * @param pooling NONE when the graph has its own head (logits), else how hidden states are pooled
     * @param head the linear head of a head-less bundle; null with pooling NONE
     * @param normalize L2-normalize the pooled embedding before the head (sentence-transformers style)
     * @param multiLabel sigmoid per label; else softmax
     */
    record Scoring(Pooling pooling, LinearHead head, boolean normalize, boolean multiLabel) {}

    /**
     * The moderation defaults a bundle ships, as written: parsed and checked against the labels by the
     * moderation package, so that this package need not know what a threshold is.
     *
     * @param thresholds labelstream.json "thresholds", or null
     * @param version labelstream.json "policy_version", else "default"
     */
    public record PolicyDefaults(JsonNode thresholds, String version) {}

    /**
     * The bundle {@link InferenceOptions#MODEL_DIR} names (when unset, the built-in model {@link
     * InferenceOptions#MODEL_BUILTIN} selects, see {@link DefaultModel#directory(ReadableConfig)}), honouring
     * {@link InferenceOptions#ALLOW_UNTESTED_MODEL_TYPE}. Reads model.onnx whole when the bundle names no version.
     */
    public static ModelBundle load(ReadableConfig conf) {
        Path dir = conf.getOptional(InferenceOptions.MODEL_DIR).map(Path::of)
                .orElseGet(() -> DefaultModel.directory(conf));
        return BundleReader.read(dir, conf.get(InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE), null);
    }

    /**
     * Reads and validates the bundle in {@code dir}; model types no test covers are refused.
     *
     * @throws InvalidModelBundleException naming the file and the problem
     */
    public static ModelBundle load(Path dir) {
        return BundleReader.read(dir, false, null);
    }

    /**
     * Reads the bundle of a model in force again (on a TaskManager), without hashing model.onnx: the identity
     * already carries the version. Fails when the files no longer describe that model (edited after the job
     * was built), since decisions would otherwise name a model that did not make them.
     *
     * @throws InvalidModelBundleException naming the file and the difference
     */
    public static ModelBundle load(ModelIdentity model, ReadableConfig conf) {
        ModelBundle b = BundleReader.read(Path.of(model.dir()), conf.get(InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE),
                model.version());
        ModelIdentity read = b.identity();
        if (!read.name().equals(model.name()) || !read.labels().equals(model.labels())
                || read.multiLabel() != model.multiLabel() || !read.modelType().equals(model.modelType())) {
            throw new InvalidModelBundleException(b.dir(), "changed since the job was built: it now describes "
                    + read.name() + " " + read.labels() + ", the job was built for " + model.name() + " "
                    + model.labels() + ". Restore the bundle, or submit the job again for the new model.");
        }
        return b;
    }

    public Path modelFile() {
        return dir.resolve(MODEL_FILE);
    }

    /** Model name for decisions and metrics: labelstream.json "name", else the directory name. */
    public String name() {
        return identity.name();
    }

    /** labelstream.json "version", else the first 12 hex digits of model.onnx's SHA-256. */
    public String version() {
        return identity.version();
    }

    public String modelType() {
        return identity.modelType();
    }

    /** Label names in the order of the model's outputs. */
    public List<String> labels() {
        return identity.labels();
    }

    /** True for problem_type multi_label_classification (sigmoid per label), else softmax. */
    public boolean multiLabel() {
        return identity.multiLabel();
    }

    public int maxLength() {
        return tokenization.maxLength();
    }

    /** Sequence lengths are padded up to a multiple of this (labelstream.json pad_to_multiple_of, default 16). */
    public int padToMultipleOf() {
        return tokenization.padToMultipleOf();
    }

    /** This bundle with max length and long-text handling overridden (the identity's max length follows). */
    ModelBundle withLimits(int newMaxLength, LongText newLongText, WindowAggregate newAggregate) {
        return new ModelBundle(dir, identity.withMaxLength(newMaxLength),
                tokenization.withLimits(newMaxLength, newLongText, newAggregate), scoring, policy);
    }

    @Override
    public String toString() {
        return name() + " " + version() + " (" + modelType() + ", " + labels().size() + " labels"
                + (multiLabel() ? ", multi-label" : "") + ", max_length " + maxLength() + ") from " + dir;
    }
}
