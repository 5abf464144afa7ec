package dev.labelstream.inference;

import static dev.labelstream.inference.OnnxGraphs.FLOAT;
import static dev.labelstream.inference.OnnxGraphs.INT64;
import static dev.labelstream.inference.OnnxGraphs.attr;
import static dev.labelstream.inference.OnnxGraphs.attrInts;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Writes a one-head, post-LayerNorm transformer with random weights as an ONNX graph, in the
 * shapes a Hugging Face Optimum export of each family has:
 *
 * <pre>
 * X = Gather(word, input_ids) + Gather(pos, position_ids) [+ Gather(type, token_type_ids)]
 * X = LayerNorm(X) [-> MatMul E->H, ALBERT's factorized embedding]
 * repeat: X = LN(X + Attn(X, mask_bias [+ causal_bias])); X = LN(X + FFN(X))   (shared weights when asked)
 * head: first token -> dense+Tanh pooler -> classifier          (BERT, ALBERT, RoBERTa)
 *       last non-padding token (ArgMax(range * (ids != pad))) -> score   (GPT-2)
 *       none: output last_hidden_state                          (head-less encoder)
 * </pre>
 *
 * Positions are 0..seq-1 (Range), or for GPT-2 max(CumSum(attention_mask) - 1, 0) so that left
 * padding keeps the positions of the real tokens. The output layer is calibrated on random inputs
 * ({@link #calibrate}) so logits vary by O(1) between texts and no label wins everywhere.
 *
 * The attention mask becomes an additive bias of -1e9 on masked keys: exp() of it underflows to
 * exactly 0, so masked padding cannot change the outputs of real tokens.
 */
final class TinyTransformer {

    static final int HIDDEN = 32;
    static final int MAX_POSITIONS = 512;
    static final float MASKED = -1e9f;

    enum Head {
        /** first token, dense + Tanh pooler, classifier: output {@code logits [batch, labels]}. */
        FIRST_TOKEN_POOLER,
        /**
         * last token whose id is not the pad id (as GPT2ForSequenceClassification and its export),
         * score: {@code logits [batch, labels]}. Unlike HF's score layer this one has a bias, which
         * only carries the calibration offset.
         */
        LAST_NON_PAD,
        /** no head: output {@code last_hidden_state [batch, sequence, hidden]}. */
        NONE
    }

    /**
     * @param vocabSize rows of the word embedding (max token id + 1)
     * @param embeddingSize E; when it differs from {@link #HIDDEN}, a projection E->H follows the embedding
     * @param tokenTypes whether the graph declares a token_type_ids input
     * @param layerApplications how often a transformer layer is applied
     * @param sharedLayer whether all applications use one set of weights (ALBERT)
     * @param causal GPT-2: causal bias, positions from CumSum(attention_mask), last-token head
     * @param padTokenId the id the {@link Head#LAST_NON_PAD} head treats as padding
     * @param firstTokenId the id the tokenizer puts first ([CLS], {@code <s>}), -1 if none
     * @param lastTokenId the id the tokenizer puts last ([SEP], {@code </s>}), -1 if none
     */
    record Spec(String name, long seed, int vocabSize, int embeddingSize, boolean tokenTypes,
                int layerApplications, boolean sharedLayer, boolean causal, Head head, int numLabels,
                long padTokenId, long firstTokenId, long lastTokenId) {}

    /** Random sequences the output layer is calibrated on (see {@link #calibrate}). */
    static final int CALIBRATION_ROWS = 64;
    static final int CALIBRATION_MAX_LENGTH = 16;
    /** Standard deviation of each logit over the calibration rows. */
    static final double LOGIT_STD = 1.5;

    private final Spec spec;
    private final OnnxGraphs.Builder g;
    private String outputWeight;
    private String outputBias;

    private TinyTransformer(Spec spec) {
        this.spec = spec;
        this.g = OnnxGraphs.builder(spec.name(), spec.seed());
    }

    /** Writes the graph (output bias calibrated, see {@link #calibrate}) and returns its bytes. */
    static byte[] write(Spec spec, Path modelFile) throws IOException {
        byte[] model = bytes(spec);
        Files.createDirectories(modelFile.toAbsolutePath().getParent());
        Files.write(modelFile, model);
        return model;
    }

    static byte[] bytes(Spec spec) throws IOException {
        TinyTransformer t = new TinyTransformer(spec);
        t.build();
        if (spec.head() != Head.NONE) {
            t.calibrate();
        }
        return t.g.build().toByteArray();
    }

    /**
     * Calibrates the output layer on random token sequences (see {@link #randomRows}): scales each
     * label's weights so its logit has standard deviation {@link #LOGIT_STD} over them and sets the
     * bias to centre it at 0. Random weights alone give logits whose spread between texts ranges
     * from ~0.1 to ~5 depending on the seed, and often one label wins for every text; calibrated,
     * each label wins (or, for sigmoid, passes 0.5) for a good share of texts.
     */
    private void calibrate() throws IOException {
        Rows rows = randomRows(spec);
        float[][] logits = (float[][]) rows.run(g.build().toByteArray());
        float[] scale = new float[spec.numLabels()];
        float[] bias = new float[spec.numLabels()];
        centreAndScale(logits, scale, bias);
        int h = HIDDEN;
        float[] w = g.floatsOf(outputWeight); // [H, labels]
        for (int i = 0; i < h; i++) {
            for (int l = 0; l < scale.length; l++) {
                w[i * scale.length + l] *= scale[l];
            }
        }
        g.replaceFloats(outputWeight, w);
        g.replaceFloats(outputBias, bias);
    }

    /**
     * For logits computed with zero bias: per label, the factor that brings their standard
     * deviation to {@link #LOGIT_STD} and the bias that then centres them.
     */
    static void centreAndScale(float[][] logits, float[] scale, float[] bias) {
        for (int l = 0; l < scale.length; l++) {
            double sum = 0;
            double sq = 0;
            for (float[] row : logits) {
                sum += row[l];
                sq += (double) row[l] * row[l];
            }
            double mean = sum / logits.length;
            double std = Math.sqrt(Math.max(sq / logits.length - mean * mean, 1e-12));
            scale[l] = (float) (LOGIT_STD / std);
            bias[l] = (float) (-mean * scale[l]);
        }
    }

    /**
     * {@link #CALIBRATION_ROWS} random rows of 3 to {@link #CALIBRATION_MAX_LENGTH} tokens (never the
     * pad id; first and last token as the spec says), right-padded with the pad id and mask 0.
     */
    static Rows randomRows(Spec spec) {
        Random random = new Random(spec.seed() ^ 0x5DEECE66DL);
        long[][] ids = new long[CALIBRATION_ROWS][CALIBRATION_MAX_LENGTH];
        long[][] mask = new long[CALIBRATION_ROWS][CALIBRATION_MAX_LENGTH];
        for (int r = 0; r < CALIBRATION_ROWS; r++) {
            int length = 3 + random.nextInt(CALIBRATION_MAX_LENGTH - 2);
            Arrays.fill(ids[r], spec.padTokenId());
            for (int j = 0; j < length; j++) {
                long id;
                do {
                    id = random.nextInt(spec.vocabSize());
                } while (id == spec.padTokenId());
                ids[r][j] = id;
                mask[r][j] = 1;
            }
            if (spec.firstTokenId() >= 0) {
                ids[r][0] = spec.firstTokenId();
            }
            if (spec.lastTokenId() >= 0) {
                ids[r][length - 1] = spec.lastTokenId();
            }
        }
        return new Rows(spec, ids, mask);
    }

    /** A batch of token rows for a graph of this spec. */
    record Rows(Spec spec, long[][] ids, long[][] mask) {

        /** Runs the model on the rows (CPU) and returns its first output's value. */
        Object run(byte[] model) throws IOException {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                 OrtSession session = env.createSession(model, options);
                 OnnxTensor idsT = OnnxTensor.createTensor(env, ids);
                 OnnxTensor maskT = OnnxTensor.createTensor(env, mask);
                 OnnxTensor typesT = OnnxTensor.createTensor(env, new long[ids.length][ids[0].length])) {
                Map<String, OnnxTensor> feeds = new HashMap<>();
                feeds.put("input_ids", idsT);
                feeds.put("attention_mask", maskT);
                if (spec.tokenTypes()) {
                    feeds.put("token_type_ids", typesT);
                }
                try (OrtSession.Result result = session.run(feeds)) {
                    return result.get(0).getValue();
                }
            } catch (OrtException e) {
                throw new IOException("running " + spec.name() + " on random rows", e);
            }
        }
    }

    private OnnxGraphs.Builder build() {
        final int h = HIDDEN;
        final int e = spec.embeddingSize();
        String ids = g.input("input_ids", INT64, "batch", "sequence");
        String mask = g.input("attention_mask", INT64, "batch", "sequence");
        String types = spec.tokenTypes() ? g.input("token_type_ids", INT64, "batch", "sequence") : null;

        // sequence length as a scalar and 0..seq-1
        String zero = g.scalar("const.zero_i64", 0L);
        String one = g.scalar("const.one_i64", 1L);
        String shape = g.op("Shape", ids);
        String seq = g.op("Gather", shape, one, attr("axis", 0L));
        String range = g.op("Range", new String[] {zero, seq, one});

        // embeddings
        String x = g.op("Gather", g.normal("embeddings.word", 1.0, spec.vocabSize(), e), ids);
        String positionIds;
        if (spec.causal()) {
            // GPT-2 with left padding: position = max(cumsum(mask) - 1, 0)
            String cumsum = g.op("CumSum", mask, one);
            positionIds = g.op("Max", g.op("Sub", cumsum, one), zero);
        } else {
            positionIds = range; // [seq], broadcast over the batch
        }
        x = g.op("Add", x, g.op("Gather", g.normal("embeddings.position", 1.0, MAX_POSITIONS, e), positionIds));
        if (types != null) {
            x = g.op("Add", x, g.op("Gather", g.normal("embeddings.token_type", 1.0, 2, e), types));
        }
        x = layerNorm(x, e, "embeddings.ln");
        if (e != h) {
            x = linear(x, e, h, 1.0 / Math.sqrt(e), "embeddings.projection");
        }

        // additive attention bias [batch, 1, seq] (+ causal [seq, seq])
        String maskF = g.op("Cast", mask, attr("to", (long) FLOAT));
        String inverted = g.op("Sub", g.scalar("const.one_f", 1f), maskF);
        String bias = g.op("Mul", inverted, g.scalar("const.masked", MASKED));
        bias = g.op("Unsqueeze", bias, g.vector("const.axis1", 1));
        if (spec.causal()) {
            String rows = g.op("Unsqueeze", range, g.vector("const.axis1b", 1)); // [seq, 1]
            String cols = g.op("Unsqueeze", range, g.vector("const.axis0", 0)); // [1, seq]
            String future = g.op("Cast", g.op("Greater", cols, rows), attr("to", (long) FLOAT));
            bias = g.op("Add", bias, g.op("Mul", future, g.scalar("const.masked_causal", MASKED)));
        }

        Layer shared = spec.sharedLayer() ? new Layer("encoder.layer_shared") : null;
        for (int i = 0; i < spec.layerApplications(); i++) {
            Layer layer = shared != null ? shared : new Layer("encoder.layer_" + i);
            x = layer.apply(x, bias);
        }

        switch (spec.head()) {
            case FIRST_TOKEN_POOLER -> {
                String first = g.op("Gather", x, zero, attr("axis", 1L)); // [batch, H]
                String pooled = g.op("Tanh", linear(first, h, h, 1.5 / Math.sqrt(h), "pooler.dense"));
                String w = outputWeight = g.normal("classifier.weight", 1.0 / Math.sqrt(h), h, spec.numLabels());
                String b = outputBias = g.normal("classifier.bias", 0.0, spec.numLabels());
                g.opNamed("logits", "Add", new String[] {g.op("MatMul", pooled, w), b});
                g.output("logits", FLOAT, "batch", spec.numLabels());
            }
            case LAST_NON_PAD -> {
                // as the export of GPT2ForSequenceClassification: ArgMax(range * (ids != pad))
                String isPad = g.op("Equal", ids, g.scalar("const.pad_token_id", spec.padTokenId()));
                String nonPad = g.op("Cast", g.op("Not", isPad), attr("to", (long) OnnxGraphs.INT32));
                String index = g.op("Mul", g.op("Cast", range, attr("to", (long) OnnxGraphs.INT32)), nonPad);
                String last = g.op("ArgMax", index, attr("axis", 1L), attr("keepdims", 0L)); // [batch]
                String picked = g.op("GatherND", x, g.op("Unsqueeze", last, g.vector("const.axis1c", 1)),
                        attr("batch_dims", 1L)); // [batch, H]
                String w = outputWeight = g.normal("score.weight", 1.0 / Math.sqrt(h), h, spec.numLabels());
                // HF's score layer has no bias; this one only carries the calibration offset
                String b = outputBias = g.normal("score.bias", 0.0, spec.numLabels());
                g.opNamed("logits", "Add", new String[] {g.op("MatMul", picked, w), b});
                g.output("logits", FLOAT, "batch", spec.numLabels());
            }
            case NONE -> {
                g.opNamed("last_hidden_state", "Identity", new String[] {x});
                g.output("last_hidden_state", FLOAT, "batch", "sequence", h);
            }
        }
        return g;
    }

    /** One post-LN transformer layer; its weights are created once and may be applied many times. */
    private final class Layer {
        final String wq, bq, wk, bk, wv, bv, wo, bo, ln1s, ln1b, w1, b1, w2, b2, ln2s, ln2b;

        Layer(String p) {
            int h = HIDDEN;
            double qk = 1.5 / Math.sqrt(h);
            double std = 1.0 / Math.sqrt(h);
            wq = g.normal(p + ".attention.query.weight", qk, h, h);
            bq = g.normal(p + ".attention.query.bias", 0.1, h);
            wk = g.normal(p + ".attention.key.weight", qk, h, h);
            bk = g.normal(p + ".attention.key.bias", 0.1, h);
            wv = g.normal(p + ".attention.value.weight", std, h, h);
            bv = g.normal(p + ".attention.value.bias", 0.1, h);
            wo = g.normal(p + ".attention.output.weight", std, h, h);
            bo = g.normal(p + ".attention.output.bias", 0.1, h);
            ln1s = g.around(p + ".attention.ln.weight", 1.0, 0.1, h);
            ln1b = g.normal(p + ".attention.ln.bias", 0.1, h);
            w1 = g.normal(p + ".intermediate.weight", std, h, 4L * h);
            b1 = g.normal(p + ".intermediate.bias", 0.1, 4L * h);
            w2 = g.normal(p + ".output.weight", 1.0 / Math.sqrt(4.0 * h), 4L * h, h);
            b2 = g.normal(p + ".output.bias", 0.1, h);
            ln2s = g.around(p + ".output.ln.weight", 1.0, 0.1, h);
            ln2b = g.normal(p + ".output.ln.bias", 0.1, h);
        }

        String apply(String x, String bias) {
            String q = g.op("Add", g.op("MatMul", x, wq), bq);
            String k = g.op("Add", g.op("MatMul", x, wk), bk);
            String v = g.op("Add", g.op("MatMul", x, wv), bv);
            String kt = g.op("Transpose", k, attrInts("perm", 0, 2, 1));
            String scores = g.op("Mul", g.op("MatMul", q, kt), g.scalar(uniq("const.inv_sqrt_h"), (float) (1.0 / Math.sqrt(HIDDEN))));
            String probs = g.op("Softmax", g.op("Add", scores, bias), attr("axis", -1L));
            String context = g.op("MatMul", probs, v);
            String attnOut = g.op("Add", g.op("MatMul", context, wo), bo);
            String h1 = g.op("LayerNormalization", new String[] {g.op("Add", x, attnOut), ln1s, ln1b},
                    attr("axis", -1L), attr("epsilon", 1e-12f));
            String inter = gelu(g.op("Add", g.op("MatMul", h1, w1), b1));
            String out = g.op("Add", g.op("MatMul", inter, w2), b2);
            return g.op("LayerNormalization", new String[] {g.op("Add", h1, out), ln2s, ln2b},
                    attr("axis", -1L), attr("epsilon", 1e-12f));
        }
    }

    private int uniqCounter;

    private String uniq(String name) {
        return name + "_" + (uniqCounter++);
    }

    private String linear(String x, int in, int out, double std, String prefix) {
        String w = g.normal(prefix + ".weight", std, in, out);
        String b = g.normal(prefix + ".bias", 0.1, out);
        return g.op("Add", g.op("MatMul", x, w), b);
    }

    private String layerNorm(String x, int width, String prefix) {
        String s = g.around(prefix + ".weight", 1.0, 0.1, width);
        String b = g.normal(prefix + ".bias", 0.1, width);
        return g.op("LayerNormalization", new String[] {x, s, b}, attr("axis", -1L), attr("epsilon", 1e-12f));
    }

    /** gelu(x) = 0.5 x (1 + erf(x / sqrt 2)); opset 17 has no Gelu op. */
    private String gelu(String x) {
        String erf = g.op("Erf", g.op("Mul", x, g.scalar(uniq("const.inv_sqrt2"), (float) (1.0 / Math.sqrt(2.0)))));
        String onePlus = g.op("Add", erf, g.scalar(uniq("const.one_gelu"), 1f));
        return g.op("Mul", g.op("Mul", x, onePlus), g.scalar(uniq("const.half"), 0.5f));
    }
}
