package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.ModelBundle.LongText;
import dev.labelstream.inference.ModelBundle.Pooling;
import dev.labelstream.inference.ModelBundle.PolicyDefaults;
import dev.labelstream.inference.ModelBundle.Scoring;
import dev.labelstream.inference.ModelBundle.Tokenization;
import dev.labelstream.inference.ModelBundle.WindowAggregate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The one reader of a {@link ModelBundle}'s files: config.json, labelstream.json, tokenizer.json and, for
 * head-less bundles, the head file. Each part of the bundle is read by its own method, in the order in which
 * they depend on each other (family, then head and labels, then tokenization), and every problem is an {@link
 * InvalidModelBundleException} naming the file and what to do.
 */
final class BundleReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Windows kept of a long text unless labelstream.json sets max_windows: ~6,000 tokens at max_length 256. */
    static final int DEFAULT_MAX_WINDOWS = 32;

    private final Path dir;
    private final Path config;
    private final Path settingsFile;
    private final JsonNode cfg;
    /** labelstream.json, or an empty object when the bundle has none. */
    private final JsonNode settings;

    private BundleReader(Path dir, Path config) {
        this.dir = dir;
        this.config = config;
        this.settingsFile = dir.resolve(ModelBundle.SETTINGS_FILE);
        this.cfg = readJson(config);
        this.settings = Files.isRegularFile(settingsFile) ? readJson(settingsFile) : JSON.createObjectNode();
    }

    /**
     * Reads and validates the bundle in {@code dir}.
     *
     * @param allowUntested accept model types no test covers ({@link InferenceOptions#ALLOW_UNTESTED_MODEL_TYPE})
     * @param knownVersion the version when the caller already knows it (a model in force); null to read it from
     *     labelstream.json or hash model.onnx
     */
    static ModelBundle read(Path dir, boolean allowUntested, String knownVersion) {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new InvalidModelBundleException(dir, (Files.exists(dir) ? "is not a directory" : "does not exist")
                    + ". Point --model (option " + InferenceOptions.MODEL_DIR.key() + ") at a directory holding"
                    + " model.onnx, tokenizer.json and config.json.");
        }
        Path model = requireFile(dir, ModelBundle.MODEL_FILE, "the ONNX graph (export it with Hugging Face Optimum:"
                + " optimum-cli export onnx --task text-classification ...)");
        Path tokenizer = requireFile(dir, ModelBundle.TOKENIZER_FILE, "the Hugging Face tokenizer"
                + " (tokenizer.save_pretrained writes it)");
        Path config = requireFile(dir, ModelBundle.CONFIG_FILE, "the model's config (model_type, id2label,"
                + " problem_type)");
        return new BundleReader(dir, config).read(model, tokenizer, allowUntested, knownVersion);
    }

    private ModelBundle read(Path model, Path tokenizer, boolean allowUntested, String knownVersion) {
        String modelType = text(cfg, "model_type");
        ModelFamily family = family(modelType, allowUntested);
        Pooling pooling = pooling();
        LinearHead head = head(pooling);
        List<String> labels = labels(head);
        Scoring scoring = new Scoring(pooling, head, head != null && settings.path("normalize").asBoolean(false),
                multiLabel());
        Tokenization tokenization = tokenization(tokenizer, modelType, family);
        String name = textOr(settings, "name", dir.toAbsolutePath().normalize().getFileName().toString());
        String version = knownVersion != null ? knownVersion
                : textOr(settings, "version", null) != null ? text(settings, "version")
                : "sha256:" + sha256Prefix(model);
        ModelIdentity identity = new ModelIdentity(dir.toAbsolutePath().normalize().toString(), name, version,
                modelType, family, labels, scoring.multiLabel(), tokenization.maxLength());
        PolicyDefaults policy = new PolicyDefaults(settings.get("thresholds"),
                textOr(settings, "policy_version", "default"));
        return new ModelBundle(dir, identity, tokenization, scoring, policy);
    }

    private ModelFamily family(String modelType, boolean allowUntested) {
        if (modelType == null) {
            throw new InvalidModelBundleException(config, "has no \"model_type\". Add the architecture's type,"
                    + " one of: " + ModelFamily.testedModelTypes() + ".");
        }
        ModelFamily family = ModelFamily.of(modelType);
        if (family == null) {
            throw new InvalidModelBundleException(config, "model_type \"" + modelType + "\" is not supported."
                    + " Supported model types: " + ModelFamily.testedModelTypes() + ". Untested relatives that "
                    + InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE.key() + ": true lets you try: "
                    + ModelFamily.untestedModelTypes() + ".");
        }
        if (!allowUntested && !ModelFamily.tested(modelType)) {
            throw new InvalidModelBundleException(config, "model_type \"" + modelType + "\" is untested: no"
                    + " labelstream test covers it (tested: " + ModelFamily.testedModelTypes() + "). To try it"
                    + " anyway with the " + family.name().toLowerCase(Locale.ROOT) + " rule ("
                    + (family == ModelFamily.ENCODER ? "first-token head, the tokenizer's own pair template"
                            : "last-token head, eos padding, pairs joined by a delimiter")
                    + "), set " + InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE.key() + ": true (--set "
                    + InferenceOptions.ALLOW_UNTESTED_MODEL_TYPE.key() + "=true) and compare its scores with the"
                    + " original model's.");
        }
        return family;
    }

    private LinearHead head(Pooling pooling) {
        if (pooling == Pooling.NONE) {
            return null;
        }
        String headFile = text(settings, "head");
        if (headFile == null) {
            throw new InvalidModelBundleException(settingsFile, "sets \"pooling\" for a head-less encoder but"
                    + " no \"head\": name the JSON file with the head's labels, weights and bias.");
        }
        return LinearHead.read(dir.resolve(headFile));
    }

    private boolean multiLabel() {
        String problemType = text(cfg, "problem_type");
        if (problemType == null || problemType.equals("single_label_classification")) {
            return false;
        }
        if (problemType.equals("multi_label_classification")) {
            return true;
        }
        throw new InvalidModelBundleException(config, "problem_type \"" + problemType + "\" is not"
                + " supported: use single_label_classification or multi_label_classification.");
    }

    private Pooling pooling() {
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

    private List<String> labels(LinearHead head) {
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

    private Tokenization tokenization(Path tokenizer, String modelType, ModelFamily family) {
        int positions = cfg.path("max_position_embeddings").asInt(cfg.path("n_positions").asInt(512));
        int maxLength = settings.path("max_length").asInt(Math.min(512, positions));
        if (maxLength < 8 || maxLength > positions) {
            throw new InvalidModelBundleException(settingsFile, "max_length " + maxLength + " must be between 8"
                    + " and the model's max_position_embeddings (" + positions + ").");
        }
        LongText longText = enumOf(LongText.class, "long_text", LongText.TRUNCATE);
        WindowAggregate aggregate = enumOf(WindowAggregate.class, "window_aggregate", WindowAggregate.MAX);
        int windowStride = settings.path("window_stride").asInt(maxLength / 4);
        if (windowStride < 0 || windowStride >= maxLength / 2) {
            throw new InvalidModelBundleException(settingsFile, "window_stride " + windowStride + " (the"
                    + " overlap of windows, in tokens) must be >= 0 and < max_length / 2.");
        }
        // Bounds the cost of one text: a 960 KiB text (input.max-bytes) would be ~500 windows, each a model call.
        int maxWindows = settings.path("max_windows").asInt(DEFAULT_MAX_WINDOWS);
        if (maxWindows < 1) {
            throw new InvalidModelBundleException(settingsFile, "max_windows " + maxWindows + " (windows kept of"
                    + " a long text) must be >= 1.");
        }
        String side = textOr(settings, "padding_side", "right");
        if (!side.equals("right") && !side.equals("left")) {
            throw new InvalidModelBundleException(settingsFile, "padding_side \"" + side + "\" must be right or"
                    + " left.");
        }
        boolean padLeft = side.equals("left");
        if (padLeft && family == ModelFamily.ENCODER) {
            throw new InvalidModelBundleException(settingsFile, "padding_side left is only for decoders (GPT-2"
                    + " family); " + modelType + " reads its first token and needs right padding.");
        }
        int padToMultipleOf = settings.path("pad_to_multiple_of").asInt(16);
        if (padToMultipleOf < 1) {
            throw new InvalidModelBundleException(settingsFile, "pad_to_multiple_of must be >= 1.");
        }

        ObjectNode tokenizerJson = TokenizerFiles.read(tokenizer);
        String pairDelimiter = textOr(settings, "pair_delimiter", null);
        long padTokenId = padTokenId(modelType, family, tokenizerJson);
        TokenizerFiles.stripTruncationAndPadding(tokenizerJson);
        if (family == ModelFamily.DECODER) {
            long eos = cfg.path("eos_token_id").asLong(padTokenId);
            String delimiter = pairDelimiter != null
                    ? pairDelimiter
                    : TokenizerFiles.tokenText(tokenizerJson, eos).orElse("<|endoftext|>");
            TokenizerFiles.installPairDelimiter(tokenizerJson, delimiter, tokenizer);
            pairDelimiter = delimiter;
        }
        return new Tokenization(tokenizerJson, maxLength, longText, windowStride, maxWindows, aggregate, padLeft,
                padToMultipleOf, padTokenId, pairDelimiter);
    }

    private long padTokenId(String modelType, ModelFamily family, ObjectNode tokenizerJson) {
        JsonNode pad = cfg.get("pad_token_id");
        if (pad != null && pad.canConvertToLong()) {
            return pad.asLong();
        }
        if (family == ModelFamily.DECODER) {
            // GPT-2 has no pad token; Hugging Face pads decoders with eos, and its sequence-classification
            // head finds the last real token as the last one that is not pad_token_id.
            JsonNode eos = cfg.get("eos_token_id");
            if (eos != null && eos.canConvertToLong()) {
                return eos.asLong();
            }
            throw new InvalidModelBundleException(config, "a " + modelType + " model needs \"pad_token_id\" (or"
                    + " \"eos_token_id\", used for padding when there is no pad token).");
        }
        return TokenizerFiles.padIdFromTokenizer(tokenizerJson).orElse(0L);
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

    private <E extends Enum<E>> E enumOf(Class<E> type, String field, E dflt) {
        String v = text(settings, field);
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
            throw new InvalidModelBundleException(settingsFile, field + " \"" + v + "\" is not one of " + allowed
                    + ".");
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
}
