package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.TinyTransformer.Head;
import dev.labelstream.inference.TinyTransformer.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Small random-weight model bundles, one per model family, in the layout Hugging Face Optimum
 * exports ({@code model.onnx}, {@code tokenizer.json}, {@code config.json}, optionally
 * {@code labelstream.json}). Each factory writes into {@code dir} (created if missing) and returns it.
 * Weights come from fixed seeds: the same call writes the same bytes. Graphs: see
 * {@link TinyTransformer} (hidden size 32, one attention head, 512 positions).
 */
final class TestBundles {

    static final String MODEL = "model.onnx";
    static final String TOKENIZER = "tokenizer.json";
    static final String CONFIG = "config.json";
    static final String LABELSTREAM = "labelstream.json";
    static final String HEAD = "head.json";

    static final List<String> BERT_LABELS = List.of("ok", "toxic");
    static final List<String> ALBERT_LABELS = List.of("toxic", "insult", "threat");
    static final List<String> ROBERTA_LABELS = List.of("negative", "positive");
    static final List<String> GPT2_LABELS = List.of("ham", "spam");
    static final List<String> ENCODER_LABELS = List.of("neg", "pos");

    static final String SINGLE_LABEL = "single_label_classification";
    static final String MULTI_LABEL = "multi_label_classification";

    /** Where the real GPT-2 vocabulary lands (another branch); until then use {@link #tinyByteLevelBpeTokenizer}. */
    static final String GPT2_FIXTURE = "src/test/resources/fixtures/gpt2/tokenizer.json.gz";

    private TestBundles() {}

    /**
     * BERT: MiniLM's WordPiece tokenizer.json (truncation and padding nulled); inputs input_ids,
     * attention_mask, token_type_ids; first-token pooler + classifier; output logits [batch, 2];
     * labels ok, toxic; single-label; pad id 0.
     */
    static Path bert(Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode tok = TestTokenizers.readJson(TestTokenizers.miniLmWordPiece(dir.resolve(TOKENIZER)));
        int vocab = TestTokenizers.maxTokenId(tok) + 1;
        TinyTransformer.write(new Spec("tiny-bert", 101, vocab, TinyTransformer.HIDDEN, true, 1, false, false,
                Head.FIRST_TOKEN_POOLER, BERT_LABELS.size(), 0,
                TestTokenizers.tokenId(tok, "[CLS]"), TestTokenizers.tokenId(tok, "[SEP]")), dir.resolve(MODEL));
        ObjectNode config = config("bert", "BertForSequenceClassification", vocab, BERT_LABELS, SINGLE_LABEL, 0);
        config.put("type_vocab_size", 2);
        TestTokenizers.write(config, dir.resolve(CONFIG));
        return dir;
    }

    /**
     * BERT encoder without a head: output last_hidden_state [batch, sequence, 32]; config.json
     * without id2label; labelstream.json {@code {"pooling":"mean","head":"head.json"}}; head.json
     * {@code {"labels":["neg","pos"],"weights":[[32 floats],[32 floats]],"bias":[b0,b1]}}, the
     * bias centred on random inputs like the classifiers of the other bundles.
     */
    static Path bertEncoderOnly(Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode tok = TestTokenizers.readJson(TestTokenizers.miniLmWordPiece(dir.resolve(TOKENIZER)));
        int vocab = TestTokenizers.maxTokenId(tok) + 1;
        Spec spec = new Spec("tiny-bert-encoder", 202, vocab, TinyTransformer.HIDDEN, true, 1, false, false,
                Head.NONE, 0, 0, TestTokenizers.tokenId(tok, "[CLS]"), TestTokenizers.tokenId(tok, "[SEP]"));
        byte[] model = TinyTransformer.write(spec, dir.resolve(MODEL));
        ObjectNode config = config("bert", "BertModel", vocab, null, null, 0);
        config.put("type_vocab_size", 2);
        TestTokenizers.write(config, dir.resolve(CONFIG));

        ObjectNode ls = TestTokenizers.JSON.createObjectNode();
        ls.put("pooling", "mean");
        ls.put("head", HEAD);
        TestTokenizers.write(ls, dir.resolve(LABELSTREAM));

        // the head is calibrated like the classifiers in the graphs (TinyTransformer#calibrate)
        int h = TinyTransformer.HIDDEN;
        int labels = ENCODER_LABELS.size();
        Random random = new Random(203);
        float[][] weights = new float[labels][h];
        for (float[] row : weights) {
            for (int i = 0; i < h; i++) {
                row[i] = (float) (random.nextGaussian() / Math.sqrt(h));
            }
        }
        TinyTransformer.Rows rows = TinyTransformer.randomRows(spec);
        float[][][] hidden = (float[][][]) rows.run(model);
        float[][] logits = new float[hidden.length][];
        for (int r = 0; r < hidden.length; r++) {
            logits[r] = head(meanPool(hidden[r], rows.mask()[r]), weights, new float[labels]);
        }
        float[] scale = new float[labels];
        float[] bias = new float[labels];
        TinyTransformer.centreAndScale(logits, scale, bias);
        for (int l = 0; l < labels; l++) {
            for (int i = 0; i < h; i++) {
                weights[l][i] *= scale[l];
            }
        }
        ObjectNode head = TestTokenizers.JSON.createObjectNode();
        ArrayNode labelsNode = head.putArray("labels");
        ENCODER_LABELS.forEach(labelsNode::add);
        ArrayNode weightsNode = head.putArray("weights");
        for (float[] row : weights) {
            ArrayNode r = weightsNode.addArray();
            for (float w : row) {
                r.add(w);
            }
        }
        ArrayNode biasNode = head.putArray("bias");
        for (float b : bias) {
            biasNode.add(b);
        }
        TestTokenizers.write(head, dir.resolve(HEAD));
        return dir;
    }

    /** Mean of the hidden states of the tokens whose mask is 1 (all tokens if mask is null). */
    static float[] meanPool(float[][] hidden, long[] mask) {
        float[] sum = new float[hidden[0].length];
        int n = 0;
        for (int t = 0; t < hidden.length; t++) {
            if (mask == null || mask[t] != 0) {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += hidden[t][i];
                }
                n++;
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= Math.max(n, 1);
        }
        return sum;
    }

    /** logits[l] = weights[l] . x + bias[l], the head.json convention. */
    static float[] head(float[] x, float[][] weights, float[] bias) {
        float[] out = new float[weights.length];
        for (int l = 0; l < weights.length; l++) {
            double s = bias[l];
            for (int i = 0; i < x.length; i++) {
                s += (double) weights[l][i] * x[i];
            }
            out[l] = (float) s;
        }
        return out;
    }

    /**
     * ALBERT: a SentencePiece Unigram tokenizer built here ({@link TestTokenizers#albertUnigram});
     * factorized embedding (E=16, LayerNorm, projected to H=32) and one transformer layer applied
     * twice with the same weights; inputs input_ids, attention_mask, token_type_ids; first-token
     * pooler + classifier; output logits [batch, 3]; labels toxic, insult, threat; multi-label
     * (sigmoid); pad id 0.
     */
    static Path albert(Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode tok = TestTokenizers.readJson(TestTokenizers.albertUnigram(dir.resolve(TOKENIZER)));
        int vocab = TestTokenizers.maxTokenId(tok) + 1;
        TinyTransformer.write(new Spec("tiny-albert", 303, vocab, ALBERT_EMBEDDING, true, 2, true, false,
                Head.FIRST_TOKEN_POOLER, ALBERT_LABELS.size(), 0,
                TestTokenizers.tokenId(tok, "[CLS]"), TestTokenizers.tokenId(tok, "[SEP]")), dir.resolve(MODEL));
        ObjectNode config = config("albert", "AlbertForSequenceClassification", vocab, ALBERT_LABELS, MULTI_LABEL, 0);
        config.put("embedding_size", ALBERT_EMBEDDING);
        config.put("num_hidden_layers", 2);
        config.put("num_hidden_groups", 1);
        config.put("type_vocab_size", 2);
        config.put("bos_token_id", TestTokenizers.tokenId(tok, "[CLS]"));
        config.put("eos_token_id", TestTokenizers.tokenId(tok, "[SEP]"));
        TestTokenizers.write(config, dir.resolve(CONFIG));
        return dir;
    }

    static final int ALBERT_EMBEDDING = 16;

    /**
     * RoBERTa: byte-level BPE from the given GPT-2 tokenizer.json (plain or .gz) plus {@code <s>,
     * </s>, <pad>} with ids after its vocabulary and a RobertaProcessing post-processor; inputs
     * input_ids and attention_mask only; first-token pooler + classifier; output logits [batch, 2];
     * labels negative, positive; single-label; pad id = the {@code <pad>} id.
     */
    static Path roberta(Path dir, Path gpt2TokenizerJson) throws IOException {
        Files.createDirectories(dir);
        TestTokenizers.RobertaIds ids = TestTokenizers.robertaFromGpt2(gpt2TokenizerJson, dir.resolve(TOKENIZER));
        int vocab = TestTokenizers.vocabSize(dir.resolve(TOKENIZER));
        TinyTransformer.write(new Spec("tiny-roberta", 404, vocab, TinyTransformer.HIDDEN, false, 1, false, false,
                Head.FIRST_TOKEN_POOLER, ROBERTA_LABELS.size(), ids.pad(), ids.bos(), ids.eos()), dir.resolve(MODEL));
        ObjectNode config = config("roberta", "RobertaForSequenceClassification", vocab, ROBERTA_LABELS,
                SINGLE_LABEL, ids.pad());
        config.put("bos_token_id", ids.bos());
        config.put("eos_token_id", ids.eos());
        config.put("type_vocab_size", 1);
        TestTokenizers.write(config, dir.resolve(CONFIG));
        return dir;
    }

    /**
     * GPT-2: the given byte-level BPE tokenizer.json (plain or .gz; padding and truncation nulled);
     * inputs input_ids and attention_mask; causal attention, positions max(cumsum(mask) - 1, 0)
     * computed in the graph; the score head reads the last token whose id is not the pad id
     * ({@code <|endoftext|>}: 50256 in the real vocabulary); output logits [batch, 2]; labels ham,
     * spam; single-label; pad_token_id = eos_token_id = the {@code <|endoftext|>} id.
     */
    static Path gpt2(Path dir, Path gpt2TokenizerJson) throws IOException {
        Files.createDirectories(dir);
        JsonNode tok = TestTokenizers.readJson(TestTokenizers.copyGpt2(gpt2TokenizerJson, dir.resolve(TOKENIZER)));
        int vocab = TestTokenizers.maxTokenId(tok) + 1;
        int eos = TestTokenizers.tokenId(tok, TestTokenizers.GPT2_EOS);
        TinyTransformer.write(new Spec("tiny-gpt2", 505, vocab, TinyTransformer.HIDDEN, false, 1, false, true,
                Head.LAST_NON_PAD, GPT2_LABELS.size(), eos, -1, -1), dir.resolve(MODEL));
        ObjectNode config = config("gpt2", "GPT2ForSequenceClassification", vocab, GPT2_LABELS, SINGLE_LABEL, eos);
        config.put("bos_token_id", eos);
        config.put("eos_token_id", eos);
        config.put("n_positions", TinyTransformer.MAX_POSITIONS);
        config.put("n_embd", TinyTransformer.HIDDEN);
        config.put("n_layer", 1);
        config.put("n_head", 1);
        TestTokenizers.write(config, dir.resolve(CONFIG));
        return dir;
    }

    /**
     * A small GPT-2-style byte-level BPE tokenizer.json (256 byte symbols, 400 merges learned from a
     * word list, {@code <|endoftext|>} last), a stand-in for the real GPT-2 vocabulary.
     */
    static Path tinyByteLevelBpeTokenizer(Path out) throws IOException {
        return TestTokenizers.tinyByteLevelBpe(out, 400);
    }

    private static ObjectNode config(String modelType, String architecture, int vocab, List<String> labels,
                                     String problemType, long padTokenId) {
        ObjectNode c = TestTokenizers.JSON.createObjectNode();
        c.put("model_type", modelType);
        c.putArray("architectures").add(architecture);
        c.put("vocab_size", vocab);
        c.put("hidden_size", TinyTransformer.HIDDEN);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 1);
        c.put("intermediate_size", 4 * TinyTransformer.HIDDEN);
        c.put("max_position_embeddings", TinyTransformer.MAX_POSITIONS);
        if (labels != null) {
            ObjectNode id2label = c.putObject("id2label");
            ObjectNode label2id = c.putObject("label2id");
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(String.valueOf(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
            c.put("problem_type", problemType);
        }
        c.put("pad_token_id", padTokenId);
        return c;
    }
}
