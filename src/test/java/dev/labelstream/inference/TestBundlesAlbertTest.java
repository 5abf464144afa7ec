package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestBundlesAlbertTest {

    @TempDir
    static Path tmp;

    static Path bundle;
    static OrtSession session;
    static HuggingFaceTokenizer tokenizer;

    @BeforeAll
    static void build() throws Exception {
        bundle = TestBundles.albert(tmp.resolve("albert"));
        session = OrtTestSupport.open(bundle);
        // DJL's defaults, no options: the tokenizer.json alone must be right
        tokenizer = HuggingFaceTokenizer.newInstance(bundle.resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
        tokenizer.close();
    }

    // ------------------------------------------------------------------ Unigram tokenizer

    @Test
    void unigramTokenizerFramesASingleText() {
        Encoding e = tokenizer.encode("Hello world");
        assertThat(e.getTokens()).containsExactly("[CLS]", "\u2581hello", "\u2581world", "[SEP]");
        assertThat(e.getIds()[0]).isEqualTo(2);
        assertThat(e.getIds()[3]).isEqualTo(3);
        assertThat(e.getTypeIds()).containsOnly(0);
        assertThat(e.getAttentionMask()).containsOnly(1);
        assertThat(tokenizer.decode(e.getIds(), true)).isEqualTo("hello world");
    }

    @Test
    void unigramTokenizerFramesAPairWithSegments() {
        Encoding e = tokenizer.encode("Hello world", "thanks");
        assertThat(e.getTokens()).containsExactly("[CLS]", "\u2581hello", "\u2581world", "[SEP]", "\u2581thanks", "[SEP]");
        assertThat(e.getTypeIds()).containsExactly(0, 0, 0, 0, 1, 1);
    }

    @Test
    void unknownCharactersMapToUnk() {
        Encoding e = tokenizer.encode("hello \u4f60\u597d world");
        List<String> tokens = List.of(e.getTokens());
        // HF's Unigram gives an unknown piece the unk id but keeps its surface form as the token
        // string (WordPiece would say "[UNK]"); consecutive unknown characters fuse into one piece
        assertThat(tokens).containsExactly("[CLS]", "\u2581hello", "\u2581", "\u4f60\u597d", "\u2581world", "[SEP]");
        assertThat(e.getIds()[3]).isEqualTo(1);
        assertThat(e.getIds()).containsOnlyOnce(1);
    }

    @Test
    void anyAsciiTextTokenizesWithoutUnk() {
        StringBuilder all = new StringBuilder();
        for (char c = 32; c < 127; c++) {
            all.append(c);
        }
        String text = all + " Zebras 123 qx? ~`|\\ MiXeD CaSe";
        Encoding e = tokenizer.encode(text);
        assertThat(e.getIds()).doesNotContain(1);
        assertThat(e.getIds().length).isLessThan(text.length() + 3);
    }

    @Test
    void specialTokensHaveAlbertIds() throws Exception {
        JsonNode tok = TestTokenizers.readJson(bundle.resolve("tokenizer.json"));
        assertThat(tok.at("/model/type").asText()).isEqualTo("Unigram");
        assertThat(tok.at("/model/unk_id").asInt()).isEqualTo(1);
        List<String> first = List.of("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]");
        for (int id = 0; id < first.size(); id++) {
            assertThat(tok.at("/model/vocab/" + id + "/0").asText()).isEqualTo(first.get(id));
            assertThat(tokenizer.encode(first.get(id), false, false).getIds()).containsExactly(id);
        }
        assertThat(tok.at("/model/vocab").size()).isBetween(300, 5000);
    }

    // ------------------------------------------------------------------ graph

    @Test
    void writesConfig() throws Exception {
        JsonNode config = TestTokenizers.readJson(bundle.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo("albert");
        assertThat(config.get("problem_type").asText()).isEqualTo("multi_label_classification");
        assertThat(config.get("pad_token_id").asInt()).isZero();
        assertThat(config.get("id2label")).hasSize(3);
        assertThat(config.at("/label2id/threat").asInt()).isEqualTo(2);
    }

    @Test
    void declaresInputsAndLogits() throws Exception {
        Map<String, TensorInfo> inputs = OrtTestSupport.inputs(session);
        assertThat(inputs.keySet()).containsExactly("input_ids", "attention_mask", "token_type_ids");
        inputs.values().forEach(i -> assertThat(i.type).isEqualTo(ai.onnxruntime.OnnxJavaType.INT64));
        assertThat(OrtTestSupport.outputs(session).keySet()).containsExactly("logits");
        assertThat(OrtTestSupport.outputs(session).get("logits").getShape()).containsExactly(-1, 3);
    }

    @Test
    void factorizesTheEmbeddingAndSharesOneLayer() throws Exception {
        OnnxMl.GraphProto graph = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(bundle.resolve("model.onnx"))).getGraph();
        Map<String, List<Long>> dims = graph.getInitializerList().stream()
                .collect(Collectors.toMap(OnnxMl.TensorProto::getName, OnnxMl.TensorProto::getDimsList));
        int vocab = TestTokenizers.vocabSize(bundle.resolve("tokenizer.json"));
        assertThat(dims.get("embeddings.word")).containsExactly((long) vocab, 16L);
        assertThat(dims.get("embeddings.projection.weight")).containsExactly(16L, 32L);
        String q = "encoder.layer_shared.attention.query.weight";
        assertThat(dims).containsKey(q);
        assertThat(dims.keySet()).noneMatch(n -> n.startsWith("encoder.layer_0") || n.startsWith("encoder.layer_1"));
        long uses = graph.getNodeList().stream().filter(n -> n.getInputList().contains(q)).count();
        assertThat(uses).as("the shared layer is applied twice").isEqualTo(2);
    }

    @Test
    void logitsVaryBetweenTexts() throws Exception {
        OrtTestSupport.assertLogitsSpread(session, tokenizer, OrtTestSupport.TEXTS);
    }

    @Test
    void usesTheAttentionMask() throws Exception {
        OrtTestSupport.assertMaskMatters(session, tokenizer.encode("you are a terrible idiot"));
    }

    @Test
    void usesTokenTypes() throws Exception {
        OrtTestSupport.assertTokenTypesMatter(session, tokenizer.encode("you are a terrible idiot"));
    }

    @Test
    void usesPositions() throws Exception {
        OrtTestSupport.assertPositionsMatter(session, tokenizer.encode("you are a terrible idiot"), 1, 4);
    }

    @Test
    void rightPaddingChangesNothing() throws Exception {
        OrtTestSupport.assertPaddingInvariant(session, tokenizer.encode("Hello world"),
                tokenizer.encode("The quick brown fox jumps over the lazy dog."), 0, false);
    }
}
