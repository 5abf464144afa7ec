package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java WordPiece path ({@link WordPieceEncoder}) gives the tokenizers library's ids exactly: for random texts
 * drawn mostly from the characters it handles (every code point below U+0370 and General Punctuation: controls,
 * format characters, every kind of space, accents precomposed and combining, punctuation, long words), with the
 * ones it must decline mixed in (added tokens' texts, CJK, emoji, unpaired surrogates), {@link TextEncoder#encode}
 * and {@link TextEncoder#encodeAll} equal the whole text through DJL's {@code Encoding}: ids, type ids, lengths,
 * unknown counts and the truncation flag; for MiniLM's tokenizer as shipped and with each BertNormalizer flag
 * turned the other way, at max lengths that truncate most texts and ones that truncate few. And it is the path
 * taken: most of these texts, and the demo corpus, are handled in Java.
 */
class WordPieceParityTest {
    @TempDir
    static Path tmp;

    static Path bert;

    @BeforeAll
    static void bundle() throws IOException {
        bert = TestBundles.bert(tmp.resolve("bert"));
    }

    static Stream<Arguments> variants() {
        List<Arguments> l = new ArrayList<>();
        for (String variant : List.of("as-shipped", "no-strip-accents", "cased", "no-clean-text")) {
            for (int maxLength : List.of(17, 256)) {
                l.add(Arguments.of(variant, maxLength));
            }
        }
        return l.stream();
    }

    /** A copy of the BERT bundle with the normalizer's flags of {@code variant} and max_length set. */
    private static ModelBundle bundle(String variant, int maxLength) throws IOException {
        Path to = tmp.resolve(variant + "-" + maxLength);
        if (!Files.exists(to)) {
            InferenceTestSupport.copyBundle(bert, to);
            Path tokenizer = to.resolve("tokenizer.json");
            ObjectNode json = InferenceTestSupport.readObject(tokenizer);
            ObjectNode norm = (ObjectNode) json.get("normalizer");
            switch (variant) {
                case "no-strip-accents" -> norm.put("strip_accents", false);
                case "cased" -> norm.put("lowercase", false); // strip_accents null: follows lowercase, off
                case "no-clean-text" -> norm.put("clean_text", false);
                default -> { }
            }
            TestTokenizers.write(json, tokenizer);
            InferenceTestSupport.settings(to, java.util.Map.of("max_length", maxLength));
        }
        return ModelBundle.load(to);
    }

    @ParameterizedTest(name = "{0}, max_length {1}")
    @MethodSource("variants")
    void javaPathEqualsTheLibrary(String variant, int maxLength) throws IOException {
        ModelBundle b = bundle(variant, maxLength);
        WordPieceEncoder java = WordPieceEncoder.of(b.tokenization().tokenizerJson()).orElseThrow();
        Random random = new Random(variant.hashCode() * 31L + maxLength);
        int handled = 0;
        int texts = 0;
        try (TextEncoder encoder = new TextEncoder(b, false)) {
            assertThat(encoder.javaWordPiece()).as("the Java path is on after its probe check").isTrue();
            for (int round = 0; round < 12; round++) {
                List<TextInput> batch = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    String text = text(random);
                    batch.add(TextInput.of(text));
                    texts++;
                    if (java.encode(text, new int[maxLength]) >= 0) {
                        handled++;
                    }
                }
                TextEncoder.Encoded[] all = encoder.encodeAll(batch);
                for (int i = 0; i < batch.size(); i++) {
                    TextInput in = batch.get(i);
                    TextEncoder.Encoded whole = encoder.encodeWhole(TextInput.of(TextCut.wellFormed(in.text())));
                    assertSame(encoder.encode(in), whole, in, "encode");
                    assertSame(all[i], whole, in, "encodeAll");
                }
            }
        }
        assertThat(handled).as("texts handled in Java, of " + texts).isGreaterThan(texts * 2 / 3);
    }

    @Test
    void theDemoCorpusIsHandledInJavaWithTheLibrarysIds() throws IOException {
        ModelBundle b = bundle("as-shipped", 256);
        WordPieceEncoder java = WordPieceEncoder.of(b.tokenization().tokenizerJson()).orElseThrow();
        List<InferenceTestSupport.Message> corpus = InferenceTestSupport.spamAssassinSample();
        int handled = 0;
        try (TextEncoder encoder = new TextEncoder(b, false)) {
            for (InferenceTestSupport.Message m : corpus) {
                TextInput in = TextInput.of(m.text());
                if (java.encode(m.text(), new int[256]) >= 0) {
                    handled++;
                }
                assertSame(encoder.encode(in), encoder.encodeWhole(TextInput.of(TextCut.wellFormed(m.text()))), in,
                        "encode");
            }
        }
        assertThat(handled).as("corpus messages handled in Java, of " + corpus.size())
                .isGreaterThan(corpus.size() * 9 / 10);
    }

    @Test
    void declinesWhatItCannotProve() throws IOException {
        WordPieceEncoder java = WordPieceEncoder.of(bundle("as-shipped", 256).tokenization().tokenizerJson())
                .orElseThrow();
        int[] out = new int[64];
        assertThat(java.encode("plain words, caf\u00e9 \u2014 \u201cok\u201d", out)).isPositive();
        assertThat(java.encode("an added token [MASK] in the text", out)).as("added token").isEqualTo(-1);
        assertThat(java.encode("CJK \u4e2d\u6587", out)).as("CJK").isEqualTo(-1);
        assertThat(java.encode("emoji \uD83D\uDE00", out)).as("emoji").isEqualTo(-1);
        assertThat(java.encode("Greek \u03b1\u03b2", out)).as("Greek").isEqualTo(-1);
        assertThat(java.encode("euro \u20ac", out)).as("currency block").isEqualTo(-1);
        // A text longer than what is kept: only its first words are read, and it reports the capacity.
        assertThat(java.encode("word ".repeat(200_000) + "\u4e2d", out)).isEqualTo(out.length);
        ObjectNode gpt2 = (ObjectNode) TestTokenizers.readJson(InferenceTestSupport.GPT2_TOKENIZER);
        assertThat(WordPieceEncoder.of(gpt2)).as("byte-level BPE is not WordPiece").isEmpty();
        ObjectNode normalizedAdded = bundle("as-shipped", 256).tokenization().tokenizerJson().deepCopy();
        ((ObjectNode) normalizedAdded.withArray("added_tokens").get(0)).put("normalized", true);
        assertThat(WordPieceEncoder.of(normalizedAdded)).as("added tokens matched after normalizing").isEmpty();
    }

    private static void assertSame(TextEncoder.Encoded got, TextEncoder.Encoded want, TextInput in, String path) {
        String what = path + " of a text of " + in.text().length() + " chars " + Arrays.toString(
                in.text().codePoints().limit(16).toArray());
        assertThat(got.windows()).as(what + ": windows").isEqualTo(want.windows());
        assertThat(got.ids()[0]).as(what + ": ids").containsExactly(want.ids()[0]);
        assertThat(got.typeIds()[0]).as(what + ": type ids").containsExactly(want.typeIds()[0]);
        assertThat(got.truncated()).as(what + ": truncated").isEqualTo(want.truncated());
        assertThat(got.tokens()).as(what + ": tokens").isEqualTo(want.tokens());
        assertThat(got.unknownTokens()).as(what + ": unknown tokens").isEqualTo(want.unknownTokens());
    }

    /** Every kind of space and the characters clean_text drops. */
    private static final String[] SPACES = {" ", "\t", "\n", "\r", "\u000b", "\u000c", "\u0085", "\u00a0", "\u2000",
        "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u200b", "\u00ad", "\u0000", "\u0007", " \t\n\r "};

    /** A text of 0 to ~3k characters, mostly of the characters the Java path handles. */
    static String text(Random r) {
        StringBuilder sb = new StringBuilder();
        int parts = r.nextInt(6) == 0 ? r.nextInt(2) : 1 + r.nextInt(r.nextBoolean() ? 6 : 40);
        boolean declined = r.nextInt(8) == 0;
        for (int p = 0; p < parts; p++) {
            switch (r.nextInt(declined ? 11 : 8)) {
                case 0 -> { // any handled code point: controls, format characters, marks, symbols
                    for (int i = 1 + r.nextInt(40); i > 0; i--) {
                        sb.appendCodePoint(r.nextInt(4) == 0 ? 0x2000 + r.nextInt(0x70) : r.nextInt(0x370));
                    }
                }
                case 1 -> { // letters with accents, precomposed or combining (out of canonical order too)
                    for (int i = 1 + r.nextInt(12); i > 0; i--) {
                        sb.appendCodePoint(r.nextBoolean() ? 0xC0 + r.nextInt(0x250 - 0xC0) : 'a' + r.nextInt(26));
                        for (int m = r.nextInt(3); m > 0; m--) {
                            sb.appendCodePoint(0x300 + r.nextInt(0x70));
                        }
                    }
                }
                case 2 -> sb.append(SPACES[r.nextInt(SPACES.length)]);
                case 3 -> { // longer than WordPiece's 100 characters, or just under
                    for (int i = (r.nextBoolean() ? 101 : 95) + r.nextInt(10); i > 0; i--) {
                        sb.append((char) ('a' + r.nextInt(26)));
                    }
                }
                case 4 -> sb.append(" caf\u00e9 NA\u00cfVE \u00c5ngstr\u00f6m e\u0301 \u0130stanbul \u00df \u01c5 ");
                case 5 -> sb.append("\u201cquoted\u201d \u2014 it\u2019s \u2026 x-ray's 3.14 $5 #tag @you!? ")
                        .append(r.nextInt(100000));
                case 8 -> sb.append("[MASK").append(r.nextBoolean() ? "]" : "").append(" [ SEP ] [unk] ");
                case 9 -> sb.append(r.nextBoolean() ? " [SEP] " : " [CLS]").append(" [ SEP ] [unk] [MASK");
                case 10 -> sb.appendCodePoint(r.nextBoolean() ? 0x1F600 : 0x4E2D).append(r.nextBoolean() ? "\u20ac"
                        : "\uD800");
                default -> InferenceTestSupport.words(r, 1 + r.nextInt(60)).codePoints().forEach(cp ->
                        // the shared word list has Greek, Cyrillic, CJK and emoji: kept only in declined texts
                        sb.appendCodePoint(declined || WordPieceEncoder.handles(cp) ? cp : 'a' + cp % 26));
            }
            if (r.nextInt(3) > 0) {
                sb.append(' ');
            }
        }
        return sb.toString();
    }
}
