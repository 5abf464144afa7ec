package dev.labelstream.inference;

import static dev.labelstream.inference.OrtTestSupport.Batch;
import static dev.labelstream.inference.OrtTestSupport.maxAbsDiff;
import static dev.labelstream.inference.OrtTestSupport.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestBundlesGpt2Test {

    @TempDir
    static Path tmp;

    static Path bpe;
    static Path bundle;
    static OrtSession session;
    static HuggingFaceTokenizer tokenizer;
    static long pad;

    @BeforeAll
    static void build() throws Exception {
        bpe = TestBundles.tinyByteLevelBpeTokenizer(tmp.resolve("gpt2-tokenizer.json"));
        bundle = TestBundles.gpt2(tmp.resolve("gpt2"), bpe);
        session = OrtTestSupport.open(bundle);
        tokenizer = OrtTestSupport.tokenizer(bundle);
        pad = TestTokenizers.readJson(bundle.resolve("config.json")).get("pad_token_id").asLong();
    }

    @AfterAll
    static void close() throws Exception {
        session.close();
        tokenizer.close();
    }

    // ------------------------------------------------------------------ tiny byte-level BPE

    @Test
    void tinyBpeIsAGpt2StyleByteLevelTokenizer() throws Exception {
        JsonNode tok = TestTokenizers.readJson(bpe);
        assertThat(tok.at("/model/type").asText()).isEqualTo("BPE");
        assertThat(tok.at("/pre_tokenizer/type").asText()).isEqualTo("ByteLevel");
        assertThat(tok.at("/pre_tokenizer/add_prefix_space").asBoolean()).isFalse();
        assertThat(tok.at("/model/merges").size()).isEqualTo(400);
        // GPT-2's byte order: "!" is 0, the space byte "Ġ" is 220
        assertThat(tok.at("/model/vocab/!").asInt()).isZero();
        assertThat(tok.at("/model/vocab/\u0120").asInt()).isEqualTo(220);
        int eos = TestTokenizers.tokenId(tok, "<|endoftext|>");
        assertThat(eos).isEqualTo(TestTokenizers.maxTokenId(tok));

        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(bpe)) {
            Encoding e = t.encode("Hello world");
            assertThat(e.getTokens()).doesNotContain("<|endoftext|>").contains("\u0120wor");
            assertThat(t.decode(e.getIds())).isEqualTo("Hello world");
            String unicode = "h\u00e9llo w\u00f6rld \ud83d\ude00 \u4f60\u597d";
            assertThat(t.decode(t.encode(unicode).getIds())).isEqualTo(unicode);
            assertThat(t.encode("a<|endoftext|>").getIds()).endsWith(eos);
        }
    }

    // ------------------------------------------------------------------ graph

    @Test
    void writesConfig() throws Exception {
        JsonNode config = TestTokenizers.readJson(bundle.resolve("config.json"));
        int eos = TestTokenizers.tokenId(TestTokenizers.readJson(bundle.resolve("tokenizer.json")), "<|endoftext|>");
        assertThat(config.get("model_type").asText()).isEqualTo("gpt2");
        assertThat(config.get("pad_token_id").asInt()).isEqualTo(eos);
        assertThat(config.get("eos_token_id").asInt()).isEqualTo(eos);
        assertThat(config.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(config.get("id2label")).hasSize(2);
    }

    @Test
    void declaresIdsAndMaskOnly() throws Exception {
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
        OrtTestSupport.assertPositionsMatter(session, tokenizer.encode("you are a terrible idiot"), 0, 1);
    }

    @Test
    void leftPaddingWithTheEosIdChangesNothing() throws Exception {
        OrtTestSupport.assertPaddingInvariant(session, tokenizer.encode("Hello world"),
                tokenizer.encode("The quick brown fox jumps over the lazy dog."), pad, true);
    }

    @Test
    void rightPaddingWithTheEosIdChangesNothing() throws Exception {
        OrtTestSupport.assertPaddingInvariant(session, tokenizer.encode("Hello world"),
                tokenizer.encode("The quick brown fox jumps over the lazy dog."), pad, false);
    }

    @Test
    void headReadsTheLastNonPadToken() throws Exception {
        Encoding e = tokenizer.encode("you are a terrible idiot");
        float[] base = run(session, new Batch().add(e))[0];
        // a trailing pad id that is NOT masked is still skipped by the head (as in HF), and causal
        // attention keeps the earlier hidden states as they were
        long[] ids = Batch.pad(e.getIds(), 1, pad, false);
        float[] trailingEos = run(session, new Batch().add(ids, OrtTestSupport.ones(ids.length), null))[0];
        assertThat(maxAbsDiff(base, trailingEos)).isLessThan(1e-5);
        // dropping the last real token changes the logits
        long[] shorter = Arrays.copyOf(e.getIds(), e.getIds().length - 1);
        float[] dropped = run(session, new Batch().add(shorter, OrtTestSupport.ones(shorter.length), null))[0];
        assertThat(maxAbsDiff(base, dropped)).isGreaterThan(1e-3);
    }

    // ------------------------------------------------------------------ the real GPT-2 vocabulary, once it lands

    @Test
    void realGpt2VocabularyDropsIn() throws Exception {
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
