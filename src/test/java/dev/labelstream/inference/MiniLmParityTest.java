package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static dev.labelstream.inference.InferenceTestSupport.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model's embeddings (MiniLM-L6, int8, mean pooling + L2 normalization, through {@link
 * DefaultModel}'s bundle and {@link Classification#embedding()}) equal those of an independent implementation,
 * langchain4j's {@code AllMiniLmL6V2EmbeddingModel}, within 1e-4 per dimension, on real SpamAssassin
 * messages: non-ASCII ones, short ones and ones far longer than 512 tokens.
 *
 * <p>Two facts of the reference and of the model decide how the comparison is set up; both are asserted below:
 *
 * <ul>
 *   <li><b>langchain4j embeds at most 128 tokens with this model.</b> Its OnnxBertBiEncoder loads the
 *       tokenizer.json with only {@code padding=false}, so DJL keeps the file's own truncation (longest_first,
 *       max_length 128). Its partitioning of long texts into 510-token parts therefore never happens: every text
 *       is embedded from its first 126 word pieces. labelstream is compared at {@code inference.max-length 128};
 *       at 512 it sees more of a long text and its embedding differs, as it should.
 *   <li><b>The graph quantizes activations dynamically</b> (24 DynamicQuantizeLinear nodes: one scale per
 *       tensor, from the min and max of the whole [batch, sequence, hidden] input). Padded positions and the
 *       other rows of a batch would move that scale: measured before labelstream ran such graphs one unpadded
 *       sequence per call, a text's embedding moved with its batch by up to 4e-2 per dimension (cosine 0.966).
 *       Now it runs them as langchain4j does, and the default configuration agrees to ~1e-7.
 * </ul>
 */
class MiniLmParityTest {
    static final double TOLERANCE = 1e-4;
    static final int LANGCHAIN4J_TOKENS = 128;

    @TempDir
    static Path tmp;

    static List<String> texts;
    static List<Integer> tokenCounts;
    static List<float[]> reference;
    /** The default bundle and options, max length set as langchain4j's effective one. */
    static BatchClassifier at128;
    static BatchClassifier at512;

    @BeforeAll
    static void embed() throws Exception {
        Path dir = DefaultModel.directory(tmp);
        List<InferenceTestSupport.Message> sample = InferenceTestSupport.spamAssassinSample();
        List<Integer> lengths = new ArrayList<>();
        try (HuggingFaceTokenizer full = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("padding", "false", "truncation", "false"))) {
            for (InferenceTestSupport.Message m : sample) {
                lengths.add(full.encode(m.text()).getIds().length);
            }
        }
        // every non-ASCII message, the 10 longest, the 15 shortest, and every 20th for the lengths between
        Set<Integer> chosen = new LinkedHashSet<>();
        for (int i = 0; i < sample.size(); i++) {
            if (!InferenceTestSupport.isAscii(sample.get(i).text())) {
                chosen.add(i);
            }
        }
        List<Integer> byLength = new ArrayList<>();
        for (int i = 0; i < sample.size(); i++) {
            byLength.add(i);
        }
        byLength.sort(Comparator.comparing(lengths::get));
        chosen.addAll(byLength.subList(byLength.size() - 10, byLength.size()));
        chosen.addAll(byLength.subList(0, 15));
        for (int i = 0; i < sample.size(); i += 20) {
            chosen.add(i);
        }
        texts = new ArrayList<>();
        tokenCounts = new ArrayList<>();
        for (int i : chosen) {
            texts.add(sample.get(i).text());
            tokenCounts.add(lengths.get(i));
        }

        AllMiniLmL6V2EmbeddingModel langchain4j = new AllMiniLmL6V2EmbeddingModel();
        reference = new ArrayList<>();
        for (String text : texts) {
            reference.add(langchain4j.embed(text).content().vector());
        }
        at128 = BatchClassifier.open(ModelBundle.load(dir), conf("inference.max-length", "128"));
        at512 = BatchClassifier.open(ModelBundle.load(dir), conf("inference.max-length", "512"));
    }

    @AfterAll
    static void close() {
        for (BatchClassifier c : new BatchClassifier[] {at128, at512}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static List<TextInput> inputs() {
        return texts.stream().map(TextInput::of).toList();
    }

    @Test
    void theSampleCoversNonAsciiShortAndVeryLongTexts() {
        assertThat(texts).hasSizeGreaterThanOrEqualTo(50);
        assertThat(texts.stream().filter(t -> !InferenceTestSupport.isAscii(t)).count()).isGreaterThanOrEqualTo(20);
        assertThat(tokenCounts.stream().filter(n -> n > 512).count()).isGreaterThanOrEqualTo(10);
        assertThat(tokenCounts.stream().filter(n -> n <= LANGCHAIN4J_TOKENS).count()).isGreaterThanOrEqualTo(15);
        assertThat(tokenCounts.stream().mapToInt(Integer::intValue).max().getAsInt()).isGreaterThan(1000);
    }

    @Test
    void defaultBundleIsMeanPooledAndNormalized() {
        ModelBundle bundle = at128.bundle();
        assertThat(bundle.scoring().pooling()).isEqualTo(ModelBundle.Pooling.MEAN);
        assertThat(bundle.scoring().normalize()).isTrue();
        assertThat(bundle.scoring().head().hidden()).isEqualTo(384);
    }

    @Test
    void langchain4jKeepsTheTokenizerFilesTruncationOf128() throws Exception {
        try (InputStream json = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json");
             HuggingFaceTokenizer asLangchain4jLoadsIt = HuggingFaceTokenizer.newInstance(json,
                     Map.of("padding", "false"))) {
            assertThat(asLangchain4jLoadsIt.getTruncation()).isEqualTo("LONGEST_FIRST");
            assertThat(asLangchain4jLoadsIt.getMaxLength()).isEqualTo(LANGCHAIN4J_TOKENS);
            String longest = texts.get(tokenCounts.indexOf(tokenCounts.stream().max(Integer::compare).get()));
            assertThat(asLangchain4jLoadsIt.tokenize(longest)).hasSize(LANGCHAIN4J_TOKENS);
        }
    }

    @Test
    void embeddingsEqualLangchain4jWithin1e4() {
        ClassifiedBatch batch = at128.classify(inputs());
        double worst = 0;
        int compared = 0;
        for (int i = 0; i < texts.size(); i++) {
            Classification c = batch.results().get(i);
            assertThat(c.embedding()).hasSize(384);
            assertThat(norm(c.embedding())).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(c.tokens()).isEqualTo(Math.min(tokenCounts.get(i), LANGCHAIN4J_TOKENS));
            double d = maxAbsDiff(c.embedding(), reference.get(i));
            assertThat(d).as("text %d (%d tokens): max |labelstream - langchain4j|", i, tokenCounts.get(i))
                    .isLessThanOrEqualTo(TOLERANCE);
            worst = Math.max(worst, d);
            compared++;
        }
        assertThat(compared).isGreaterThanOrEqualTo(50);
        System.out.printf("MiniLM parity: %d texts, max abs difference %.2e%n", compared, worst);
    }

    @Test
    void at512TokensShortTextsStillAgreeAndLongOnesSeeMore() {
        List<Classification> out = at512.classify(inputs()).results();
        int shortCompared = 0;
        int longCompared = 0;
        for (int i = 0; i < texts.size(); i++) {
            double d = maxAbsDiff(out.get(i).embedding(), reference.get(i));
            if (tokenCounts.get(i) <= LANGCHAIN4J_TOKENS) {
                assertThat(d).as("short text %d", i).isLessThanOrEqualTo(TOLERANCE);
                assertThat(out.get(i).truncated()).isFalse();
                shortCompared++;
            } else if (tokenCounts.get(i) > 256) {
                assertThat(d).as("text %d of %d tokens: labelstream embeds 512, langchain4j 128", i,
                        tokenCounts.get(i)).isGreaterThan(1e-3);
                assertThat(out.get(i).tokens()).isEqualTo(Math.min(tokenCounts.get(i), 512));
                longCompared++;
            }
        }
        assertThat(shortCompared).isGreaterThanOrEqualTo(15);
        assertThat(longCompared).isGreaterThanOrEqualTo(10);
    }

    @Test
    void theDefaultFp32GraphIsBatchedAndTheInt8GraphRunsOneUnpaddedSequencePerCall(@TempDir Path tmp)
            throws Exception {
        assertThat(OnnxSessions.quantizesDynamically(at128.bundle().modelFile())).isFalse();
        ClassifiedBatch batched = at128.classify(inputs());
        assertThat(batched.modelCalls()).isLessThan(texts.size());

        // The same bundle with the int8 build of the encoder (dynamic quantization over the whole batch).
        Path int8 = tmp.resolve("int8");
        Files.createDirectories(int8);
        try (var files = Files.list(at128.bundle().dir())) {
            for (Path f : files.toList()) {
                Files.copy(f, int8.resolve(f.getFileName()));
            }
        }
        try (InputStream q = getClass().getResourceAsStream("/all-minilm-l6-v2-q.onnx")) {
            Files.copy(q, int8.resolve("model.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(int8), conf("inference.max-length", "128"))) {
            assertThat(OnnxSessions.quantizesDynamically(c.bundle().modelFile())).isTrue();
            ClassifiedBatch batch = c.classify(inputs());
            assertThat(batch.modelCalls()).isEqualTo(texts.size());
            assertThat(batch.paddedTokens()).isEqualTo(batch.realTokens());
        }
    }

    @Test
    void embeddingsAreBatchInvariant() {
        List<TextInput> inputs = inputs();
        List<Classification> together = at512.classify(inputs).results();
        List<TextInput> reversed = new ArrayList<>(inputs);
        java.util.Collections.reverse(reversed);
        List<Classification> backwards = at512.classify(reversed).results();
        for (int i = 0; i < texts.size(); i++) {
            Classification alone = at512.classify(List.of(inputs.get(i))).results().get(0);
            assertThat(maxAbsDiff(together.get(i).embedding(), alone.embedding())).as("text %d", i)
                    .isLessThanOrEqualTo(1e-5);
            assertThat(maxAbsDiff(backwards.get(texts.size() - 1 - i).embedding(), alone.embedding()))
                    .isLessThanOrEqualTo(1e-5);
            for (int l = 0; l < alone.scores().length; l++) {
                assertThat((double) together.get(i).scores()[l]).isCloseTo(alone.scores()[l],
                        org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    private static double norm(float[] v) {
        return Math.sqrt(dot(v, v));
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
