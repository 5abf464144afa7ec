package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads a Hugging Face tokenizer.json and adapts it to how labelstream feeds models, by editing the JSON
 * rather than re-implementing any part of the tokenizer.
 */
final class TokenizerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFiles() {}

    /** Reads tokenizer.json as it is; {@link #stripTruncationAndPadding} then adapts it. */
    static ObjectNode read(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidModelBundleException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject() || !n.path("model").isObject()) {
            throw new InvalidModelBundleException(file, "is not a Hugging Face tokenizer.json (no \"model\""
                    + " object); save the tokenizer with a fast tokenizer's save_pretrained().");
        }
        return (ObjectNode) n;
    }

    /**
     * Removes the tokenizer's own "truncation" and "padding": labelstream truncates to the bundle's max_length
     * and pads each sub-batch to its own longest sequence. (MiniLM's tokenizer.json bakes in fixed padding to
     * 128, which would make every input cost 128 tokens.)
     */
    static void stripTruncationAndPadding(ObjectNode tokenizer) {
        tokenizer.set("truncation", NullNode.getInstance());
        tokenizer.set("padding", NullNode.getInstance());
    }

    /** The pad id the tokenizer declares: its padding's pad_id, else a [PAD]/&lt;pad&gt; token. */
    static Optional<Long> padIdFromTokenizer(ObjectNode tokenizer) {
        JsonNode padding = tokenizer.get("padding");
        if (padding != null && padding.has("pad_id")) {
            return Optional.of(padding.get("pad_id").asLong());
        }
        for (String pad : new String[] {"[PAD]", "<pad>", "<PAD>"}) {
            OptionalLong id = tokenId(tokenizer, pad);
            if (id.isPresent()) {
                return Optional.of(id.getAsLong());
            }
        }
        return Optional.empty();
    }

    /** The id of a token: an added (special) token or an entry of the model's vocabulary. */
    static OptionalLong tokenId(ObjectNode tokenizer, String token) {
        for (JsonNode t : tokenizer.path("added_tokens")) {
            if (token.equals(t.path("content").asText(null))) {
                return OptionalLong.of(t.path("id").asLong());
            }
        }
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (vocab.isObject() && vocab.has(token)) {
            return OptionalLong.of(vocab.get(token).asLong());
        }
        if (vocab.isArray()) { // Unigram: [[piece, score], ...]
            for (int i = 0; i < vocab.size(); i++) {
                if (token.equals(vocab.get(i).path(0).asText(null))) {
                    return OptionalLong.of(i);
                }
            }
        }
        return OptionalLong.empty();
    }

    /** The token written for unknown input, or -1 when the vocabulary has none (byte-level BPE). */
    static long unknownTokenId(ObjectNode tokenizer) {
        JsonNode model = tokenizer.path("model");
        if (model.has("unk_id") && model.get("unk_id").canConvertToLong()) { // Unigram
            return model.get("unk_id").asLong();
        }
        String unk = model.path("unk_token").asText(null);
        return unk == null ? -1 : tokenId(tokenizer, unk).orElse(-1);
    }

    /** The token id whose text is the given token, for the id-to-text lookups of pad and eos. */
    static Optional<String> tokenText(ObjectNode tokenizer, long id) {
        for (JsonNode t : tokenizer.path("added_tokens")) {
            if (t.path("id").asLong(-1) == id) {
                return Optional.of(t.path("content").asText());
            }
        }
        return Optional.empty();
    }

    /**
     * Decoders (GPT-2) have no pair template: their tokenizer.json post-processor is ByteLevel or absent. For
     * them this installs a TemplateProcessing that joins pairs as {@code a <delimiter> b}, so the tokenizer
     * library itself joins and truncates pairs (longest first, counting the delimiter) exactly as it does for
     * encoders' [CLS] a [SEP] b [SEP]. The ByteLevel post-processor only trims offsets, which are unused.
     */
    static void installPairDelimiter(ObjectNode tokenizer, String delimiter, Path file) {
        JsonNode pp = tokenizer.get("post_processor");
        String type = pp == null || pp.isNull() ? null : pp.path("type").asText();
        if (type != null && !type.equals("ByteLevel")) {
            return; // the tokenizer knows how to encode pairs
        }
        long id = tokenId(tokenizer, delimiter).orElseThrow(() -> new InvalidModelBundleException(file,
                "has no token \"" + delimiter + "\" to join text pairs with; set \"pair_delimiter\" in"
                        + " labelstream.json to a token of the vocabulary."));
        ObjectNode template = JSON.createObjectNode();
        template.put("type", "TemplateProcessing");
        ArrayNode single = template.putArray("single");
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = template.putArray("pair");
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", delimiter).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 0);
        ObjectNode special = template.putObject("special_tokens").putObject(delimiter);
        special.put("id", delimiter);
        special.putArray("ids").add(id);
        special.putArray("tokens").add(delimiter);
        tokenizer.set("post_processor", template);
    }
}
