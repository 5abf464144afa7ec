package dev.labelstream.inference;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a config.json {@code model_type} means for encoding. The differences between families that matter
 * outside the graph are few: whether the classification head reads the first token (encoders: BERT, ALBERT,
 * RoBERTa) or the last non-padding token (decoders: GPT-2), and whether the tokenizer has a pair template or
 * pairs are joined with a delimiter token (decoders). Segment ids are fed exactly when the graph declares
 * {@code token_type_ids}, so RoBERTa needs no rule of its own.
 *
 * <p>Supported means tested: a model type is accepted only when a test builds a bundle of it and classifies
 * with it ({@code TestBundlesTest}). Its relatives (llama, mistral, xlnet, ...) follow one of the two rules in
 * principle, but real exports of several of them declare inputs (position_ids, past key values) or pad in ways
 * that no test has shown to work; they are refused unless {@link InferenceOptions#ALLOW_UNTESTED_MODEL_TYPE} is
 * set, which maps them to the nearest family rule.
 */
public enum ModelFamily {
    /** Bidirectional encoders whose head reads the first ([CLS]/&lt;s&gt;) token. */
    ENCODER,
    /** Causal decoders whose head reads the last non-padding token; no native pad token, no pair template. */
    DECODER;

    /** Model types a test covers. */
    private static final Map<String, ModelFamily> TESTED = new TreeMap<>();
    /** Relatives that follow a family rule in principle but that no test exercises. */
    private static final Map<String, ModelFamily> UNTESTED = new TreeMap<>();

    static {
        for (String t : List.of("bert", "albert", "roberta")) {
            TESTED.put(t, ENCODER);
        }
        TESTED.put("gpt2", DECODER);
        for (String t : List.of("distilbert", "xlm-roberta", "camembert", "electra", "mpnet", "deberta",
                "deberta-v2", "mobilebert", "xlnet", "ernie", "modernbert")) {
            UNTESTED.put(t, ENCODER);
        }
        for (String t : List.of("gpt_neo", "gpt_neox", "gptj", "gpt_bigcode", "opt", "llama", "mistral", "qwen2",
                "phi", "bloom")) {
            UNTESTED.put(t, DECODER);
        }
    }

    /** Whether a test covers {@code modelType}. */
    static boolean tested(String modelType) {
        return TESTED.containsKey(modelType.toLowerCase(Locale.ROOT));
    }

    /** The family of a tested or untested model_type, or null when labelstream knows no rule for it. */
    static ModelFamily of(String modelType) {
        String t = modelType.toLowerCase(Locale.ROOT);
        ModelFamily f = TESTED.get(t);
        return f != null ? f : UNTESTED.get(t);
    }

    /** The model types a test covers, comma-separated. */
    static String testedModelTypes() {
        return String.join(", ", TESTED.keySet());
    }

    /** The untested relatives that {@link InferenceOptions#ALLOW_UNTESTED_MODEL_TYPE} lets through. */
    static String untestedModelTypes() {
        return String.join(", ", UNTESTED.keySet());
    }
}
