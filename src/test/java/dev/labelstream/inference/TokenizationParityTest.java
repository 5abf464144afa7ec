package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ids {@link TextEncoder} feeds the model equal reference ids made outside the JVM by independent
 * tokenizer implementations (Tokenizers.js for MiniLM's WordPiece, gpt-3-encoder for GPT-2's byte-level BPE;
 * see src/test/resources/fixtures/tokenization/README.md): 1192 cases per tokenizer, 600 single texts and 592
 * pairs, 200 with non-ASCII characters.
 *
 * <p>Two limits: one large enough that nothing is truncated (every case is compared as is), and the model's own
 * 512, where the few cases longer than 512 tokens are compared with the reference truncated the way Hugging Face
 * tokenizers truncates (single: keep the head; pairs: longest first).
 */
class TokenizationParityTest {
    static final int UNBOUNDED = 100_000;
    static final int MAX_LENGTH = 512;
    static final long CLS = 101;
    static final long SEP = 102;
    static final long GPT2_EOS = 50256;

    @TempDir
    static Path tmp;

    static ModelBundle minilm;
    static ModelBundle gpt2;
    static List<TokenizationFixtures.Case> minilmCases;
    static List<TokenizationFixtures.Case> gpt2Cases;
    static TextEncoder minilmUnbounded;
    static TextEncoder minilm512;
    static TextEncoder gpt2Unbounded;
    static TextEncoder gpt2At512;

    @BeforeAll
    static void load() throws Exception {
        minilm = ModelBundle.load(DefaultModel.directory(tmp));
        gpt2 = ModelBundle.load(TestBundles.gpt2(tmp.resolve("gpt2"), InferenceTestSupport.GPT2_TOKENIZER));
        assertThat(gpt2.maxLength()).isEqualTo(MAX_LENGTH);
        minilmCases = TokenizationFixtures.load(TokenizationFixtures.MINILM);
        gpt2Cases = TokenizationFixtures.load(TokenizationFixtures.GPT2);
        minilmUnbounded = new TextEncoder(limit(minilm, UNBOUNDED));
        minilm512 = new TextEncoder(limit(minilm, MAX_LENGTH));
        gpt2Unbounded = new TextEncoder(limit(gpt2, UNBOUNDED));
        gpt2At512 = new TextEncoder(limit(gpt2, MAX_LENGTH));
    }

    @AfterAll
    static void close() {
        for (TextEncoder e : new TextEncoder[] {minilmUnbounded, minilm512, gpt2Unbounded, gpt2At512}) {
            if (e != null) {
                e.close();
            }
        }
    }

    private static ModelBundle limit(ModelBundle b, int maxLength) {
        return b.withLimits(maxLength, ModelBundle.LongText.TRUNCATE, ModelBundle.WindowAggregate.MAX);
    }

    private static TextInput input(TokenizationFixtures.Case c) {
        return new TextInput(c.text(), c.pair());
    }

    @Test
    void fixturesHoldSinglesPairsAndNonAscii() {
        for (List<TokenizationFixtures.Case> cases : List.of(minilmCases, gpt2Cases)) {
            assertThat(cases).hasSize(1192);
            assertThat(cases.stream().filter(c -> !c.isPair()).count()).isGreaterThanOrEqualTo(500);
            assertThat(cases.stream().filter(TokenizationFixtures.Case::isPair).count()).isGreaterThanOrEqualTo(500);
            assertThat(cases.stream().filter(c -> !InferenceTestSupport.isAscii(c.text() + c.pair())).count())
                    .isGreaterThanOrEqualTo(100);
        }
    }

    @Test
    void miniLmIdsAndSegmentIdsEqualTheReferenceUntruncated() {
        int compared = 0;
        int pairs = 0;
        long unknown = 0;
        for (TokenizationFixtures.Case c : minilmCases) {
            TextEncoder.Encoded e = minilmUnbounded.encode(input(c));
            assertThat(e.windows()).isEqualTo(1);
            assertSame(e.ids()[0], c.ids(), "ids", c);
            assertSame(e.typeIds()[0], c.typeIds(), "token_type_ids", c);
            assertThat(e.truncated()).isFalse();
            assertThat(e.tokens()).isEqualTo(c.ids().length);
            unknown += e.unknownTokens();
            compared++;
            pairs += c.isPair() ? 1 : 0;
        }
        assertThat(compared).isEqualTo(minilmCases.size()).isGreaterThanOrEqualTo(1000);
        assertThat(pairs).isGreaterThanOrEqualTo(500);
        // the fixtures' README counts 2592 [UNK] ids: unknownTokens counts exactly those
        assertThat(unknown).isEqualTo(2592);
    }

    @Test
    void miniLmAtMaxLength512MatchesTheReferenceTruncatedLongestFirst() {
        int compared = 0;
        int truncated = 0;
        for (TokenizationFixtures.Case c : minilmCases) {
            long[] expectedIds;
            long[] expectedTypes;
            if (c.ids().length <= MAX_LENGTH) {
                expectedIds = c.ids();
                expectedTypes = c.typeIds();
            } else {
                truncated++;
                long[][] expected = truncateBert(c, MAX_LENGTH);
                expectedIds = expected[0];
                expectedTypes = expected[1];
            }
            TextEncoder.Encoded e = minilm512.encode(input(c));
            assertSame(e.ids()[0], expectedIds, "ids", c);
            assertSame(e.typeIds()[0], expectedTypes, "token_type_ids", c);
            assertThat(e.truncated()).as("truncated flag of %s", describe(c)).isEqualTo(c.ids().length > MAX_LENGTH);
            assertThat(e.tokens()).isLessThanOrEqualTo(MAX_LENGTH);
            compared++;
        }
        assertThat(compared).isEqualTo(minilmCases.size());
        assertThat(truncated).as("fixture cases longer than 512 MiniLM tokens (all single texts)").isEqualTo(3);
    }

    @Test
    void gpt2IdsEqualTheReferenceUntruncated() {
        int compared = 0;
        int pairs = 0;
        for (TokenizationFixtures.Case c : gpt2Cases) {
            TextEncoder.Encoded e = gpt2Unbounded.encode(input(c));
            assertThat(e.windows()).isEqualTo(1);
            assertSame(e.ids()[0], c.ids(), "ids", c);
            assertThat(e.truncated()).isFalse();
            assertThat(e.unknownTokens()).as("byte-level BPE has no unknown token").isZero();
            compared++;
            pairs += c.isPair() ? 1 : 0;
        }
        assertThat(compared).isEqualTo(gpt2Cases.size()).isGreaterThanOrEqualTo(1000);
        assertThat(pairs).isGreaterThanOrEqualTo(500);
    }

    @Test
    void gpt2AtMaxLength512MatchesTheReferenceTruncatedLongestFirst() {
        int compared = 0;
        int truncated = 0;
        for (TokenizationFixtures.Case c : gpt2Cases) {
            long[] expected = c.ids();
            if (c.ids().length > MAX_LENGTH) {
                truncated++;
                expected = truncateGpt2(c, MAX_LENGTH);
            }
            TextEncoder.Encoded e = gpt2At512.encode(input(c));
            assertSame(e.ids()[0], expected, "ids", c);
            assertThat(e.truncated()).as("truncated flag of %s", describe(c)).isEqualTo(c.ids().length > MAX_LENGTH);
            compared++;
        }
        assertThat(compared).isEqualTo(gpt2Cases.size());
        assertThat(truncated).as("fixture cases longer than 512 GPT-2 tokens (12 texts, 3 pairs)").isEqualTo(15);
    }

    // ------------------------------------------------------------------ reference truncation

    /**
     * How Hugging Face tokenizers cuts a pair to {@code budget} tokens (LongestFirst in truncate_encodings): when
     * both are longer than half the budget each keeps half (the longer one the odd token), else the shorter one
     * is kept whole and the longer one gets the rest.
     */
    static int[] longestFirst(int a, int b, int budget) {
        if (a + b <= budget) {
            return new int[] {a, b};
        }
        boolean swap = a > b;
        int n1 = swap ? b : a;
        int n2;
        if (n1 > budget) {
            n2 = n1;
        } else {
            n2 = Math.max(n1, budget - n1);
        }
        if (n1 + n2 > budget) {
            n1 = budget / 2;
            n2 = n1 + budget % 2;
        }
        return swap ? new int[] {n2, n1} : new int[] {n1, n2};
    }

    /** {@code [CLS] a [SEP] (b [SEP])} of the reference, truncated to {@code max} ids. */
    static long[][] truncateBert(TokenizationFixtures.Case c, int max) {
        long[] ids = c.ids();
        long[] types = c.typeIds();
        assertThat(ids[0]).isEqualTo(CLS);
        assertThat(ids[ids.length - 1]).isEqualTo(SEP);
        if (!c.isPair()) {
            long[] out = Arrays.copyOf(ids, max);
            out[max - 1] = SEP;
            return new long[][] {out, new long[max]};
        }
        int firstB = 0;
        while (types[firstB] == 0) {
            firstB++;
        }
        assertThat(ids[firstB - 1]).isEqualTo(SEP);
        long[] a = Arrays.copyOfRange(ids, 1, firstB - 1);
        long[] b = Arrays.copyOfRange(ids, firstB, ids.length - 1);
        int[] keep = longestFirst(a.length, b.length, max - 3);
        long[] out = new long[keep[0] + keep[1] + 3];
        long[] outTypes = new long[out.length];
        out[0] = CLS;
        System.arraycopy(a, 0, out, 1, keep[0]);
        out[keep[0] + 1] = SEP;
        System.arraycopy(b, 0, out, keep[0] + 2, keep[1]);
        out[out.length - 1] = SEP;
        Arrays.fill(outTypes, keep[0] + 2, out.length, 1);
        return new long[][] {out, outTypes};
    }

    /** {@code a (<|endoftext|> b)} of the reference, truncated to {@code max} ids. */
    static long[] truncateGpt2(TokenizationFixtures.Case c, int max) {
        long[] ids = c.ids();
        if (!c.isPair()) {
            return Arrays.copyOf(ids, max);
        }
        int delimiter = -1;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == GPT2_EOS) {
                assertThat(delimiter).as("one delimiter in %s", describe(c)).isEqualTo(-1);
                delimiter = i;
            }
        }
        long[] a = Arrays.copyOfRange(ids, 0, delimiter);
        long[] b = Arrays.copyOfRange(ids, delimiter + 1, ids.length);
        int[] keep = longestFirst(a.length, b.length, max - 1);
        long[] out = new long[keep[0] + keep[1] + 1];
        System.arraycopy(a, 0, out, 0, keep[0]);
        out[keep[0]] = GPT2_EOS;
        System.arraycopy(b, 0, out, keep[0] + 1, keep[1]);
        return out;
    }

    /** Compares ids and, when they differ, says where (AssertJ would print both arrays whole). */
    private static void assertSame(long[] actual, long[] expected, String what, TokenizationFixtures.Case c) {
        int at = Arrays.mismatch(actual, expected);
        if (at >= 0) {
            throw new AssertionError(what + " of " + describe(c) + " differ at index " + at + " (lengths "
                    + actual.length + " vs reference " + expected.length + "): actual "
                    + Arrays.toString(Arrays.copyOfRange(actual, Math.max(0, at - 3), Math.min(actual.length, at + 4)))
                    + ", reference "
                    + Arrays.toString(Arrays.copyOfRange(expected, Math.max(0, at - 3), Math.min(expected.length, at + 4)))
                    + " from index " + Math.max(0, at - 3));
        }
    }

    private static String describe(TokenizationFixtures.Case c) {
        String t = c.text().length() > 60 ? c.text().substring(0, 60) + "..." : c.text();
        return (c.isPair() ? "pair " : "text ") + "\"" + t.replace("\n", "\\n") + "\" (" + c.ids().length + " ids)";
    }
}
