package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static dev.labelstream.inference.InferenceTestSupport.maxAbsDiff;
import static dev.labelstream.inference.InferenceTestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Texts longer than max_length: TRUNCATE keeps max_length tokens (pairs longest first, both segments kept);
 * WINDOWS splits a text into overlapping windows that together cover it, classifies each, and aggregates by MAX
 * or MEAN, which this test recomputes from the windows run alone on the raw ONNX session.
 */
class TruncationAndWindowsTest {
    static final int MAX_LENGTH = 64;
    static final long CLS = 101;
    static final long SEP = 102;
    static final long GPT2_EOS = 50256;

    @TempDir
    static Path tmp;

    static Path bert;
    static Path gpt2;
    static Path encoder;
    static OrtSession bertSession;
    static OrtSession encoderSession;
    static String longText;
    static String longText2;

    @BeforeAll
    static void bundles() throws Exception {
        bert = TestBundles.bert(tmp.resolve("bert"));
        gpt2 = TestBundles.gpt2(tmp.resolve("gpt2"), InferenceTestSupport.GPT2_TOKENIZER);
        encoder = TestBundles.bertEncoderOnly(tmp.resolve("encoder"));
        bertSession = OrtTestSupport.open(bert);
        encoderSession = OrtTestSupport.open(encoder);
        Random random = new Random(7);
        longText = InferenceTestSupport.words(random, 400);
        longText2 = InferenceTestSupport.words(random, 250);
    }

    @AfterAll
    static void close() throws Exception {
        bertSession.close();
        encoderSession.close();
    }

    private static ModelBundle limited(Path dir, ModelBundle.LongText mode, ModelBundle.WindowAggregate aggregate) {
        return ModelBundle.load(dir).withLimits(MAX_LENGTH, mode, aggregate);
    }

    // ------------------------------------------------------------------ TRUNCATE

    @Test
    void longTextIsTruncatedToMaxLength() {
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(bert),
                conf("inference.max-length", String.valueOf(MAX_LENGTH)))) {
            List<Classification> out = c.classify(List.of(TextInput.of(longText), TextInput.of("hello world")))
                    .results();
            assertThat(out.get(0).truncated()).isTrue();
            assertThat(out.get(0).tokens()).isEqualTo(MAX_LENGTH);
            assertThat(out.get(0).windows()).isEqualTo(1);
            assertThat(out.get(1).truncated()).isFalse();
            assertThat(out.get(1).tokens()).isEqualTo(4);
        }
        // the truncated ids are the head of the full encoding, closed by [SEP]
        try (TextEncoder full = new TextEncoder(ModelBundle.load(bert));
             TextEncoder cut = new TextEncoder(limited(bert, ModelBundle.LongText.TRUNCATE,
                     ModelBundle.WindowAggregate.MAX))) {
            long[] all = full.encode(TextInput.of(longText)).ids()[0];
            long[] head = cut.encode(TextInput.of(longText)).ids()[0];
            assertThat(all.length).isGreaterThan(3 * MAX_LENGTH);
            assertThat(head).hasSize(MAX_LENGTH);
            assertThat(Arrays.copyOf(head, MAX_LENGTH - 1)).containsExactly(Arrays.copyOf(all, MAX_LENGTH - 1));
            assertThat(head[MAX_LENGTH - 1]).isEqualTo(SEP);
        }
    }

    @Test
    void pairOfLongTextsKeepsBothSegmentsLongestFirst() {
        try (TextEncoder full = new TextEncoder(ModelBundle.load(bert));
             TextEncoder cut = new TextEncoder(limited(bert, ModelBundle.LongText.TRUNCATE,
                     ModelBundle.WindowAggregate.MAX))) {
            long[] a = full.encode(TextInput.of(longText)).ids()[0];
            long[] b = full.encode(TextInput.of(longText2)).ids()[0];
            TextEncoder.Encoded e = cut.encode(new TextInput(longText, longText2));
            long[] ids = e.ids()[0];
            long[] types = e.typeIds()[0];
            assertThat(e.truncated()).isTrue();
            assertThat(ids).hasSize(MAX_LENGTH);
            assertThat(ids[0]).isEqualTo(CLS);
            assertThat(Arrays.stream(ids).filter(id -> id == SEP).count()).as("[CLS] a [SEP] b [SEP]").isEqualTo(2);
            assertThat(ids[MAX_LENGTH - 1]).isEqualTo(SEP);
            int firstSep = indexOf(ids, SEP);
            // both segments are long: each keeps half of the 61 content tokens, the longer one the odd token
            int keptA = firstSep - 1;
            int keptB = MAX_LENGTH - firstSep - 2;
            assertThat(keptA + keptB).isEqualTo(MAX_LENGTH - 3);
            assertThat(keptA).isEqualTo(31);
            assertThat(keptB).isEqualTo(30);
            // each segment is the head of its own encoding, and the segment ids say which is which
            assertThat(Arrays.copyOfRange(ids, 1, firstSep)).containsExactly(Arrays.copyOfRange(a, 1, 1 + keptA));
            assertThat(Arrays.copyOfRange(ids, firstSep + 1, MAX_LENGTH - 1))
                    .containsExactly(Arrays.copyOfRange(b, 1, 1 + keptB));
            for (int i = 0; i < MAX_LENGTH; i++) {
                assertThat(types[i]).isEqualTo(i <= firstSep ? 0L : 1L);
            }
            // a short first segment is kept whole and the long second one gets the rest
            TextEncoder.Encoded shortFirst = cut.encode(new TextInput("hello world", longText2));
            long[] s = shortFirst.ids()[0];
            assertThat(s).hasSize(MAX_LENGTH);
            assertThat(Arrays.copyOf(s, 4)).containsExactly(CLS, 7592, 2088, SEP);
        }
    }

    @Test
    void gpt2PairOfLongTextsKeepsBothSegmentsAroundTheDelimiter() {
        ModelBundle bundle = limited(gpt2, ModelBundle.LongText.TRUNCATE, ModelBundle.WindowAggregate.MAX);
        assertThat(bundle.tokenization().pairDelimiter()).isEqualTo("<|endoftext|>");
        try (TextEncoder full = new TextEncoder(ModelBundle.load(gpt2)); TextEncoder cut = new TextEncoder(bundle)) {
            long[] a = full.encode(TextInput.of(longText)).ids()[0];
            long[] b = full.encode(TextInput.of(longText2)).ids()[0];
            TextEncoder.Encoded e = cut.encode(new TextInput(longText, longText2));
            long[] ids = e.ids()[0];
            assertThat(e.truncated()).isTrue();
            assertThat(ids).hasSize(MAX_LENGTH);
            assertThat(Arrays.stream(ids).filter(id -> id == GPT2_EOS).count()).as("a <|endoftext|> b").isEqualTo(1);
            int delimiter = indexOf(ids, GPT2_EOS);
            assertThat(a.length).isGreaterThan(b.length);
            // 63 content tokens, both segments longer than half: the longer a keeps 32, b keeps 31
            assertThat(delimiter).isEqualTo(32);
            assertThat(Arrays.copyOf(ids, delimiter)).containsExactly(Arrays.copyOf(a, delimiter));
            assertThat(Arrays.copyOfRange(ids, delimiter + 1, MAX_LENGTH))
                    .containsExactly(Arrays.copyOf(b, MAX_LENGTH - delimiter - 1));
        }
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(gpt2),
                conf("inference.max-length", String.valueOf(MAX_LENGTH)))) {
            Classification pair = c.classify(List.of(new TextInput(longText, longText2))).results().get(0);
            assertThat(pair.truncated()).isTrue();
            assertThat(pair.tokens()).isEqualTo(MAX_LENGTH);
        }
    }

    /** Regression: DJL caps maxLength at 512 unless told the model's own limit. */
    @Test
    void maxLengthAbove512IsHonoured() throws Exception {
        Path dir = InferenceTestSupport.copyBundle(gpt2, tmp.resolve("gpt2-1024"));
        var config = InferenceTestSupport.readObject(dir.resolve(ModelBundle.CONFIG_FILE));
        config.put("n_positions", 1024);
        config.put("max_position_embeddings", 1024);
        InferenceTestSupport.writeJson(config, dir.resolve(ModelBundle.CONFIG_FILE));
        settings(dir, Map.of("max_length", 1024));
        ModelBundle bundle = ModelBundle.load(dir);
        assertThat(bundle.maxLength()).isEqualTo(1024);
        String text = InferenceTestSupport.words(new Random(11), 1500);
        try (TextEncoder e = new TextEncoder(bundle)) {
            TextEncoder.Encoded out = e.encode(TextInput.of(text));
            assertThat(out.truncated()).isTrue();
            assertThat(out.tokens()).isEqualTo(1024);
            TextEncoder.Encoded pair = e.encode(new TextInput(text, text));
            assertThat(pair.tokens()).isEqualTo(1024);
        }
    }

    // ------------------------------------------------------------------ WINDOWS

    @Test
    void windowsCoverTheTextWithTheStrideAsOverlap() {
        ModelBundle bundle = limited(bert, ModelBundle.LongText.WINDOWS, ModelBundle.WindowAggregate.MAX);
        int stride = bundle.tokenization().windowStride();
        assertThat(stride).isEqualTo(MAX_LENGTH / 4);
        try (TextEncoder full = new TextEncoder(ModelBundle.load(bert).withLimits(100_000,
                ModelBundle.LongText.TRUNCATE, ModelBundle.WindowAggregate.MAX));
             TextEncoder windows = new TextEncoder(bundle)) {
            long[] all = full.encode(TextInput.of(longText)).ids()[0];
            assertThat(all.length).isGreaterThan(512);
            TextEncoder.Encoded e = windows.encode(TextInput.of(longText));
            assertThat(e.windows()).isGreaterThan(1);
            assertThat(e.truncated()).isTrue();
            long[] content = new long[0];
            int tokens = 0;
            for (int w = 0; w < e.windows(); w++) {
                long[] ids = e.ids()[w];
                tokens += ids.length;
                assertThat(ids.length).isLessThanOrEqualTo(MAX_LENGTH);
                if (w < e.windows() - 1) {
                    assertThat(ids.length).isEqualTo(MAX_LENGTH);
                }
                assertThat(ids[0]).isEqualTo(CLS);
                assertThat(ids[ids.length - 1]).isEqualTo(SEP);
                assertThat(e.typeIds()[w]).containsOnly(0L);
                long[] inner = Arrays.copyOfRange(ids, 1, ids.length - 1);
                if (w > 0) {
                    // a window starts with the last `stride` content tokens of the one before
                    assertThat(Arrays.copyOf(inner, stride))
                            .containsExactly(Arrays.copyOfRange(content, content.length - stride, content.length));
                    inner = Arrays.copyOfRange(inner, stride, inner.length);
                }
                long[] grown = Arrays.copyOf(content, content.length + inner.length);
                System.arraycopy(inner, 0, grown, content.length, inner.length);
                content = grown;
            }
            long[] expected = Arrays.copyOfRange(all, 1, all.length - 1);
            assertThat(Arrays.mismatch(content, expected)).as("the windows together hold the whole text (%d vs %d"
                    + " content tokens)", content.length, expected.length).isEqualTo(-1);
            assertThat(e.tokens()).isEqualTo(tokens);
        }
    }

    @Test
    void windowScoresAggregateByMax() throws Exception {
        assertWindowAggregate(ModelBundle.WindowAggregate.MAX);
    }

    @Test
    void windowScoresAggregateByMean() throws Exception {
        assertWindowAggregate(ModelBundle.WindowAggregate.MEAN);
    }

    private void assertWindowAggregate(ModelBundle.WindowAggregate aggregate) throws Exception {
        List<TextInput> inputs = List.of(TextInput.of("short text"), TextInput.of(longText), TextInput.of(longText2),
                new TextInput(longText, "a pair is truncated, not windowed"));
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(bert), conf(
                "inference.max-length", String.valueOf(MAX_LENGTH),
                "inference.long-text", "WINDOWS",
                "inference.window-aggregate", aggregate.name()));
             TextEncoder windows = new TextEncoder(limited(bert, ModelBundle.LongText.WINDOWS, aggregate))) {
            List<Classification> out = c.classify(inputs).results();
            assertThat(out.get(0).windows()).isEqualTo(1);
            assertThat(out.get(0).truncated()).isFalse();
            assertThat(out.get(3).windows()).as("pairs are truncated").isEqualTo(1);
            assertThat(out.get(3).truncated()).isTrue();
            assertThat(out.get(3).tokens()).isEqualTo(MAX_LENGTH);
            int differing = 0;
            for (int i = 1; i <= 2; i++) {
                Classification result = out.get(i);
                TextEncoder.Encoded e = windows.encode(inputs.get(i));
                assertThat(result.windows()).isEqualTo(e.windows()).isGreaterThan(1);
                assertThat(result.truncated()).isTrue();
                float[][] perWindow = new float[e.windows()][];
                for (int w = 0; w < e.windows(); w++) {
                    float[] logits = OrtTestSupport.run1(bertSession, e.ids()[w],
                            OrtTestSupport.ones(e.ids()[w].length), e.typeIds()[w]);
                    perWindow[w] = InferenceTestSupport.softmax(logits);
                }
                float[] expected = aggregate(perWindow, aggregate);
                assertThat(maxAbsDiff(result.scores(), expected)).as("input %d, %s of %d windows", i, aggregate,
                        e.windows()).isLessThanOrEqualTo(1e-5);
                if (maxAbsDiff(perWindow[0], expected) > 1e-3) {
                    differing++;
                }
                if (aggregate == ModelBundle.WindowAggregate.MEAN) {
                    assertThat(InferenceTestSupport.sum(result.scores())).isCloseTo(1.0,
                            org.assertj.core.data.Offset.offset(1e-5));
                }
            }
            assertThat(differing).as("the aggregate is not just the first window's scores").isPositive();
        }
    }

    @Test
    void headlessEncoderAveragesTheWindowsEmbeddings() throws Exception {
        ModelBundle bundle = limited(encoder, ModelBundle.LongText.WINDOWS, ModelBundle.WindowAggregate.MEAN);
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(encoder), conf(
                "inference.max-length", String.valueOf(MAX_LENGTH),
                "inference.long-text", "WINDOWS",
                "inference.window-aggregate", "MEAN"));
             TextEncoder windows = new TextEncoder(bundle)) {
            Classification result = c.classify(List.of(TextInput.of(longText))).results().get(0);
            TextEncoder.Encoded e = windows.encode(TextInput.of(longText));
            assertThat(result.windows()).isEqualTo(e.windows()).isGreaterThan(1);
            LinearHead head = bundle.scoring().head();
            float[] embedding = new float[TinyTransformer.HIDDEN];
            float[][] scores = new float[e.windows()][];
            for (int w = 0; w < e.windows(); w++) {
                long[] ids = e.ids()[w];
                float[][][] hidden = (float[][][]) OrtTestSupport.runRaw(encoderSession,
                        new OrtTestSupport.Batch().add(ids, OrtTestSupport.ones(ids.length), e.typeIds()[w]),
                        "last_hidden_state");
                float[] pooled = TestBundles.meanPool(hidden[0], null);
                for (int h = 0; h < pooled.length; h++) {
                    embedding[h] += pooled[h] / e.windows();
                }
                scores[w] = InferenceTestSupport.softmax(head.apply(pooled));
            }
            assertThat(maxAbsDiff(result.embedding(), embedding)).isLessThanOrEqualTo(1e-5);
            assertThat(maxAbsDiff(result.scores(), aggregate(scores, ModelBundle.WindowAggregate.MEAN)))
                    .isLessThanOrEqualTo(1e-5);
        }
    }

    private static float[] aggregate(float[][] windows, ModelBundle.WindowAggregate aggregate) {
        float[] out = new float[windows[0].length];
        for (int l = 0; l < out.length; l++) {
            double v = aggregate == ModelBundle.WindowAggregate.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (float[] w : windows) {
                v = aggregate == ModelBundle.WindowAggregate.MAX ? Math.max(v, w[l]) : v + w[l] / windows.length;
            }
            out[l] = (float) v;
        }
        return out;
    }

    private static int indexOf(long[] ids, long id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }
}
