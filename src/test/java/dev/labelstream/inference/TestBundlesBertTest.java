package dev.labelstream.inference;

import static dev.labelstream.inference.OrtTestSupport.Batch;
import static dev.labelstream.inference.OrtTestSupport.maxAbsDiff;
import static dev.labelstream.inference.OrtTestSupport.run;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestBundlesBertTest {

    @TempDir
    static Path tmp;

    static Path bundle;
    static OrtSession session;
    static HuggingFaceTokenizer tokenizer;

    @BeforeAll
    static void build() throws Exception {
        bundle = TestBundles.bert(tmp.resolve("bert"));
        session = OrtTestSupport.open(bundle);
        tokenizer = OrtTestSupport.tokenizer(bundle);
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
        tokenizer.close();
    }

    @Test
    void writesTheOptimumLayout() throws Exception {
        assertThat(bundle.resolve("model.onnx")).isRegularFile();
        JsonNode tok = TestTokenizers.readJson(bundle.resolve("tokenizer.json"));
        assertThat(tok.get("truncation").isNull()).isTrue();
        assertThat(tok.get("padding").isNull()).isTrue();
        assertThat(tok.at("/model/type").asText()).isEqualTo("WordPiece");

        JsonNode config = TestTokenizers.readJson(bundle.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo("bert");
        assertThat(config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(config.get("pad_token_id").asInt()).isZero();
        assertThat(config.at("/id2label/0").asText()).isEqualTo("ok");
        assertThat(config.at("/id2label/1").asText()).isEqualTo("toxic");
        assertThat(config.at("/label2id/toxic").asInt()).isEqualTo(1);
        assertThat(bundle.resolve("labelstream.json")).doesNotExist();
    }

    @Test
    void isAnOpset17Ir8Model() throws Exception {
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(bundle.resolve("model.onnx")));
        assertThat(model.getIrVersion()).isEqualTo(8);
        assertThat(model.getOpsetImportList()).singleElement()
                .satisfies(o -> assertThat(o.getVersion()).isEqualTo(17));
    }

    @Test
    void sameCallWritesSameBytes() throws Exception {
        Path again = TestBundles.bert(tmp.resolve("bert-again"));
        assertThat(Files.readAllBytes(again.resolve("model.onnx")))
                .isEqualTo(Files.readAllBytes(bundle.resolve("model.onnx")));
    }

    @Test
    void declaresInputsAndLogits() throws Exception {
        Map<String, TensorInfo> inputs = OrtTestSupport.inputs(session);
        assertThat(inputs.keySet()).containsExactly("input_ids", "attention_mask", "token_type_ids");
        for (TensorInfo info : inputs.values()) {
            assertThat(info.type).isEqualTo(ai.onnxruntime.OnnxJavaType.INT64);
            assertThat(info.getShape()).containsExactly(-1, -1);
            assertThat(info.getDimensionNames()).containsExactly("batch", "sequence");
        }
        Map<String, TensorInfo> outputs = OrtTestSupport.outputs(session);
        assertThat(outputs.keySet()).containsExactly("logits");
        assertThat(outputs.get("logits").type).isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
        assertThat(outputs.get("logits").getShape()).containsExactly(-1, 2);
    }

    @Test
    void runsABatch() throws Exception {
        Encoding a = tokenizer.encode("Hello world");
        assertThat(a.getTokens()).containsExactly("[CLS]", "hello", "world", "[SEP]");
        Encoding b = tokenizer.encode("thanks, this is great");
        float[][] logits = run(session, new Batch().addPadded(a, b.getIds().length - a.getIds().length, 0, false).add(b));
        assertThat(logits).hasDimensions(2, 2);
        assertThat(maxAbsDiff(logits[0], logits[1])).isGreaterThan(1e-3);
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
        Encoding pair = tokenizer.encode("Hello world", "thanks a lot");
        assertThat(pair.getTypeIds()).containsExactly(0, 0, 0, 0, 1, 1, 1, 1);
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

    // ------------------------------------------------------------------ head-less encoder

    @Test
    void encoderOnlyOutputsHiddenStatesAndDescribesItsHead() throws Exception {
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
}
