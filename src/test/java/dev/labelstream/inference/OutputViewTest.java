package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OnnxSessions#floats} reads an output in place, through ONNX Runtime's private getBuffer: a view of the
 * tensor's own memory (direct, not a heap copy) with exactly the values the public getFloatBuffer copies. Fails when
 * an ORT upgrade removes or changes the private method (the code then falls back to the copy, at the cost of the
 * garbage it makes).
 */
class OutputViewTest {
    @Test
    void theViewIsOrtsOwnMemoryWithTheCopysValues(@TempDir Path tmp) throws Exception {
        Path dir = TestBundles.bertEncoderOnly(tmp.resolve("bert"));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Random random = new Random(7);
        int rows = 3;
        int len = 11;
        long[][] ids = new long[rows][len];
        long[][] mask = new long[rows][len];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < len; p++) {
                ids[r][p] = 1000 + random.nextInt(2000);
                mask[r][p] = p < len - r ? 1 : 0;
            }
        }
        try (OrtSession session = OrtTestSupport.open(dir)) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            feed.put("input_ids", OnnxTensor.createTensor(env, ids));
            feed.put("attention_mask", OnnxTensor.createTensor(env, mask));
            if (session.getInputNames().contains("token_type_ids")) {
                feed.put("token_type_ids", OnnxTensor.createTensor(env, new long[rows][len]));
            }
            try (OrtSession.Result result = session.run(feed)) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                FloatBuffer view = OnnxSessions.floats(out);
                FloatBuffer copy = out.getFloatBuffer();
                assertThat(view.isDirect()).as("a view of ORT's memory, not the heap copy").isTrue();
                assertThat(view.capacity()).isEqualTo(copy.capacity()).isEqualTo(rows * len * 32);
                float[] a = new float[view.capacity()];
                float[] b = new float[copy.capacity()];
                view.get(0, a);
                copy.get(0, b);
                assertThat(a).containsExactly(b);
                double sumOfSquares = 0;
                for (float v : a) {
                    sumOfSquares += v * v;
                }
                assertThat(sumOfSquares).as("real values, not zeros").isPositive();
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
    }
}
