package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reference token ids made outside the JVM (see {@code src/test/node/generate-fixtures.mjs} and
 * {@code src/test/resources/fixtures/tokenization/README.md}): one JSON object per line of a gzipped resource,
 * {@code {"text", "pair": null | string, "ids": [...], "type_ids": [...] (MiniLM only)}}.
 */
final class TokenizationFixtures {

    /** MiniLM WordPiece ids with special tokens, from Tokenizers.js (pure JavaScript). */
    static final String MINILM = "/fixtures/tokenization/minilm.jsonl.gz";

    /** GPT-2 byte-level BPE ids from gpt-3-encoder; pairs are {@code a ++ [50256] ++ b}. */
    static final String GPT2 = "/fixtures/tokenization/gpt2.jsonl.gz";

    /** The GPT-2 tokenizer.json built from gpt-3-encoder's encoder.json and vocab.bpe (gzipped). */
    static final String GPT2_TOKENIZER_JSON_GZ = "/fixtures/gpt2/tokenizer.json.gz";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TokenizationFixtures() {}

    /**
     * One case: a single text ({@code pair == null}) or a pair; {@code typeIds} is null when the fixture has none.
     */
    record Case(String text, String pair, long[] ids, long[] typeIds) {

        boolean isPair() {
            return pair != null;
        }
    }

    /** Reads all cases of a gzipped JSONL resource on the test classpath. */
    static List<Case> load(String resource) {
        InputStream raw = TokenizationFixtures.class.getResourceAsStream(resource);
        if (raw == null) {
            throw new IllegalArgumentException("fixture not on the classpath: " + resource);
        }
        List<Case> cases = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = MAPPER.readTree(line);
                JsonNode text = node.get("text");
                JsonNode ids = node.get("ids");
                if (text == null || !text.isTextual() || ids == null || !ids.isArray()) {
                    throw new IOException(resource + ":" + lineNo + ": needs a string \"text\" and an array \"ids\"");
                }
                JsonNode pair = node.get("pair");
                cases.add(new Case(
                        text.asText(),
                        pair == null || pair.isNull() ? null : pair.asText(),
                        toLongs(ids),
                        node.hasNonNull("type_ids") ? toLongs(node.get("type_ids")) : null));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + resource, e);
        }
        return Collections.unmodifiableList(cases);
    }

    private static long[] toLongs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
