package dev.labelstream.inference;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a config.json {@code model_type} means for encoding. The differences between families that matter
 * outside the graph are few: whether the classification head reads the first token (encoders: BERT, ALBERT,
 * RoBERTa, ...) or the last non-padding token (decoders: GPT-2 and its relatives), and whether the tokenizer
 * has a pair template or pairs are joined with a delimiter token (decoders). Segment ids are fed exactly when
 * the graph declares {@code token_type_ids}, so RoBERTa and DistilBERT need no rule of their own.
 */
enum ModelFamily {
    /** Bidirectional encoders whose head reads the first ([CLS]/&lt;s&gt;) token. */
    ENCODER,
    /** Causal decoders whose head reads the last non-padding token; no native pad token, no pair template. */
    DECODER;

    private static final Map<String, ModelFamily> BY_MODEL_TYPE = new TreeMap<>();

    static {
        for (String t : List.of("bert", "albert", "distilbert", "roberta", "xlm-roberta", "camembert",
                "electra", "mpnet", "deberta", "deberta-v2", "mobilebert", "xlnet", "ernie", "modernbert")) {
            BY_MODEL_TYPE.put(t, ENCODER);
        }
        for (String t : List.of("gpt2", "gpt_neo", "gpt_neox", "gptj", "gpt_bigcode", "opt", "llama", "mistral",
                "qwen2", "phi", "bloom")) {
            BY_MODEL_TYPE.put(t, DECODER);
        }
    }

    /** The family of a model_type, or null when labelstream does not know it. */
    static ModelFamily of(String modelType) {
        return BY_MODEL_TYPE.get(modelType.toLowerCase(Locale.ROOT));
    }

    static String knownModelTypes() {
        return String.join(", ", BY_MODEL_TYPE.keySet());
    }
}
