package dev.labelstream.inference;

import static dev.labelstream.inference.OrtTestSupport.Batch;
import static dev.labelstream.inference.OrtTestSupport.maxAbsDiff;
import static dev.labelstream.inference.OrtTestSupport.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The test bundle of every supported model family (bert, albert, roberta, gpt2: exactly the model types {@link
 * ModelFamily} accepts without the untested-type override): what each graph declares and what it is sensitive
 * to, run once per family; then the family-specific properties (tokenizers, configs, graph structure).
 */
class TestBundlesTest {

    @TempDir
    static Path tmp;

    /**
     * One family's bundle and what the shared checks need to know about it.
     *
     * @param inputs the graph inputs the family declares, in order
     * @param labels logits width
     * @param posI positions whose tokens are swapped by the positions check
     * @param posJ ditto
     * @param pad the pad id for the padding check
     */
    record Family(Path bundle, OrtSession session, HuggingFaceTokenizer tokenizer, List<String> inputs, int labels,
            int posI, int posJ, long pad, Path bpe, int vocab, JsonNode config) {}

    static final Map<String, Family> F = new LinkedHashMap<>();

    @BeforeAll
    static void build() throws Exception {
        Path bert = TestBundles.bert(tmp.resolve("bert"));
        F.put("bert", new Family(bert, OrtTestSupport.open(bert), OrtTestSupport.tokenizer(bert),
                List.of("input_ids", "attention_mask", "token_type_ids"), 2, 1, 4, 0, null, 0, null));
        Path albert = TestBundles.albert(tmp.resolve("albert"));
        // DJL's defaults, no options: the tokenizer.json alone must be right
        F.put("albert", new Family(albert, OrtTestSupport.open(albert),
                HuggingFaceTokenizer.newInstance(albert.resolve("tokenizer.json")),
                List.of("input_ids", "attention_mask", "token_type_ids"), 3, 1, 4, 0, null, 0, null));
        Path robertaBpe = TestBundles.tinyByteLevelBpeTokenizer(tmp.resolve("roberta-tokenizer.json"));
        Path roberta = TestBundles.roberta(tmp.resolve("roberta"), robertaBpe);
        JsonNode robertaConfig = TestTokenizers.readJson(roberta.resolve("config.json"));
        F.put("roberta", new Family(roberta, OrtTestSupport.open(roberta), OrtTestSupport.tokenizer(roberta),
                List.of("input_ids", "attention_mask"), 2, 1, 2, robertaConfig.get("pad_token_id").asLong(),
                robertaBpe, TestTokenizers.vocabSize(robertaBpe), robertaConfig));
        Path gpt2Bpe = TestBundles.tinyByteLevelBpeTokenizer(tmp.resolve("gpt2-tokenizer.json"));
        Path gpt2 = TestBundles.gpt2(tmp.resolve("gpt2"), gpt2Bpe);
        JsonNode gpt2Config = TestTokenizers.readJson(gpt2.resolve("config.json"));
        F.put("gpt2", new Family(gpt2, OrtTestSupport.open(gpt2), OrtTestSupport.tokenizer(gpt2),
                List.of("input_ids", "attention_mask"), 2, 0, 1, gpt2Config.get("pad_token_id").asLong(), gpt2Bpe,
                TestTokenizers.vocabSize(gpt2Bpe), gpt2Config));
    }

    @AfterAll
    static void close() throws Exception {
        for (Family f : F.values()) {
            f.session.close();
            f.tokenizer.close();
        }
    }

    // ------------------------------------------------------------------ every family

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void isASupportedModelType(String family) throws Exception {
        String type = TestTokenizers.readJson(F.get(family).bundle.resolve("config.json")).get("model_type").asText();
        assertThat(ModelFamily.tested(type)).as("a tested family is a supported one").isTrue();
        // and the real reader and classifier accept it without the untested-type override
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(F.get(family).bundle))) {
            float[] scores = c.classify(List.of(TextInput.of("you are a terrible idiot"))).results().get(0).scores();
            assertThat(scores).hasSize(F.get(family).labels);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void declaresInputsAndLogits(String family) throws Exception {
        Family f = F.get(family);
        Map<String, TensorInfo> inputs = OrtTestSupport.inputs(f.session);
        assertThat(inputs.keySet()).containsExactlyElementsOf(f.inputs);
        inputs.values().forEach(i -> assertThat(i.type).isEqualTo(ai.onnxruntime.OnnxJavaType.INT64));
        assertThat(OrtTestSupport.outputs(f.session).keySet()).containsExactly("logits");
        assertThat(OrtTestSupport.outputs(f.session).get("logits").getShape()).containsExactly(-1, f.labels);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void logitsVaryBetweenTexts(String family) throws Exception {
        OrtTestSupport.assertLogitsSpread(F.get(family).session, F.get(family).tokenizer, OrtTestSupport.TEXTS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void usesTheAttentionMask(String family) throws Exception {
        OrtTestSupport.assertMaskMatters(F.get(family).session,
                F.get(family).tokenizer.encode("you are a terrible idiot"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert"})
    void usesTokenTypes(String family) throws Exception {
        OrtTestSupport.assertTokenTypesMatter(F.get(family).session,
                F.get(family).tokenizer.encode("you are a terrible idiot"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void usesPositions(String family) throws Exception {
        Family f = F.get(family);
        OrtTestSupport.assertPositionsMatter(f.session, f.tokenizer.encode("you are a terrible idiot"), f.posI,
                f.posJ);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "albert", "roberta", "gpt2"})
    void rightPaddingChangesNothing(String family) throws Exception {
        Family f = F.get(family);
        OrtTestSupport.assertPaddingInvariant(f.session, f.tokenizer.encode("Hello world"),
                f.tokenizer.encode("The quick brown fox jumps over the lazy dog."), f.pad, false);
    }

    // ------------------------------------------------------------ bert

    @Test
    void bert_writesTheOptimumLayout() throws Exception {
        assertThat(F.get("bert").bundle.resolve("model.onnx")).isRegularFile();
        JsonNode tok = TestTokenizers.readJson(F.get("bert").bundle.resolve("tokenizer.json"));
        assertThat(tok.get("truncation").isNull()).isTrue();
        assertThat(tok.get("padding").isNull()).isTrue();
        assertThat(tok.at("/model/type").asText()).isEqualTo("WordPiece");

        JsonNode config = TestTokenizers.readJson(F.get("bert").bundle.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo("bert");
        assertThat(config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(config.get("pad_token_id").asInt()).isZero();
        assertThat(config.at("/id2label/0").asText()).isEqualTo("ok");
        assertThat(config.at("/id2label/1").asText()).isEqualTo("toxic");
        assertThat(config.at("/label2id/toxic").asInt()).isEqualTo(1);
        assertThat(F.get("bert").bundle.resolve("labelstream.json")).doesNotExist();
    }

    @Test
    void bert_isAnOpset17Ir8Model() throws Exception {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(F.get("bert").bundle.resolve("model.onnx")));
        assertThat(model.getIrVersion()).isEqualTo(8);
        assertThat(model.getOpsetImportList()).singleElement()
                .satisfies(o -> assertThat(o.getVersion()).isEqualTo(17));
    }

    @Test
    void bert_sameCallWritesSameBytes() throws Exception {
        Path again = TestBundles.bert(tmp.resolve("bert-again"));
        assertThat(Files.readAllBytes(again.resolve("model.onnx")))
                .isEqualTo(Files.readAllBytes(F.get("bert").bundle.resolve("model.onnx")));
    }

    @Test
    void bert_runsABatch() throws Exception {
        Encoding a = F.get("bert").tokenizer.encode("Hello world");
        assertThat(a.getTokens()).containsExactly("[CLS]", "hello", "world", "[SEP]");
        Encoding b = F.get("bert").tokenizer.encode("thanks, this is great");
        float[][] logits = run(F.get("bert").session, new Batch().addPadded(a, b.getIds().length - a.getIds().length, 0, false).add(b));
        assertThat(logits).hasDimensions(2, 2);
        assertThat(maxAbsDiff(logits[0], logits[1])).isGreaterThan(1e-3);
    }

    @Test
    void bert_encoderOnlyOutputsHiddenStatesAndDescribesItsHead() throws Exception {
        Path enc = TestBundles.bertEncoderOnly(tmp.resolve("bert-encoder"));
        JsonNode config = TestTokenizers.readJson(enc.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo("bert");
        assertThat(config.has("id2label")).isFalse();
        JsonNode ls = TestTokenizers.readJson(enc.resolve("labelstream.json"));
        assertThat(ls.get("pooling").asText()).isEqualTo("mean");
        assertThat(ls.get("head").asText()).isEqualTo("head.json");
        JsonNode head = TestTokenizers.readJson(enc.resolve("head.json"));
        assertThat(head.get("labels")).hasSize(2);
        assertThat(head.get("weights")).hasSize(2);
        assertThat(head.get("weights").get(0)).hasSize(TinyTransformer.HIDDEN);
        assertThat(head.get("bias")).hasSize(2);

        float[][] w = new float[2][TinyTransformer.HIDDEN];
        float[] bias = new float[2];
        for (int l = 0; l < 2; l++) {
            bias[l] = (float) head.get("bias").get(l).asDouble();
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) head.get("weights").get(l).get(i).asDouble();
            }
        }

        try (OrtSession s = OrtTestSupport.open(enc); HuggingFaceTokenizer tok = OrtTestSupport.tokenizer(enc)) {
            assertThat(OrtTestSupport.inputs(s).keySet())
                    .containsExactly("input_ids", "attention_mask", "token_type_ids");
            assertThat(OrtTestSupport.outputs(s).keySet()).containsExactly("last_hidden_state");
            TensorInfo out = OrtTestSupport.outputs(s).get("last_hidden_state");
            assertThat(out.getShape()).containsExactly(-1, -1, TinyTransformer.HIDDEN);
            assertThat(out.getDimensionNames()).containsExactly("batch", "sequence", "");

            Encoding a = tok.encode("Hello world");
            Encoding b = tok.encode("The quick brown fox jumps over the lazy dog.");
            int n = b.getIds().length - a.getIds().length;
            float[][][] alone = (float[][][]) OrtTestSupport.runRaw(s, new Batch().add(a), "last_hidden_state");
            float[][][] padded = (float[][][]) OrtTestSupport.runRaw(s,
                    new Batch().addPadded(a, n, 0, false).add(b), "last_hidden_state");
            assertThat(padded.length).isEqualTo(2);
            assertThat(padded[0].length).isEqualTo(b.getIds().length);
            assertThat(padded[0][0].length).isEqualTo(TinyTransformer.HIDDEN);
            for (int t = 0; t < a.getIds().length; t++) {
                assertThat(maxAbsDiff(alone[0][t], padded[0][t])).isLessThan(1e-5);
            }
            long[] paddedMask = Batch.pad(a.getAttentionMask(), n, 0, false);
            float[] pooledAlone = TestBundles.meanPool(alone[0], a.getAttentionMask());
            float[] pooledPadded = TestBundles.meanPool(padded[0], paddedMask);
            assertThat(maxAbsDiff(pooledAlone, pooledPadded)).isLessThan(1e-5);

            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            for (String text : OrtTestSupport.TEXTS) {
                Encoding e = tok.encode(text);
                float[][][] h = (float[][][]) OrtTestSupport.runRaw(s, new Batch().add(e), "last_hidden_state");
                float[] logits = TestBundles.head(TestBundles.meanPool(h[0], e.getAttentionMask()), w, bias);
                min = Math.min(min, logits[0]);
                max = Math.max(max, logits[0]);
            }
            assertThat(max - min).isBetween(0.5, 50.0);
        }
    }

    @Test
    void bert_declaresDynamicBatchAndSequenceAndFloatLogits() throws Exception {
        Map<String, TensorInfo> inputs = OrtTestSupport.inputs(F.get("bert").session);
        for (TensorInfo info : inputs.values()) {
            assertThat(info.getShape()).containsExactly(-1, -1);
            assertThat(info.getDimensionNames()).containsExactly("batch", "sequence");
        }
        assertThat(OrtTestSupport.outputs(F.get("bert").session).get("logits").type)
                .isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
    }

    @Test
    void bert_pairsGetSegmentIds() {
        Encoding pair = F.get("bert").tokenizer.encode("Hello world", "thanks a lot");
        assertThat(pair.getTypeIds()).containsExactly(0, 0, 0, 0, 1, 1, 1, 1);
    }

    // ------------------------------------------------------------ albert

    @Test
    void albert_unigramTokenizerFramesASingleText() {
        Encoding e = F.get("albert").tokenizer.encode("Hello world");
        assertThat(e.getTokens()).containsExactly("[CLS]", "\u2581hello", "\u2581world", "[SEP]");
        assertThat(e.getIds()[0]).isEqualTo(2);
        assertThat(e.getIds()[3]).isEqualTo(3);
        assertThat(e.getTypeIds()).containsOnly(0);
        assertThat(e.getAttentionMask()).containsOnly(1);
        assertThat(F.get("albert").tokenizer.decode(e.getIds(), true)).isEqualTo("hello world");
    }

    @Test
    void albert_unigramTokenizerFramesAPairWithSegments() {
        Encoding e = F.get("albert").tokenizer.encode("Hello world", "thanks");
        assertThat(e.getTokens()).containsExactly("[CLS]", "\u2581hello", "\u2581world", "[SEP]", "\u2581thanks", "[SEP]");
        assertThat(e.getTypeIds()).containsExactly(0, 0, 0, 0, 1, 1);
    }

    @Test
    void albert_unknownCharactersMapToUnk() {
        Encoding e = F.get("albert").tokenizer.encode("hello \u4f60\u597d world");
        List<String> tokens = List.of(e.getTokens());
        // HF's Unigram gives an unknown piece the unk id but keeps its surface form as the token
        // string (WordPiece would say "[UNK]"); consecutive unknown characters fuse into one piece
        assertThat(tokens).containsExactly("[CLS]", "\u2581hello", "\u2581", "\u4f60\u597d", "\u2581world", "[SEP]");
        assertThat(e.getIds()[3]).isEqualTo(1);
        assertThat(e.getIds()).containsOnlyOnce(1);
    }

    @Test
    void albert_anyAsciiTextTokenizesWithoutUnk() {
        StringBuilder all = new StringBuilder();
        for (char c = 32; c < 127; c++) {
            all.append(c);
        }
        String text = all + " Zebras 123 qx? ~`|\\ MiXeD CaSe";
        Encoding e = F.get("albert").tokenizer.encode(text);
        assertThat(e.getIds()).doesNotContain(1);
        assertThat(e.getIds().length).isLessThan(text.length() + 3);
    }

    @Test
    void albert_specialTokensHaveAlbertIds() throws Exception {
        JsonNode tok = TestTokenizers.readJson(F.get("albert").bundle.resolve("tokenizer.json"));
        assertThat(tok.at("/model/type").asText()).isEqualTo("Unigram");
        assertThat(tok.at("/model/unk_id").asInt()).isEqualTo(1);
        List<String> first = List.of("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]");
        for (int id = 0; id < first.size(); id++) {
            assertThat(tok.at("/model/vocab/" + id + "/0").asText()).isEqualTo(first.get(id));
            assertThat(F.get("albert").tokenizer.encode(first.get(id), false, false).getIds()).containsExactly(id);
        }
        assertThat(tok.at("/model/vocab").size()).isBetween(300, 5000);
    }

    @Test
    void albert_writesConfig() throws Exception {
        JsonNode config = TestTokenizers.readJson(F.get("albert").bundle.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo("albert");
        assertThat(config.get("problem_type").asText()).isEqualTo("multi_label_classification");
        assertThat(config.get("pad_token_id").asInt()).isZero();
        assertThat(config.get("id2label")).hasSize(3);
        assertThat(config.at("/label2id/threat").asInt()).isEqualTo(2);
    }

    @Test
    void albert_factorizesTheEmbeddingAndSharesOneLayer() throws Exception {
        OnnxMl.GraphProto graph = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(F.get("albert").bundle.resolve("model.onnx"))).getGraph();
        Map<String, List<Long>> dims = graph.getInitializerList().stream()
                .collect(Collectors.toMap(OnnxMl.TensorProto::getName, OnnxMl.TensorProto::getDimsList));
        int vocab = TestTokenizers.vocabSize(F.get("albert").bundle.resolve("tokenizer.json"));
        assertThat(dims.get("embeddings.word")).containsExactly((long) vocab, 16L);
        assertThat(dims.get("embeddings.projection.weight")).containsExactly(16L, 32L);
        String q = "encoder.layer_shared.attention.query.weight";
        assertThat(dims).containsKey(q);
        assertThat(dims.keySet()).noneMatch(n -> n.startsWith("encoder.layer_0") || n.startsWith("encoder.layer_1"));
        long uses = graph.getNodeList().stream().filter(n -> n.getInputList().contains(q)).count();
        assertThat(uses).as("the shared layer is applied twice").isEqualTo(2);
    }

    // ------------------------------------------------------------ roberta

    @Test
    void roberta_addsRobertaSpecialTokensAfterTheVocabulary() throws Exception {
        assertThat(F.get("roberta").config.get("model_type").asText()).isEqualTo("roberta");
        assertThat(F.get("roberta").config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(F.get("roberta").config.get("bos_token_id").asInt()).isEqualTo(F.get("roberta").vocab);
        assertThat(F.get("roberta").config.get("eos_token_id").asInt()).isEqualTo(F.get("roberta").vocab + 1);
        assertThat(F.get("roberta").config.get("pad_token_id").asInt()).isEqualTo(F.get("roberta").vocab + 2);
        assertThat(F.get("roberta").config.get("id2label")).hasSize(2);
        assertThat(TestTokenizers.vocabSize(F.get("roberta").bundle.resolve("tokenizer.json"))).isEqualTo(F.get("roberta").vocab + 3);
        assertThat(F.get("roberta").tokenizer.encode("<pad>", false, false).getIds()).containsExactly(F.get("roberta").vocab + 2);
    }

    @Test
    void roberta_framesSinglesAndPairsLikeRoberta() {
        Encoding e = F.get("roberta").tokenizer.encode("Hello world");
        assertThat(e.getTokens()[0]).isEqualTo("<s>");
        assertThat(e.getTokens()[e.getTokens().length - 1]).isEqualTo("</s>");
        assertThat(F.get("roberta").tokenizer.decode(e.getIds(), true)).isEqualTo("Hello world");

        Encoding pair = F.get("roberta").tokenizer.encode("Hello", "world");
        assertThat(pair.getTokens()).startsWith("<s>").endsWith("</s>");
        String joined = String.join(" ", pair.getTokens());
        assertThat(joined).contains("</s> </s>");
        assertThat(pair.getTypeIds()).containsOnly(0);
    }

    // ------------------------------------------------------------ gpt2

    @Test
    void gpt2_tinyBpeIsAGpt2StyleByteLevelTokenizer() throws Exception {
        JsonNode tok = TestTokenizers.readJson(F.get("gpt2").bpe);
        assertThat(tok.at("/model/type").asText()).isEqualTo("BPE");
        assertThat(tok.at("/pre_tokenizer/type").asText()).isEqualTo("ByteLevel");
        assertThat(tok.at("/pre_tokenizer/add_prefix_space").asBoolean()).isFalse();
        assertThat(tok.at("/model/merges").size()).isEqualTo(400);
        // GPT-2's byte order: "!" is 0, the space byte "Ġ" is 220
        assertThat(tok.at("/model/vocab/!").asInt()).isZero();
        assertThat(tok.at("/model/vocab/\u0120").asInt()).isEqualTo(220);
        int eos = TestTokenizers.tokenId(tok, "<|endoftext|>");
        assertThat(eos).isEqualTo(TestTokenizers.maxTokenId(tok));

        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(F.get("gpt2").bpe)) {
            Encoding e = t.encode("Hello world");
            assertThat(e.getTokens()).doesNotContain("<|endoftext|>").contains("\u0120wor");
            assertThat(t.decode(e.getIds())).isEqualTo("Hello world");
            String unicode = "h\u00e9llo w\u00f6rld \ud83d\ude00 \u4f60\u597d";
            assertThat(t.decode(t.encode(unicode).getIds())).isEqualTo(unicode);
            assertThat(t.encode("a<|endoftext|>").getIds()).endsWith(eos);
        }
    }

    @Test
    void gpt2_writesConfig() throws Exception {
        JsonNode config = TestTokenizers.readJson(F.get("gpt2").bundle.resolve("config.json"));
        int eos = TestTokenizers.tokenId(TestTokenizers.readJson(F.get("gpt2").bundle.resolve("tokenizer.json")), "<|endoftext|>");
        assertThat(config.get("model_type").asText()).isEqualTo("gpt2");
        assertThat(config.get("pad_token_id").asInt()).isEqualTo(eos);
        assertThat(config.get("eos_token_id").asInt()).isEqualTo(eos);
        assertThat(config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(config.get("id2label")).hasSize(2);
    }

    @Test
    void gpt2_leftPaddingWithTheEosIdChangesNothing() throws Exception {
        OrtTestSupport.assertPaddingInvariant(F.get("gpt2").session, F.get("gpt2").tokenizer.encode("Hello world"),
                F.get("gpt2").tokenizer.encode("The quick brown fox jumps over the lazy dog."), F.get("gpt2").pad, true);
    }

    @Test
    void gpt2_headReadsTheLastNonPadToken() throws Exception {
        Encoding e = F.get("gpt2").tokenizer.encode("you are a terrible idiot");
        float[] base = run(F.get("gpt2").session, new Batch().add(e))[0];
        // a trailing F.get("gpt2").pad id that is NOT masked is still skipped by the head (as in HF), and causal
        // attention keeps the earlier hidden states as they were
        long[] ids = Batch.pad(e.getIds(), 1, F.get("gpt2").pad, false);
        float[] trailingEos = run(F.get("gpt2").session, new Batch().add(ids, OrtTestSupport.ones(ids.length), null))[0];
        assertThat(maxAbsDiff(base, trailingEos)).isLessThan(1e-5);
        // dropping the last real token changes the logits
        long[] shorter = Arrays.copyOf(e.getIds(), e.getIds().length - 1);
        float[] dropped = run(F.get("gpt2").session, new Batch().add(shorter, OrtTestSupport.ones(shorter.length), null))[0];
        assertThat(maxAbsDiff(base, dropped)).isGreaterThan(1e-3);
    }

    @Test
    void gpt2_realGpt2VocabularyDropsIn() throws Exception {
        Path fixture = Path.of(TestBundles.GPT2_FIXTURE);
        assumeTrue(Files.exists(fixture), "no " + fixture + " yet");
        Path gpt2 = TestBundles.gpt2(tmp.resolve("gpt2-real"), fixture);
        JsonNode config = TestTokenizers.readJson(gpt2.resolve("config.json"));
        assertThat(config.get("pad_token_id").asInt()).isEqualTo(50256);
        assertThat(config.get("vocab_size").asInt()).isEqualTo(50257);
        Path roberta = TestBundles.roberta(tmp.resolve("roberta-real"), fixture);
        assertThat(TestTokenizers.readJson(roberta.resolve("config.json")).get("pad_token_id").asInt()).isEqualTo(50259);
        try (OrtSession s = OrtTestSupport.open(gpt2); HuggingFaceTokenizer t = OrtTestSupport.tokenizer(gpt2)) {
            Encoding e = t.encode("Hello world");
            assertThat(e.getIds()).containsExactly(15496, 995);
            OrtTestSupport.assertPaddingInvariant(s, e, t.encode("The quick brown fox jumps over the lazy dog."),
                    50256, true);
        }
        try (OrtSession s = OrtTestSupport.open(roberta); HuggingFaceTokenizer t = OrtTestSupport.tokenizer(roberta)) {
            Encoding e = t.encode("Hello world");
            assertThat(e.getIds()).containsExactly(50257, 15496, 995, 50258);
            assertThat(run(s, new Batch().add(e))[0]).hasSize(2);
        }
    }

}
