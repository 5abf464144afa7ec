package dev.labelstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The independent peer: langchain4j's in-process {@code AllMiniLmL6V2EmbeddingModel} (the same MiniLM-L6
 * int8 ONNX graph as the default bundle, with its own tokenizer, pooling and threading) embedding the same texts,
 * plus the bundle's head (softmax of {@code W e + b}) computed here. It is reached by reflection, so the default
 * build does not need langchain4j on its classpath: build with {@code -Pbench} to include it (tests have it).
 *
 * <p>langchain4j embeds a list by running one text per model call on its own thread pool (one thread per core);
 * its tokenizer keeps the truncation baked into tokenizer.json (128 tokens for this model), so it does less work
 * per long text than a bundle with max_length 256: compare tokens per second, or the raw engine at the same
 * truncation ({@link #maxTokens()}).
 */
final class BenchPeer {
    static final String MODEL_CLASS =
            "dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel";
    static final String SEGMENT_CLASS = "dev.langchain4j.data.segment.TextSegment";
    /** The tokenizer.json inside the model artifact (the default bundle's tokenizer is a copy of it). */
    static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-q-tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Object model;
    private final Method embedAll;
    private final Method segmentFrom;

    private BenchPeer(Object model, Method embedAll, Method segmentFrom) {
        this.model = model;
        this.embedAll = embedAll;
        this.segmentFrom = segmentFrom;
    }

    /** The peer, or empty when langchain4j-embeddings is not on the classpath. */
    static Optional<BenchPeer> load() {
        return load(MODEL_CLASS);
    }

    static Optional<BenchPeer> load(String modelClass) {
        try {
            ClassLoader cl = BenchPeer.class.getClassLoader();
            Class<?> type = Class.forName(modelClass, true, cl);
            Object model = type.getConstructor().newInstance();
            Method embedAll = type.getMethod("embedAll", List.class);
            Method from = Class.forName(SEGMENT_CLASS, true, cl).getMethod("from", String.class);
            return Optional.of(new BenchPeer(model, embedAll, from));
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            return Optional.empty();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("langchain4j is on the classpath but its embedding model cannot be"
                    + " created: " + e, e);
        }
    }

    /** Embeddings of {@code texts} and the tokens the peer fed its model. */
    record Embedded(float[][] embeddings, long tokens) {}

    Embedded embedAll(List<String> texts) {
        try {
            List<Object> segments = new ArrayList<>(texts.size());
            for (String t : texts) {
                segments.add(segmentFrom.invoke(null, t));
            }
            Object response = embedAll.invoke(model, segments);
            List<?> content = (List<?>) call(response, "content");
            float[][] out = new float[content.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float[]) call(content.get(i), "vector");
            }
            long tokens = 0;
            Object usage = call(response, "tokenUsage");
            if (usage != null && call(usage, "inputTokenCount") instanceof Integer n) {
                tokens = n;
            }
            return new Embedded(out, tokens);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("the peer failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the peer's API is not what this bench expects: " + e, e);
        }
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        Method m = target.getClass().getMethod(method);
        m.setAccessible(true);
        return m.invoke(target);
    }

    /** The truncation the peer's tokenizer applies (tokens, special tokens included), or 0 if none. */
    static int maxTokens() {
        try (InputStream in = BenchPeer.class.getResourceAsStream(TOKENIZER_RESOURCE)) {
            if (in == null) {
                return 0;
            }
            JsonNode truncation = JSON.readTree(in).path("truncation");
            return truncation.path("max_length").asInt(0);
        } catch (IOException e) {
            return 0;
        }
    }

    /** A linear head read from a bundle's head file: {@code {"labels": [...], "weights": [[...]], "bias": [...]}}. */
    record Head(List<String> labels, float[][] weights, float[] bias) {
        static Head read(Path file) throws IOException {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            List<String> labels = new ArrayList<>();
            n.path("labels").forEach(l -> labels.add(l.asText()));
            float[][] w = new float[labels.size()][];
            float[] b = new float[labels.size()];
            for (int i = 0; i < labels.size(); i++) {
                JsonNode row = n.path("weights").path(i);
                w[i] = new float[row.size()];
                for (int j = 0; j < row.size(); j++) {
                    w[i][j] = (float) row.get(j).asDouble();
                }
                b[i] = (float) n.path("bias").path(i).asDouble();
            }
            return new Head(List.copyOf(labels), w, b);
        }

        /** Softmax of {@code W e + b}. */
        float[] scores(float[] embedding) {
            double[] logits = new double[bias.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < logits.length; i++) {
                double s = bias[i];
                for (int j = 0; j < embedding.length && j < weights[i].length; j++) {
                    s += weights[i][j] * embedding[j];
                }
                logits[i] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int i = 0; i < logits.length; i++) {
                logits[i] = Math.exp(logits[i] - max);
                sum += logits[i];
            }
            float[] p = new float[logits.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (logits[i] / sum);
            }
            return p;
        }
    }

    /** Cosine similarity of two vectors (1 for the same direction). */
    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return na == 0 || nb == 0 ? Double.NaN : dot / Math.sqrt(na * nb);
    }
}
