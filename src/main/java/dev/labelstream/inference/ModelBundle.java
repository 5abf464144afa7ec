package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.moderation.Thresholds;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

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
 * <p>{@link #load(Path)} reads and checks the files that describe the model; the graph itself is checked
 * against this description when a {@link BatchClassifier} opens it. Every problem is reported as an {@link
 * InvalidModelBundleException} that names the file and what to do, at startup rather than at the first record.
 */
public final class ModelBundle {
    static final String MODEL_FILE = "model.onnx";
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String CONFIG_FILE = "config.json";
    static final String SETTINGS_FILE = "labelstream.json";

    private static final ObjectMapper JSON = new ObjectMapper();

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

    private final Path dir;
    private final String name;
    private final String version;
    private final String modelType;
    private final ModelFamily family;
    private final List<String> labels;
    private final boolean multiLabel;
    private final int maxLength;
    private final LongText longText;
    private final int windowStride;
    private final WindowAggregate windowAggregate;
    private final boolean padLeft;
    private final int padToMultipleOf;
    private final long padTokenId;
    private final String pairDelimiter;
    private final Pooling pooling;
    private final LinearHead head;
    private final boolean normalize;
    private final Map<String, Thresholds> thresholds;
    private final String policyVersion;
    private final ObjectNode tokenizerJson;

    private ModelBundle(Path dir, Builder b) {
        this.dir = dir;
        this.name = b.name;
        this.version = b.version;
        this.modelType = b.modelType;
        this.family = b.family;
        this.labels = List.copyOf(b.labels);
        this.multiLabel = b.multiLabel;
        this.maxLength = b.maxLength;
        this.longText = b.longText;
        this.windowStride = b.windowStride;
        this.windowAggregate = b.windowAggregate;
        this.padLeft = b.padLeft;
        this.padToMultipleOf = b.padToMultipleOf;
        this.padTokenId = b.padTokenId;
        this.pairDelimiter = b.pairDelimiter;
        this.pooling = b.pooling;
        this.head = b.head;
        this.normalize = b.normalize;
        this.thresholds = Collections.unmodifiableMap(new LinkedHashMap<>(b.thresholds));
        this.policyVersion = b.policyVersion;
        this.tokenizerJson = b.tokenizerJson;
    }

    /** The bundle {@link InferenceOptions#MODEL_DIR} names, or the built-in default model when it is unset. */
    public static ModelBundle load(org.apache.flink.configuration.ReadableConfig conf) {
        return load(conf.getOptional(InferenceOptions.MODEL_DIR).map(Path::of).orElseGet(DefaultModel::directory));
    }

    /**
     * Reads and validates the bundle in {@code dir}.
     *
     * @throws InvalidModelBundleException naming the file and the problem
     */
    public static ModelBundle load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new InvalidModelBundleException(dir, (Files.exists(dir) ? "is not a directory" : "does not exist")
                    + ". Point --model (option " + InferenceOptions.MODEL_DIR.key() + ") at a directory holding"
                    + " model.onnx, tokenizer.json and config.json.");
        }
        Path model = requireFile(dir, MODEL_FILE, "the ONNX graph (export it with Hugging Face Optimum:"
                + " optimum-cli export onnx --task text-classification ...)");
        Path tokenizer = requireFile(dir, TOKENIZER_FILE, "the Hugging Face tokenizer (tokenizer.save_pretrained"
                + " writes it)");
        Path config = requireFile(dir, CONFIG_FILE, "the model's config (model_type, id2label, problem_type)");

        Builder b = new Builder();
        JsonNode cfg = readJson(config);
        JsonNode settings = Files.isRegularFile(dir.resolve(SETTINGS_FILE))
                ? readJson(dir.resolve(SETTINGS_FILE))
                : JSON.createObjectNode();
        Path settingsFile = dir.resolve(SETTINGS_FILE);

        b.modelType = text(cfg, "model_type");
        if (b.modelType == null) {
            throw new InvalidModelBundleException(config, "has no \"model_type\". Add the architecture's type,"
                    + " one of: " + ModelFamily.knownModelTypes() + ".");
        }
        b.family = ModelFamily.of(b.modelType);
        if (b.family == null) {
            throw new InvalidModelBundleException(config, "model_type \"" + b.modelType + "\" is not supported."
                    + " Supported model types: " + ModelFamily.knownModelTypes() + ".");
        }

        b.pooling = readPooling(settings, settingsFile);
        if (b.pooling != Pooling.NONE) {
            String headFile = text(settings, "head");
            if (headFile == null) {
                throw new InvalidModelBundleException(settingsFile, "sets \"pooling\" for a head-less encoder but"
                        + " no \"head\": name the JSON file with the head's labels, weights and bias.");
            }
            b.head = LinearHead.read(dir.resolve(headFile));
            b.normalize = settings.path("normalize").asBoolean(false);
        }
        b.labels = readLabels(cfg, config, b.head, settingsFile);
        String problemType = text(cfg, "problem_type");
        if (problemType == null || problemType.equals("single_label_classification")) {
            b.multiLabel = false;
        } else if (problemType.equals("multi_label_classification")) {
            b.multiLabel = true;
        } else {
            throw new InvalidModelBundleException(config, "problem_type \"" + problemType + "\" is not"
                    + " supported: use single_label_classification or multi_label_classification.");
        }

        b.name = textOr(settings, "name", dir.toAbsolutePath().normalize().getFileName().toString());
        b.version = textOr(settings, "version", null);
        if (b.version == null) {
            b.version = "sha256:" + sha256Prefix(model);
        }
        int positions = cfg.path("max_position_embeddings").asInt(cfg.path("n_positions").asInt(512));
        b.maxLength = settings.path("max_length").asInt(Math.min(512, positions));
        if (b.maxLength < 8 || b.maxLength > positions) {
            throw new InvalidModelBundleException(settingsFile, "max_length " + b.maxLength + " must be between 8"
                    + " and the model's max_position_embeddings (" + positions + ").");
        }
        b.longText = enumOf(LongText.class, settings, "long_text", LongText.TRUNCATE, settingsFile);
        b.windowAggregate = enumOf(WindowAggregate.class, settings, "window_aggregate", WindowAggregate.MAX,
                settingsFile);
        b.windowStride = settings.path("window_stride").asInt(b.maxLength / 4);
        if (b.windowStride < 0 || b.windowStride >= b.maxLength / 2) {
            throw new InvalidModelBundleException(settingsFile, "window_stride " + b.windowStride + " (the"
                    + " overlap of windows, in tokens) must be >= 0 and < max_length / 2.");
        }
        String side = textOr(settings, "padding_side", "right");
        if (!side.equals("right") && !side.equals("left")) {
            throw new InvalidModelBundleException(settingsFile, "padding_side \"" + side + "\" must be right or"
                    + " left.");
        }
        b.padLeft = side.equals("left");
        if (b.padLeft && b.family == ModelFamily.ENCODER) {
            throw new InvalidModelBundleException(settingsFile, "padding_side left is only for decoders (GPT-2"
                    + " family); " + b.modelType + " reads its first token and needs right padding.");
        }
        b.padToMultipleOf = settings.path("pad_to_multiple_of").asInt(16);
        if (b.padToMultipleOf < 1) {
            throw new InvalidModelBundleException(settingsFile, "pad_to_multiple_of must be >= 1.");
        }

        b.tokenizerJson = TokenizerFiles.read(tokenizer);
        b.pairDelimiter = textOr(settings, "pair_delimiter", null);
        b.padTokenId = readPadTokenId(cfg, config, b);
        TokenizerFiles.stripTruncationAndPadding(b.tokenizerJson);
        if (b.family == ModelFamily.DECODER) {
            long eos = cfg.path("eos_token_id").asLong(b.padTokenId);
            String delimiter = b.pairDelimiter != null
                    ? b.pairDelimiter
                    : TokenizerFiles.tokenText(b.tokenizerJson, eos).orElse("<|endoftext|>");
            TokenizerFiles.installPairDelimiter(b.tokenizerJson, delimiter, tokenizer);
            b.pairDelimiter = delimiter;
        }
        try {
            b.thresholds = Thresholds.parse(settings.get("thresholds"), b.labels);
        } catch (IllegalArgumentException e) {
            throw new InvalidModelBundleException(settingsFile, e.getMessage() + ".", e);
        }
        b.policyVersion = textOr(settings, "policy_version", "default");
        return new ModelBundle(dir, b);
    }

    private static long readPadTokenId(JsonNode cfg, Path config, Builder b) {
        JsonNode pad = cfg.get("pad_token_id");
        if (pad != null && pad.canConvertToLong()) {
            return pad.asLong();
        }
        if (b.family == ModelFamily.DECODER) {
            // GPT-2 has no pad token; Hugging Face pads decoders with eos, and its sequence-classification
            // head finds the last real token as the last one that is not pad_token_id.
            JsonNode eos = cfg.get("eos_token_id");
            if (eos != null && eos.canConvertToLong()) {
                return eos.asLong();
            }
            throw new InvalidModelBundleException(config, "a " + b.modelType + " model needs \"pad_token_id\" (or"
                    + " \"eos_token_id\", used for padding when there is no pad token).");
        }
        return TokenizerFiles.padIdFromTokenizer(b.tokenizerJson).orElse(0L);
    }

    private static List<String> readLabels(JsonNode cfg, Path config, LinearHead head, Path settingsFile) {
        JsonNode id2label = cfg.get("id2label");
        List<String> fromConfig = null;
        if (id2label != null && id2label.isObject() && id2label.size() > 0) {
            String[] labels = new String[id2label.size()];
            for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int index;
                try {
                    index = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new InvalidModelBundleException(config, "id2label key \"" + e.getKey() + "\" is not a"
                            + " number: keys are the label indices 0.." + (labels.length - 1) + ".");
                }
                if (index < 0 || index >= labels.length || labels[index] != null) {
                    throw new InvalidModelBundleException(config, "id2label must number its labels 0.."
                            + (labels.length - 1) + " without gaps or repeats; found key " + index + ".");
                }
                labels[index] = e.getValue().asText();
            }
            fromConfig = List.of(labels);
        }
        if (head != null) {
            if (fromConfig != null && !fromConfig.equals(head.labels())) {
                throw new InvalidModelBundleException(settingsFile, "the head's labels " + head.labels()
                        + " differ from config.json id2label " + fromConfig + ".");
            }
            return head.labels();
        }
        if (fromConfig == null) {
            throw new InvalidModelBundleException(config, "has no \"id2label\": a classifier must name its labels,"
                    + " e.g. {\"0\": \"ham\", \"1\": \"spam\"}.");
        }
        return fromConfig;
    }

    private static Pooling readPooling(JsonNode settings, Path settingsFile) {
        String p = text(settings, "pooling");
        if (p == null) {
            return Pooling.NONE;
        }
        return switch (p.toLowerCase(Locale.ROOT)) {
            case "cls", "first" -> Pooling.CLS;
            case "mean" -> Pooling.MEAN;
            case "last" -> Pooling.LAST;
            default -> throw new InvalidModelBundleException(settingsFile, "pooling \"" + p + "\" is not one of"
                    + " cls, mean, last.");
        };
    }

    private static Path requireFile(Path dir, String file, String what) {
        Path p = dir.resolve(file);
        if (!Files.isRegularFile(p)) {
            throw new InvalidModelBundleException(p, "is missing: a model bundle needs " + what + ".");
        }
        return p;
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new InvalidModelBundleException(file, "must hold a JSON object.");
            }
            return n;
        } catch (IOException e) {
            throw new InvalidModelBundleException(file, "is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String textOr(JsonNode n, String field, String dflt) {
        String v = text(n, field);
        return v == null ? dflt : v;
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, JsonNode n, String field, E dflt, Path file) {
        String v = text(n, field);
        if (v == null) {
            return dflt;
        }
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> allowed = new ArrayList<>();
            for (E c : type.getEnumConstants()) {
                allowed.add(c.name().toLowerCase(Locale.ROOT));
            }
            throw new InvalidModelBundleException(file, field + " \"" + v + "\" is not one of " + allowed + ".");
        }
    }

    private static String sha256Prefix(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digesting
            }
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest()).substring(0, 12);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new InvalidModelBundleException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path modelFile() {
        return dir.resolve(MODEL_FILE);
    }

    /** Model name for decisions and metrics: labelstream.json "name", else the directory name. */
    public String name() {
        return name;
    }

    /** labelstream.json "version", else the first 12 hex digits of model.onnx's SHA-256. */
    public String version() {
        return version;
    }

    public String modelType() {
        return modelType;
    }

    ModelFamily family() {
        return family;
    }

    /** Label names in the order of the model's outputs. */
    public List<String> labels() {
        return labels;
    }

    /** True for problem_type multi_label_classification (sigmoid per label), else softmax. */
    public boolean multiLabel() {
        return multiLabel;
    }

    public int maxLength() {
        return maxLength;
    }

    LongText longText() {
        return longText;
    }

    int windowStride() {
        return windowStride;
    }

    WindowAggregate windowAggregate() {
        return windowAggregate;
    }

    boolean padLeft() {
        return padLeft;
    }

    /** Sequence lengths are padded up to a multiple of this (labelstream.json pad_to_multiple_of, default 16). */
    public int padToMultipleOf() {
        return padToMultipleOf;
    }

    long padTokenId() {
        return padTokenId;
    }

    String pairDelimiter() {
        return pairDelimiter;
    }

    Pooling pooling() {
        return pooling;
    }

    LinearHead head() {
        return head;
    }

    /** Head-less bundles: L2-normalize the pooled embedding before the head (sentence-transformers style). */
    boolean normalize() {
        return normalize;
    }

    ObjectNode tokenizerJson() {
        return tokenizerJson;
    }

    /** Per-label moderation thresholds from labelstream.json; empty when the bundle sets none. */
    public Map<String, Thresholds> thresholds() {
        return thresholds;
    }

    public String policyVersion() {
        return policyVersion;
    }

    /** A copy of this bundle's settings with max_length and long-text handling overridden by configuration. */
    ModelBundle withLimits(int newMaxLength, LongText newLongText, WindowAggregate newAggregate) {
        Builder b = toBuilder();
        b.maxLength = newMaxLength;
        b.longText = newLongText;
        b.windowAggregate = newAggregate;
        b.windowStride = Math.min(windowStride, newMaxLength / 4);
        return new ModelBundle(dir, b);
    }

    private Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.version = version;
        b.modelType = modelType;
        b.family = family;
        b.labels = labels;
        b.multiLabel = multiLabel;
        b.maxLength = maxLength;
        b.longText = longText;
        b.windowStride = windowStride;
        b.windowAggregate = windowAggregate;
        b.padLeft = padLeft;
        b.padToMultipleOf = padToMultipleOf;
        b.padTokenId = padTokenId;
        b.pairDelimiter = pairDelimiter;
        b.pooling = pooling;
        b.head = head;
        b.normalize = normalize;
        b.thresholds = thresholds;
        b.policyVersion = policyVersion;
        b.tokenizerJson = tokenizerJson;
        return b;
    }

    @Override
    public String toString() {
        return name + " " + version + " (" + modelType + ", " + labels.size() + " labels"
                + (multiLabel ? ", multi-label" : "") + ", max_length " + maxLength + ") from " + dir;
    }

    private static final class Builder {
        String name;
        String version;
        String modelType;
        ModelFamily family;
        List<String> labels;
        boolean multiLabel;
        int maxLength;
        LongText longText;
        int windowStride;
        WindowAggregate windowAggregate;
        boolean padLeft;
        int padToMultipleOf;
        long padTokenId;
        String pairDelimiter;
        Pooling pooling;
        LinearHead head;
        boolean normalize;
        Map<String, Thresholds> thresholds = Map.of();
        String policyVersion;
        ObjectNode tokenizerJson;
    }
}
