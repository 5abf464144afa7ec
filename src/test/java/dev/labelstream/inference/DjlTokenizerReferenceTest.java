package dev.labelstream.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * DJL's HuggingFaceTokenizer (the Rust tokenizers library) against ids made by independent JavaScript
 * implementations on real SpamAssassin text: Tokenizers.js for MiniLM's WordPiece, gpt-3-encoder for GPT-2.
 */
class DjlTokenizerReferenceTest {

    private static final long GPT2_END_OF_TEXT = 50256L;

    /** No truncation, no padding: the MiniLM tokenizer.json bakes in truncation 128 and fixed padding 128. */
    private static final Map<String, String> NO_TRUNCATION_NO_PADDING =
            Map.of("truncation", "false", "padding", "false", "maxLength", "100000");

    @Test
    void miniLmWordPieceMatchesTokenizersJs() throws IOException {
        List<TokenizationFixtures.Case> cases = TokenizationFixtures.load(TokenizationFixtures.MINILM);
        assertTrue(cases.size() >= 550, "fixture cases: " + cases.size());
        List<String> mismatches = new ArrayList<>();
        try (InputStream json = resource("/all-minilm-l6-v2-q-tokenizer.json");
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json, NO_TRUNCATION_NO_PADDING)) {
            for (TokenizationFixtures.Case c : cases) {
                Encoding e = c.isPair() ? tokenizer.encode(c.text(), c.pair(), true, false)
                        : tokenizer.encode(c.text(), true, false);
                String ids = diff("ids", c.ids(), e.getIds(), e.getTokens());
                String types = diff("type_ids", c.typeIds(), e.getTypeIds(), e.getTokens());
                if (ids != null || types != null) {
                    mismatches.add(describe(c) + (ids != null ? " " + ids : "") + (types != null ? " " + types : ""));
                }
            }
        }
        report("MiniLM", cases, mismatches);
    }

    @Test
    void gpt2ByteLevelBpeMatchesGpt3Encoder() throws IOException {
        List<TokenizationFixtures.Case> cases = TokenizationFixtures.load(TokenizationFixtures.GPT2);
        assertTrue(cases.size() >= 550, "fixture cases: " + cases.size());
        List<String> mismatches = new ArrayList<>();
        try (InputStream json = new GZIPInputStream(resource(TokenizationFixtures.GPT2_TOKENIZER_JSON_GZ));
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json, NO_TRUNCATION_NO_PADDING)) {
            for (TokenizationFixtures.Case c : cases) {
                long[] actual;
                String[] tokens;
                if (c.isPair()) {
                    Encoding a = tokenizer.encode(c.text(), false, false);
                    Encoding b = tokenizer.encode(c.pair(), false, false);
                    actual = concat(a.getIds(), new long[] {GPT2_END_OF_TEXT}, b.getIds());
                    tokens = concat(a.getTokens(), new String[] {"<|endoftext|>"}, b.getTokens());
                } else {
                    Encoding e = tokenizer.encode(c.text(), true, false);
                    actual = e.getIds();
                    tokens = e.getTokens();
                }
                String ids = diff("ids", c.ids(), actual, tokens);
                if (ids != null) {
                    mismatches.add(describe(c) + " " + ids);
                }
            }
        }
        report("GPT-2", cases, mismatches);
    }

    private static InputStream resource(String name) {
        InputStream in = DjlTokenizerReferenceTest.class.getResourceAsStream(name);
        assertNotNull(in, "not on the test classpath: " + name);
        return in;
    }

    private static void report(String family, List<TokenizationFixtures.Case> cases, List<String> mismatches) {
        long pairs = cases.stream().filter(TokenizationFixtures.Case::isPair).count();
        System.out.printf("%s: DJL equals reference for %d/%d cases (%d single, %d pair)%n",
                family, cases.size() - mismatches.size(), cases.size(), cases.size() - pairs, pairs);
        mismatches.forEach(m -> System.out.println("  " + m));
        assertEquals(List.of(), mismatches.subList(0, Math.min(5, mismatches.size())),
                family + ": " + mismatches.size() + " of " + cases.size() + " cases differ (first 5 shown)");
    }

    /** Null when equal, else where the first difference is and what surrounds it. */
    private static String diff(String what, long[] expected, long[] actual, String[] tokens) {
        if (expected == null || Arrays.equals(expected, actual)) {
            return null;
        }
        int i = 0;
        while (i < expected.length && i < actual.length && expected[i] == actual[i]) {
            i++;
        }
        int to = Math.min(i + 6, Math.max(expected.length, actual.length));
        return String.format("%s differ at %d (lengths %d/%d): expected %s actual %s tokens %s", what, i,
                expected.length, actual.length,
                Arrays.toString(Arrays.copyOfRange(expected, Math.min(i, expected.length), Math.min(to, expected.length))),
                Arrays.toString(Arrays.copyOfRange(actual, Math.min(i, actual.length), Math.min(to, actual.length))),
                Arrays.toString(Arrays.copyOfRange(tokens, Math.min(i, tokens.length), Math.min(to, tokens.length))));
    }

    private static String describe(TokenizationFixtures.Case c) {
        String text = c.text().length() > 60 ? c.text().substring(0, 60) + "..." : c.text();
        return (c.isPair() ? "pair " : "single ") + "\"" + text.replace("\n", "\\n") + "\"";
    }

    private static long[] concat(long[]... arrays) {
        long[] out = new long[Arrays.stream(arrays).mapToInt(a -> a.length).sum()];
        int at = 0;
        for (long[] a : arrays) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    private static String[] concat(String[]... arrays) {
        String[] out = new String[Arrays.stream(arrays).mapToInt(a -> a.length).sum()];
        int at = 0;
        for (String[] a : arrays) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }
}
