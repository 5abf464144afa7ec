package dev.labelstream.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * What "normal" looks like for one model version: a {@link DriftAccumulator} over a reference data set (the same
 * summary a drift window keeps), the model's labels, and the MMD kernel bandwidth fixed from the reference
 * sample (median heuristic). Written by {@code labelstream profile} as {@value #FILE_NAME} next to the model, or
 * built by the drift monitor from the first records of a stream.
 *
 * <p>File format (JSON, {@value #FORMAT}): counts, histograms and sums as numbers; the embedding centroid as
 * numbers; the embedding sample as int8 with one scale per row (row = scale * int8 / 127, scale = the row's
 * largest absolute value; error below 0.4% of it), base64, which keeps a 128 x 384 sample at ~66 KB.
 */
public final class ReferenceProfile {
    public static final String FILE_NAME = "reference-profile.json";
    static final String FORMAT = "labelstream-reference-profile/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String modelName;
    private final String modelVersion;
    private final List<String> labels;
    private final String source;
    private final Instant created;
    private final DriftAccumulator summary;
    private final double bandwidth;

    ReferenceProfile(String modelName, String modelVersion, List<String> labels, String source, Instant created,
            DriftAccumulator summary, double bandwidth) {
        this.modelName = modelName;
        this.modelVersion = modelVersion;
        this.labels = List.copyOf(labels);
        this.source = source;
        this.created = created;
        this.summary = summary;
        this.bandwidth = bandwidth;
    }

    /** A profile of everything {@code summary} saw; the bandwidth is the median heuristic on its sample. */
    public static ReferenceProfile of(String modelName, String modelVersion, List<String> labels, String source,
            DriftAccumulator summary) {
        double sigma = DriftMath.medianDistance(summary.sample, summary.sampleSize, summary.dimension());
        return new ReferenceProfile(modelName, modelVersion, labels, source, Instant.now(), summary.copy(), sigma);
    }

    /**
     * Classifies {@code texts} with {@code classifier} ({@code batch} at a time) and summarises the verdicts as a
     * drift window does: the profile of a reference data set.
     *
     * @param progress told the number of texts done after every ten batches, or null
     */
    public static ReferenceProfile compute(BatchClassifier classifier, List<String> texts, String source,
            int sampleSize, int batch, IntConsumer progress) {
        ModelBundle bundle = classifier.bundle();
        DriftAccumulator acc = new DriftAccumulator(sampleSize, DriftSettings.SEED);
        long now = System.currentTimeMillis();
        int step = Math.max(1, batch);
        for (int from = 0; from < texts.size(); from += step) {
            List<TextInput> in = new ArrayList<>();
            for (String t : texts.subList(from, Math.min(texts.size(), from + step))) {
                in.add(TextInput.of(t));
            }
            for (Classification c : classifier.classify(in).results()) {
                acc.add(DriftObservation.classified(bundle.name(), bundle.version(), bundle.multiLabel(), c, now, now,
                        true));
            }
            if (progress != null && (from / step) % 10 == 9) {
                progress.accept(Math.min(texts.size(), from + step));
            }
        }
        return of(bundle.name(), bundle.version(), bundle.labels(), source, acc);
    }

    public String modelName() {
        return modelName;
    }

    public String modelVersion() {
        return modelVersion;
    }

    public List<String> labels() {
        return labels;
    }

    /** Where the profile came from (data set file, or the warm-up). */
    public String source() {
        return source;
    }

    public DriftAccumulator summary() {
        return summary;
    }

    /** RBF bandwidth of MMD; NaN without embeddings. */
    public double bandwidth() {
        return bandwidth;
    }

    public long records() {
        return summary.classified();
    }

    boolean matches(String name, String version) {
        return modelName.equals(name) && modelVersion.equals(version);
    }

    // ---- JSON ----

    public void write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            JSON.writeValue(file.toFile(), toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the reference profile " + file, e);
        }
    }

    ObjectNode toJson() {
        DriftAccumulator a = summary;
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("model_name", modelName);
        n.put("model_version", modelVersion);
        ArrayNode l = n.putArray("labels");
        labels.forEach(l::add);
        n.put("source", source);
        n.put("created", created.toString());
        n.put("records", a.records);
        n.put("dead_letters", a.deadLetters);
        longs(n.putArray("label_counts"), a.labelCounts);
        ArrayNode ss = n.putArray("score_sums");
        for (double v : a.scoreSums) {
            ss.add(v);
        }
        n.put("confidence_bins", DriftAccumulator.CONFIDENCE_BINS);
        longs(n.putArray("confidence_histogram"), a.confidenceHistogram);
        n.put("confidence_sum", a.confidenceSum);
        ArrayNode edges = n.putArray("token_bin_edges");
        for (int e : DriftAccumulator.TOKEN_BIN_EDGES) {
            edges.add(e);
        }
        longs(n.putArray("token_histogram"), a.tokenHistogram);
        n.put("tokens", a.tokens);
        n.put("unknown_tokens", a.unknownTokens);
        n.put("truncated", a.truncated);
        n.put("embeddings", a.embeddings);
        n.put("embedding_dim", a.dimension());
        ArrayNode centroid = n.putArray("embedding_centroid");
        double[] c = a.centroid();
        if (c != null) {
            for (double v : c) {
                centroid.add((float) v);
            }
        }
        n.put("sample_capacity", a.sampleCapacity);
        ObjectNode s = n.putObject("embedding_sample");
        s.put("rows", a.sampleSize);
        s.put("encoding", "int8 x row scale / 127, row-major, base64");
        ArrayNode scales = s.putArray("scales");
        int dim = a.dimension();
        byte[] q = new byte[a.sampleSize * dim];
        for (int r = 0; r < a.sampleSize; r++) {
            float max = 0;
            for (int k = 0; k < dim; k++) {
                max = Math.max(max, Math.abs(a.sample[r * dim + k]));
            }
            scales.add(max);
            for (int k = 0; k < dim; k++) {
                q[r * dim + k] = max == 0 ? 0 : (byte) Math.round(a.sample[r * dim + k] / max * 127f);
            }
        }
        s.put("data", Base64.getEncoder().encodeToString(q));
        if (Double.isNaN(bandwidth)) {
            n.putNull("mmd_bandwidth");
        } else {
            n.put("mmd_bandwidth", bandwidth);
        }
        return n;
    }

    private static void longs(ArrayNode to, long[] values) {
        for (long v : values) {
            to.add(v);
        }
    }

    /**
     * Reads a profile file.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static ReferenceProfile read(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a readable reference profile: " + e.getMessage(), e);
        }
        try {
            return fromJson(n);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage() + ". Recompute it with 'labelstream"
                    + " profile --model DIR --input FILE'.", e);
        }
    }

    static ReferenceProfile fromJson(JsonNode n) {
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new IllegalArgumentException("format is \"" + n.path("format").asText() + "\", expected " + FORMAT);
        }
        if (n.path("confidence_bins").asInt() != DriftAccumulator.CONFIDENCE_BINS
                || !sameEdges(n.path("token_bin_edges"))) {
            throw new IllegalArgumentException("its histogram bins differ from this version's");
        }
        DriftAccumulator a = new DriftAccumulator(n.path("sample_capacity").asInt(), DriftSettings.SEED);
        a.records = n.path("records").asLong();
        a.deadLetters = n.path("dead_letters").asLong();
        a.labelCounts = longs(n.path("label_counts"));
        a.scoreSums = new double[a.labelCounts.length];
        for (int i = 0; i < a.scoreSums.length; i++) {
            a.scoreSums[i] = n.path("score_sums").path(i).asDouble();
        }
        a.confidenceHistogram = longs(n.path("confidence_histogram"));
        a.confidenceSum = n.path("confidence_sum").asDouble();
        a.tokenHistogram = longs(n.path("token_histogram"));
        a.tokens = n.path("tokens").asLong();
        a.unknownTokens = n.path("unknown_tokens").asLong();
        a.truncated = n.path("truncated").asLong();
        a.embeddings = n.path("embeddings").asLong();
        int dim = n.path("embedding_dim").asInt();
        a.embeddingSum = new double[a.embeddings == 0 ? 0 : dim];
        for (int i = 0; i < a.embeddingSum.length; i++) {
            a.embeddingSum[i] = n.path("embedding_centroid").path(i).asDouble() * a.embeddings;
        }
        JsonNode s = n.path("embedding_sample");
        a.sampleSize = s.path("rows").asInt();
        byte[] q = Base64.getDecoder().decode(s.path("data").asText(""));
        a.sampleCapacity = Math.max(a.sampleCapacity, a.sampleSize);
        if (q.length != a.sampleSize * dim) {
            throw new IllegalArgumentException("embedding_sample holds " + q.length + " values, expected "
                    + a.sampleSize + " x " + dim);
        }
        a.sample = new float[q.length];
        for (int r = 0; r < a.sampleSize; r++) {
            float scale = (float) s.path("scales").path(r).asDouble();
            for (int k = 0; k < dim; k++) {
                a.sample[r * dim + k] = q[r * dim + k] * scale / 127f;
            }
        }
        if (a.classified() < 1) {
            throw new IllegalArgumentException("it summarises no classified records");
        }
        List<String> labels = new ArrayList<>();
        n.path("labels").forEach(l -> labels.add(l.asText()));
        JsonNode bw = n.get("mmd_bandwidth");
        double bandwidth = bw == null || bw.isNull() ? Double.NaN : bw.asDouble();
        return new ReferenceProfile(n.path("model_name").asText(), n.path("model_version").asText(), labels,
                n.path("source").asText(), Instant.parse(n.path("created").asText(Instant.EPOCH.toString())), a,
                bandwidth);
    }

    private static boolean sameEdges(JsonNode edges) {
        if (edges.size() != DriftAccumulator.TOKEN_BIN_EDGES.length) {
            return false;
        }
        for (int i = 0; i < edges.size(); i++) {
            if (edges.get(i).asInt() != DriftAccumulator.TOKEN_BIN_EDGES[i]) {
                return false;
            }
        }
        return true;
    }

    private static long[] longs(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    @Override
    public String toString() {
        return "reference profile of " + modelName + " " + modelVersion + " (" + records() + " records, " + source
                + ")";
    }
}
