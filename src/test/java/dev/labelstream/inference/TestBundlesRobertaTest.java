package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestBundlesRobertaTest {

    @TempDir
    static Path tmp;

    static Path bundle;
    static OrtSession session;
    static HuggingFaceTokenizer tokenizer;
    static int bpeSize;
    static JsonNode config;

    @BeforeAll
    static void build() throws Exception {
        Path bpe = TestBundles.tinyByteLevelBpeTokenizer(tmp.resolve("gpt2-tokenizer.json"));
        bpeSize = TestTokenizers.vocabSize(bpe);
        bundle = TestBundles.roberta(tmp.resolve("roberta"), bpe);
        session = OrtTestSupport.open(bundle);
        tokenizer = OrtTestSupport.tokenizer(bundle);
        config = TestTokenizers.readJson(bundle.resolve("config.json"));
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
        tokenizer.close();
    }

    @Test
    void addsRobertaSpecialTokensAfterTheVocabulary() throws Exception {
        assertThat(config.get("model_type").asText()).isEqualTo("roberta");
        assertThat(config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(config.get("bos_token_id").asInt()).isEqualTo(bpeSize);
        assertThat(config.get("eos_token_id").asInt()).isEqualTo(bpeSize + 1);
        assertThat(config.get("pad_token_id").asInt()).isEqualTo(bpeSize + 2);
        assertThat(config.get("id2label")).hasSize(2);
        assertThat(TestTokenizers.vocabSize(bundle.resolve("tokenizer.json"))).isEqualTo(bpeSize + 3);
        assertThat(tokenizer.encode("<pad>", false, false).getIds()).containsExactly(bpeSize + 2);
    }

    @Test
    void framesSinglesAndPairsLikeRoberta() {
        Encoding e = tokenizer.encode("Hello world");
        assertThat(e.getTokens()[0]).isEqualTo("<s>");
        assertThat(e.getTokens()[e.getTokens().length - 1]).isEqualTo("</s>");
        assertThat(tokenizer.decode(e.getIds(), true)).isEqualTo("Hello world");

        Encoding pair = tokenizer.encode("Hello", "world");
        assertThat(pair.getTokens()).startsWith("<s>").endsWith("</s>");
        String joined = String.join(" ", pair.getTokens());
        assertThat(joined).contains("</s> </s>");
        assertThat(pair.getTypeIds()).containsOnly(0);
    }

    @Test
    void declaresNoTokenTypes() throws Exception {
        assertThat(OrtTestSupport.inputs(session).keySet()).containsExactly("input_ids", "attention_mask");
        assertThat(OrtTestSupport.outputs(session).keySet()).containsExactly("logits");
        assertThat(OrtTestSupport.outputs(session).get("logits").getShape()).containsExactly(-1, 2);
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
    void usesPositions() throws Exception {
        Encoding e = tokenizer.encode("you are a terrible idiot");
        OrtTestSupport.assertPositionsMatter(session, e, 1, 2);
    }

    @Test
    void rightPaddingChangesNothing() throws Exception {
        OrtTestSupport.assertPaddingInvariant(session, tokenizer.encode("Hello world"),
                tokenizer.encode("The quick brown fox jumps over the lazy dog."),
                config.get("pad_token_id").asLong(), false);
    }
}
