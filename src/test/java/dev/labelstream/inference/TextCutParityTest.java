package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
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
 * The cut before tokenizing and the batch path change nothing: for random texts built to break a cut (long
 * whitespace runs, words longer than WordPiece's 100 characters, emoji and unpaired surrogates, CJK, special
 * token strings, pairs), {@link TextEncoder#encode} and {@link TextEncoder#encodeAll} give the same ids, type ids
 * (so the same attention masks: all ones before padding), lengths, unknown counts and truncation flags as the
 * whole well-formed text through DJL's {@code Encoding}, for each family's test tokenizer and the real MiniLM and
 * GPT-2 ones, truncating (odd and even pair budgets) and in windows with a small max_windows.
 */
class TextCutParityTest {
    @TempDir
    static Path tmp;

    static Path bert;
    static Path albert;
    static Path roberta;
    static Path gpt2;

    @BeforeAll
    static void bundles() throws IOException {
        bert = TestBundles.bert(tmp.resolve("bert"));
        albert = TestBundles.albert(tmp.resolve("albert"));
        roberta = TestBundles.roberta(tmp.resolve("roberta"), InferenceTestSupport.GPT2_TOKENIZER);
        gpt2 = TestBundles.gpt2(tmp.resolve("gpt2"), InferenceTestSupport.GPT2_TOKENIZER);
    }

    static Stream<Arguments> families() {
        List<Arguments> l = new ArrayList<>();
        for (String family : List.of("bert", "albert", "roberta", "gpt2")) {
            for (int maxLength : List.of(16, 17)) {
                l.add(Arguments.of(family, maxLength, "truncate"));
            }
            l.add(Arguments.of(family, 24, "windows"));
        }
        return l.stream();
    }

    private static Path dir(String family) {
        return switch (family) {
            case "bert" -> bert;
            case "albert" -> albert;
            case "roberta" -> roberta;
            default -> gpt2;
        };
    }

    /** A copy of the family's bundle with its labelstream.json limits set. */
    private static ModelBundle bundle(String family, int maxLength, String longText) throws IOException {
        Path to = tmp.resolve(family + "-" + maxLength + "-" + longText);
        if (!Files.exists(to)) {
            InferenceTestSupport.settings(InferenceTestSupport.copyBundle(dir(family), to), java.util.Map.of(
                    "max_length", maxLength, "long_text", longText, "max_windows", 3, "window_stride", 4));
        }
        return ModelBundle.load(to);
    }

    @ParameterizedTest(name = "{0}, max_length {1}, {2}")
    @MethodSource("families")
    void cutAndBatchEqualTheWholeText(String family, int maxLength, String longText) throws IOException {
        ModelBundle b = bundle(family, maxLength, longText);
        Random random = new Random(family.hashCode() * 31L + maxLength);
        try (TextEncoder encoder = new TextEncoder(b, false)) {
            List<TextInput> inputs = new ArrayList<>();
            for (int i = 0; i < 96; i++) {
                String a = text(random);
                // Pairs stay under 700 characters a segment (still cut for the WordPiece and Unigram tokenizers at
                // these max lengths): the whole-text reference crosses the overflow pieces of both segments (n1 x n2
                // encodings, slower than cubic here), which is what the cut avoids.
                inputs.add(random.nextInt(4) == 0 ? new TextInput(capped(a), capped(text(random)))
                        : TextInput.of(a));
            }
            for (int from = 0; from < inputs.size(); from += 16) {
                List<TextInput> batch = inputs.subList(from, from + 16);
                TextEncoder.Encoded[] all = encoder.encodeAll(batch);
                for (int i = 0; i < batch.size(); i++) {
                    TextInput in = batch.get(i);
                    TextEncoder.Encoded whole = encoder.encodeWhole(new TextInput(TextCut.wellFormed(in.text()),
                            in.pair() == null ? null : TextCut.wellFormed(in.pair())));
                    assertSame(encoder.encode(in), whole, in, "encode");
                    assertSame(all[i], whole, in, "encodeAll");
                }
            }
        }
    }

    @Test
    void theCutEngagesOnLongTextsAndNeverSplitsASurrogatePair() {
        String emoji = "\uD83D\uDE00";
        String text = (emoji + "x ").repeat(50_000);
        int k = TextCut.cutPoint(text, 1000);
        assertThat(k).isLessThanOrEqualTo(1000).isPositive();
        assertThat(Character.isHighSurrogate(text.charAt(k - 1))).isFalse();
        assertThat(TextCut.cutPoint("a".repeat(5000), 100)).as("no whitespace: whole").isEqualTo(5000);
        assertThat(TextCut.wellFormed("a\uD800b" + emoji + "\uDC00")).isEqualTo("a\uFFFDb" + emoji + "\uFFFD");
    }

    @Test
    void djlJniBindingIsTheVersionPinned() {
        // TextEncoder calls DJL's internal JNI class: its methods may change with any DJL release.
        assertThat(TokenizersLibrary.class.getPackage().getSpecificationVersion()).isEqualTo("0.38.0");
    }

    private static void assertSame(TextEncoder.Encoded got, TextEncoder.Encoded want, TextInput in, String path) {
        String what = path + " of " + describe(in);
        assertThat(got.windows()).as(what + ": windows").isEqualTo(want.windows());
        for (int w = 0; w < want.windows(); w++) {
            assertThat(got.ids()[w]).as(what + ": ids of window " + w).containsExactly(want.ids()[w]);
            assertThat(got.typeIds()[w]).as(what + ": type ids of window " + w).containsExactly(want.typeIds()[w]);
        }
        assertThat(got.truncated()).as(what + ": truncated").isEqualTo(want.truncated());
        assertThat(got.tokens()).as(what + ": tokens").isEqualTo(want.tokens());
        assertThat(got.unknownTokens()).as(what + ": unknown tokens").isEqualTo(want.unknownTokens());
    }

    private static String describe(TextInput in) {
        return "text of " + in.text().length() + " chars " + Arrays.toString(head(in.text()))
                + (in.pair() == null ? "" : " + pair of " + in.pair().length() + " chars");
    }

    private static int[] head(String s) {
        return s.codePoints().limit(12).toArray();
    }

    private static String capped(String s) {
        return s.length() <= 700 ? s : s.substring(0, 700);
    }

    /** A text of 0 to ~12k characters mixing the pieces that could break a cut. */
    static String text(Random r) {
        StringBuilder sb = new StringBuilder();
        int parts = r.nextInt(5) == 0 ? r.nextInt(3) : 1 + r.nextInt(r.nextBoolean() ? 8 : 60);
        for (int p = 0; p < parts; p++) {
            switch (r.nextInt(12)) {
                case 0 -> sb.append(" ".repeat(1 + r.nextInt(3000)));
                case 1 -> sb.append("\n\t \r\n".repeat(1 + r.nextInt(400)));
                case 2 -> {
                    for (int i = 120 + r.nextInt(400); i > 0; i--) { // a word longer than WordPiece's 100 chars
                        sb.append((char) ('a' + r.nextInt(26)));
                    }
                }
                case 3 -> {
                    for (int i = 1 + r.nextInt(30); i > 0; i--) {
                        sb.appendCodePoint(0x1F300 + r.nextInt(0x2FF));
                        if (r.nextInt(3) == 0) {
                            sb.append(' ');
                        }
                    }
                }
                case 4 -> sb.append(r.nextBoolean() ? '\uD83D' : '\uDE00'); // unpaired surrogate
                case 5 -> {
                    for (int i = 1 + r.nextInt(60); i > 0; i--) {
                        sb.append((char) (0x4E00 + r.nextInt(0x500)));
                    }
                }
                case 6 -> sb.append(r.nextBoolean() ? " [SEP] " : " <|endoftext|> ");
                case 7 -> sb.append(" caf\u00e9 na\u0131ve \u00c5ngstr\u00f6m e\u0301 ");
                case 8 -> sb.append(", ... !? ").append(r.nextInt(100000));
                default -> sb.append(InferenceTestSupport.words(r, 1 + r.nextInt(60)));
            }
            if (r.nextInt(3) > 0) {
                sb.append(' ');
            }
        }
        return sb.toString();
    }
}
