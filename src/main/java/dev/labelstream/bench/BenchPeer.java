package dev.labelstream.bench;

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
 * The independent peer: langchain4j's in-process MiniLM-L6 embedding model whose ONNX graph is byte for byte the
 * bundle's model.onnx ({@code AllMiniLmL6V2EmbeddingModel}, fp32, for the default bundle; {@code
 * AllMiniLmL6V2QuantizedEmbeddingModel} for the int8 graph), with its own tokenizer, pooling and threading,
 * embedding the same texts, plus the bundle's own head ({@code BatchClassifier.classifyEmbedding}). It is reached by
 * reflection, so the default build does not need langchain4j-embeddings on its classpath: build with {@code
 * -Pbench} to include it (tests have it).
 *
 * <p>langchain4j embeds a list by running one text per model call on its own thread pool (one thread per core);
 * its tokenizer keeps the truncation baked into tokenizer.json (128 tokens for these models), so it does less work
 * per long text than a bundle with max_length 256: compare tokens per second, or the raw engine at the same
 * truncation ({@link #maxTokens(Model)}).
 */
final class BenchPeer {
    static final String SEGMENT_CLASS = "dev.langchain4j.data.segment.TextSegment";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A model langchain4j runs in process: its class, and the graph and tokenizer its artifact carries. */
    record Model(String modelClass, String onnxResource, String tokenizerResource) {
        String simpleName() {
            return modelClass.substring(modelClass.lastIndexOf('.') + 1);
        }
    }

    static final List<Model> MODELS = List.of(
            new Model("dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel",
                    "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json"),
            new Model("dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel",
                    "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json"));

    /**
     * The peer model whose ONNX graph (on the classpath, in its model artifact) has the same bytes as {@code
     * modelFile}, or empty when the bundle runs a graph langchain4j does not ship.
     */
    static Optional<Model> matching(Path modelFile) throws IOException {
        if (!Files.isRegularFile(modelFile)) {
            return Optional.empty();
        }
        long size = Files.size(modelFile);
        byte[] digest = null;
        for (Model m : MODELS) {
            java.net.URL url = BenchPeer.class.getResource(m.onnxResource());
            if (url == null) {
                continue;
            }
            java.net.URLConnection c = url.openConnection();
            long length = c.getContentLengthLong();
            if (length >= 0 && length != size) {
                continue;
            }
            if (digest == null) {
                try (InputStream in = Files.newInputStream(modelFile)) {
                    digest = sha256(in);
                }
            }
            try (InputStream in = c.getInputStream()) {
                if (java.util.Arrays.equals(digest, sha256(in))) {
                    return Optional.of(m);
                }
            }
        }
        return Optional.empty();
    }

    private static byte[] sha256(InputStream in) throws IOException {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private final Object model;
    private final Method embedAll;
    private final Method segmentFrom;

    private BenchPeer(Object model, Method embedAll, Method segmentFrom) {
        this.model = model;
        this.embedAll = embedAll;
        this.segmentFrom = segmentFrom;
    }

    /** The peer, or empty when langchain4j-embeddings (or the model's artifact) is not on the classpath. */
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
    static int maxTokens(Model m) {
        try (InputStream in = BenchPeer.class.getResourceAsStream(m.tokenizerResource())) {
            if (in == null) {
                return 0;
            }
            JsonNode truncation = JSON.readTree(in).path("truncation");
            return truncation.path("max_length").asInt(0);
        } catch (IOException e) {
            return 0;
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

    /** What {@link #measure} found: the peer and the raw engine at the peer's truncation, on the same texts. */
    record Measured(String status, Model model, int maxTokens, BenchStats.Summary rate, BenchStats.Summary tokenRate,
            BenchStats.Summary engineRate, BenchStats.Summary engineTokenRate, double cosineMean, double cosineMin,
            double agreement) {
        static Measured skipped(String why) {
            return new Measured(why, null, 0, BenchStats.Summary.EMPTY, BenchStats.Summary.EMPTY,
                    BenchStats.Summary.EMPTY, BenchStats.Summary.EMPTY, Double.NaN, Double.NaN, Double.NaN);
        }

        boolean measured() {
            return model != null;
        }
    }

    /**
     * The peer as a user gets it (its own defaults: one text per call on its own pool) against the raw engine at
     * {@code engine} (the search's best) and the peer's truncation, {@code ctx.repeat} times each, alternating.
     */
    static Measured measure(BenchContext ctx, org.apache.flink.configuration.Configuration conf,
            dev.labelstream.inference.ModelBundle bundle, List<String> texts, List<String> warmTexts,
            BenchSearch.Point engine) throws IOException {
        Optional<Model> same = matching(bundle.modelFile());
        if (same.isEmpty()) {
            String why = "skipped: the bundle's model.onnx is none of the MiniLM-L6 graphs langchain4j runs in process";
            ctx.out.println("peer: " + why);
            return Measured.skipped(why);
        }
        Optional<BenchPeer> loaded = load(same.get().modelClass());
        if (loaded.isEmpty()) {
            ctx.out.println("peer: not available (build with -Pbench)");
            return Measured.skipped("not available (build with -Pbench)");
        }
        BenchPeer peer = loaded.get();
        int peerMax = maxTokens(same.get());
        ctx.section("peer: langchain4j " + same.get().simpleName() + " (the same ONNX graph) + the bundle's head,"
                + " truncating at " + (peerMax > 0 ? peerMax + " tokens" : "its own limit") + "; raw engine: "
                + engine.label());
        org.apache.flink.configuration.Configuration sameTruncation = engine.applyTo(conf, java.util.Set.of());
        if (peerMax > 0) {
            sameTruncation.set(dev.labelstream.inference.InferenceOptions.MAX_LENGTH, peerMax);
        }
        List<Double> rates = new ArrayList<>();
        List<Double> tokenRates = new ArrayList<>();
        List<Double> engineRates = new ArrayList<>();
        List<Double> engineTokenRates = new ArrayList<>();
        double cosSum = 0;
        double cosMin = Double.NaN;
        int agree = 0;
        try (dev.labelstream.inference.BatchClassifier c =
                dev.labelstream.inference.BatchClassifier.open(bundle, sameTruncation)) {
            if (!warmTexts.isEmpty()) {
                peer.embedAll(warmTexts);
                BenchRaw.run(c, warmTexts, engine.batch(), engine.callers(), null);
            }
            for (int r = 1; r <= ctx.repeat; r++) {
                long t0 = System.nanoTime();
                Embedded e = peer.embedAll(texts);
                int[] peerTop = new int[e.embeddings().length];
                for (int i = 0; i < peerTop.length; i++) {
                    peerTop[i] = c.classifyEmbedding(e.embeddings()[i]).top();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                rates.add(texts.size() / s);
                tokenRates.add(e.tokens() / s);
                List<dev.labelstream.inference.Classification> sink = r == 1 ? new ArrayList<>() : null;
                BenchRaw.Run run = BenchRaw.run(c, texts, engine.batch(), engine.callers(), sink);
                engineRates.add(run.textsPerSecond());
                engineTokenRates.add(run.tokensPerSecond());
                ctx.out.printf(java.util.Locale.ROOT, "  run %d/%d: peer %s rec/s (%s tokens/s); raw engine at %d"
                                + " tokens: %s rec/s (%s tokens/s)%n", r, ctx.repeat, BenchReport.fmt(texts.size() / s),
                        BenchReport.fmt(e.tokens() / s), peerMax, BenchReport.fmt(run.textsPerSecond()),
                        BenchReport.fmt(run.tokensPerSecond()));
                ctx.out.flush();
                if (sink != null) {
                    for (int i = 0; i < sink.size(); i++) {
                        dev.labelstream.inference.Classification cl = sink.get(i);
                        double cos = cl.embedding() == null ? Double.NaN : cosine(cl.embedding(), e.embeddings()[i]);
                        cosSum += cos;
                        cosMin = Double.isNaN(cosMin) ? cos : Math.min(cosMin, cos);
                        if (peerTop[i] == cl.top()) {
                            agree++;
                        }
                    }
                }
            }
        }
        ctx.out.printf(java.util.Locale.ROOT, "  same model check: embedding cosine vs labelstream at the same"
                        + " truncation mean %s, min %s; top labels agree on %d of %d%n",
                BenchReport.fmt(cosSum / texts.size()), BenchReport.fmt(cosMin), agree, texts.size());
        return new Measured("measured", same.get(), peerMax, BenchStats.Summary.of(rates),
                BenchStats.Summary.of(tokenRates), BenchStats.Summary.of(engineRates),
                BenchStats.Summary.of(engineTokenRates), cosSum / texts.size(), cosMin, (double) agree / texts.size());
    }
}
