package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ONNX Runtime (CPU) and DJL tokenizer helpers for the bundle tests; no labelstream main code. */
final class OrtTestSupport {

    private OrtTestSupport() {}

    static OrtSession open(Path bundle) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            return env.createSession(bundle.resolve(TestBundles.MODEL).toString(), options);
        }
    }

    static HuggingFaceTokenizer tokenizer(Path bundle) throws IOException {
        return HuggingFaceTokenizer.newInstance(bundle.resolve(TestBundles.TOKENIZER),
                Map.of("padding", "false", "truncation", "false"));
    }

    /** Input name -> TensorInfo, in declaration order. */
    static Map<String, TensorInfo> inputs(OrtSession session) throws OrtException {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
            out.put(e.getKey(), (TensorInfo) e.getValue().getInfo());
        }
        return out;
    }

    static Map<String, TensorInfo> outputs(OrtSession session) throws OrtException {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
            out.put(e.getKey(), (TensorInfo) e.getValue().getInfo());
        }
        return out;
    }

    /** A batch of token rows plus their masks and segment ids, fed as INT64 [batch, sequence]. */
    static final class Batch {
        final List<long[]> ids = new ArrayList<>();
        final List<long[]> mask = new ArrayList<>();
        final List<long[]> types = new ArrayList<>();

        Batch add(long[] ids, long[] mask, long[] types) {
            this.ids.add(ids.clone());
            this.mask.add(mask.clone());
            this.types.add(types == null ? new long[ids.length] : types.clone());
            return this;
        }

        Batch add(Encoding e) {
            return add(e.getIds(), e.getAttentionMask(), e.getTypeIds());
        }

        /** Adds the encoding padded with {@code n} masked {@code padId} tokens on the right or left. */
        Batch addPadded(Encoding e, int n, long padId, boolean left) {
            return add(pad(e.getIds(), n, padId, left), pad(e.getAttentionMask(), n, 0, left),
                    pad(e.getTypeIds(), n, 0, left));
        }

        static long[] pad(long[] row, int n, long value, boolean left) {
            long[] out = new long[row.length + n];
            Arrays.fill(out, value);
            System.arraycopy(row, 0, out, left ? n : 0, row.length);
            return out;
        }
    }

    /** Runs the batch (rows must have equal length), feeding only the inputs the graph declares. */
    static float[][] run(OrtSession session, Batch batch) throws OrtException {
        Object out = runRaw(session, batch, session.getOutputNames().iterator().next());
        return (float[][]) out;
    }

    static Object runRaw(OrtSession session, Batch batch, String output) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, long[][]> feeds = new HashMap<>();
        feeds.put("input_ids", batch.ids.toArray(long[][]::new));
        feeds.put("attention_mask", batch.mask.toArray(long[][]::new));
        feeds.put("token_type_ids", batch.types.toArray(long[][]::new));
        Map<String, OnnxTensor> tensors = new HashMap<>();
        try {
            for (String name : session.getInputNames()) {
                tensors.put(name, OnnxTensor.createTensor(env, feeds.get(name)));
            }
            try (OrtSession.Result result = session.run(tensors)) {
                return result.get(output).orElseThrow().getValue();
            }
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    static float[] run1(OrtSession session, long[] ids, long[] mask, long[] types) throws OrtException {
        return run(session, new Batch().add(ids, mask, types))[0];
    }

    /** Logits of one row, and of the same row inside a batch next to a longer row, padded with masked pad ids. */
    static void assertPaddingInvariant(OrtSession session, Encoding shorter, Encoding longer, long padId,
                                       boolean left) throws OrtException {
        float[] alone = run(session, new Batch().add(shorter))[0];
        int n = longer.getIds().length - shorter.getIds().length;
        assertThat(n).as("the second text must be longer").isPositive();
        float[][] batch = run(session, new Batch().addPadded(shorter, n, padId, left).add(longer));
        assertThat(maxAbsDiff(alone, batch[0]))
                .as("%s padding with %d masked tokens changes nothing", left ? "left" : "right", n)
                .isLessThan(1e-5);
        float[] longerAlone = run(session, new Batch().add(longer))[0];
        assertThat(maxAbsDiff(longerAlone, batch[1])).isLessThan(1e-5);
        // and a lot more padding than the batch needs
        float[] padded = run(session, new Batch().addPadded(shorter, 40, padId, left))[0];
        assertThat(maxAbsDiff(alone, padded)).isLessThan(1e-5);
    }

    /** Setting the mask of one real token (not the first or last) to 0 changes the logits. */
    static void assertMaskMatters(OrtSession session, Encoding e) throws OrtException {
        float[] base = run(session, new Batch().add(e))[0];
        long[] mask = e.getAttentionMask().clone();
        mask[mask.length / 2] = 0;
        float[] masked = run1(session, e.getIds(), mask, e.getTypeIds());
        assertThat(maxAbsDiff(base, masked)).isGreaterThan(1e-3);
    }

    /** Swapping two different real tokens changes the logits: the graph uses positions. */
    static void assertPositionsMatter(OrtSession session, Encoding e, int i, int j) throws OrtException {
        long[] ids = e.getIds().clone();
        assertThat(ids[i]).isNotEqualTo(ids[j]);
        long t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
        float[] base = run(session, new Batch().add(e))[0];
        float[] swapped = run1(session, ids, e.getAttentionMask(), e.getTypeIds());
        assertThat(maxAbsDiff(base, swapped)).isGreaterThan(1e-3);
    }

    /** Marking the last two tokens as segment 1 changes the logits. */
    static void assertTokenTypesMatter(OrtSession session, Encoding e) throws OrtException {
        float[] base = run(session, new Batch().add(e))[0];
        long[] types = e.getTypeIds().clone();
        types[types.length - 1] = 1;
        types[types.length - 2] = 1;
        float[] changed = run1(session, e.getIds(), e.getAttentionMask(), types);
        assertThat(maxAbsDiff(base, changed)).isGreaterThan(1e-3);
    }

    /** Different texts give logits that differ by O(1), not all ~0. */
    static void assertLogitsSpread(OrtSession session, HuggingFaceTokenizer tokenizer, List<String> texts)
            throws OrtException {
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (String text : texts) {
            float[] logits = run(session, new Batch().add(tokenizer.encode(text)))[0];
            for (float v : logits) {
                assertThat(Float.isFinite(v)).isTrue();
            }
            min = Math.min(min, logits[0]);
            max = Math.max(max, logits[0]);
        }
        assertThat(max - min).as("spread of logit 0 over texts").isBetween(0.5, 50.0);
    }

    static final List<String> TEXTS = List.of(
            "Hello world", "you are a terrible idiot", "thanks, this is great",
            "The quick brown fox jumps over the lazy dog.", "buy cheap stuff now!!! click here",
            "I love my family", "what time is it", "free money, win a prize", "where is the school");

    static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static long[] ones(int n) {
        long[] a = new long[n];
        Arrays.fill(a, 1);
        return a;
    }
}
