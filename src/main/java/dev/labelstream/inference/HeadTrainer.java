package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Trains the linear head of a head-less bundle (pooling + head) on labeled texts: embeddings from the
 * bundle's own encoder path, then multinomial logistic regression by full-batch gradient descent with L2
 * regularization. Written by hand because it is ~60 lines on 384-dimensional inputs and keeps the build free of
 * a machine-learning library; its result is checked by the held-out accuracy it reports.
 *
 * <p>Input: JSON lines {@code {"text": ..., "label": ..., "split": "train"|"test"}}.
 */
public final class HeadTrainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HeadTrainer() {}

    /** What training measured. */
    public record Report(int trainExamples, int testExamples, double trainAccuracy, double testAccuracy,
            List<String> labels, int[][] confusion) {}

    record Example(String text, int label, boolean test) {}

    /**
     * Embeds up to {@code limit} examples of {@code corpus} with {@code classifier}'s encoder, trains a head for
     * the bundle's labels on the train split, writes it to {@code out} and reports accuracy on the test split.
     */
    public static Report train(BatchClassifier classifier, Path corpus, int limit, long seed, Path out,
            PrintStream progress) throws IOException {
        ModelBundle bundle = classifier.bundle();
        if (bundle.scoring().pooling() == ModelBundle.Pooling.NONE) {
            throw new IllegalArgumentException(bundle.dir() + " has its own classification head; train-head"
                    + " trains heads of head-less encoders (labelstream.json with pooling and head)");
        }
        List<String> labels = bundle.labels();
        List<Example> examples = withoutLeaks(read(corpus, labels));
        Collections.shuffle(examples, new Random(seed));
        if (limit > 0 && examples.size() > limit) {
            examples = new ArrayList<>(examples.subList(0, limit));
        }
        float[][] x = new float[examples.size()][];
        int batch = 32;
        for (int i = 0; i < examples.size(); i += batch) {
            List<TextInput> in = new ArrayList<>();
            for (int j = i; j < Math.min(i + batch, examples.size()); j++) {
                in.add(TextInput.of(examples.get(j).text()));
            }
            List<Classification> r = classifier.classify(in).results();
            for (int j = 0; j < r.size(); j++) {
                x[i + j] = r.get(j).embedding();
            }
            progress.printf("\rembedded %d/%d", Math.min(i + batch, examples.size()), examples.size());
        }
        progress.println();
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            (examples.get(i).test() ? test : train).add(i);
        }
        int dims = x[0].length;
        int k = labels.size();
        float[][] w = new float[k][dims];
        float[] b = new float[k];
        fit(x, examples, train, w, b, 4000, 4.0, 1e-5);
        int[][] confusion = new int[k][k];
        double testAcc = accuracy(x, examples, test, w, b, confusion);
        double trainAcc = accuracy(x, examples, train, w, b, new int[k][k]);
        write(out, labels, w, b);
        return new Report(train.size(), test.size(), trainAcc, testAcc, labels, confusion);
    }

    static List<Example> read(Path corpus, List<String> labels) throws IOException {
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(corpus, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode o = JSON.readTree(line);
                int label = labels.indexOf(o.path("label").asText());
                if (label < 0 || !o.hasNonNull("text")) {
                    throw new IllegalArgumentException(corpus + " line " + n + ": needs \"text\" and a \"label\""
                            + " among " + labels);
                }
                out.add(new Example(o.get("text").asText(), label, "test".equals(o.path("split").asText())));
            }
        }
        return out;
    }

    /**
     * Drops test examples whose text is also a training text: different raw messages can clean up to the same
     * text, and a duplicate across the split would inflate held-out accuracy.
     */
    static List<Example> withoutLeaks(List<Example> examples) {
        java.util.Set<String> train = new java.util.HashSet<>();
        for (Example e : examples) {
            if (!e.test()) {
                train.add(e.text());
            }
        }
        List<Example> out = new ArrayList<>();
        for (Example e : examples) {
            if (!e.test() || !train.contains(e.text())) {
                out.add(e);
            }
        }
        return out;
    }

    /** Softmax regression, full-batch gradient descent: the problem is convex and small. */
    static void fit(float[][] x, List<Example> ex, List<Integer> rows, float[][] w, float[] b, int epochs,
            double lr, double l2) {
        int k = w.length;
        int d = w[0].length;
        for (int epoch = 0; epoch < epochs; epoch++) {
            double[][] gw = new double[k][d];
            double[] gb = new double[k];
            for (int i : rows) {
                double[] p = probabilities(x[i], w, b);
                for (int c = 0; c < k; c++) {
                    double g = p[c] - (ex.get(i).label() == c ? 1 : 0);
                    gb[c] += g;
                    for (int j = 0; j < d; j++) {
                        gw[c][j] += g * x[i][j];
                    }
                }
            }
            for (int c = 0; c < k; c++) {
                b[c] -= (float) (lr * gb[c] / rows.size());
                for (int j = 0; j < d; j++) {
                    w[c][j] -= (float) (lr * (gw[c][j] / rows.size() + l2 * w[c][j]));
                }
            }
        }
    }

    static double[] probabilities(float[] x, float[][] w, float[] b) {
        LinearHead head = new LinearHead(List.of(), w, b);
        float[] logits = head.apply(x);
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.exp(logits[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < p.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    private static double accuracy(float[][] x, List<Example> ex, List<Integer> rows, float[][] w, float[] b,
            int[][] confusion) {
        if (rows.isEmpty()) {
            return Double.NaN;
        }
        int right = 0;
        for (int i : rows) {
            double[] p = probabilities(x[i], w, b);
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                if (p[c] > p[best]) {
                    best = c;
                }
            }
            confusion[ex.get(i).label()][best]++;
            if (best == ex.get(i).label()) {
                right++;
            }
        }
        return (double) right / rows.size();
    }

    private static void write(Path out, List<String> labels, float[][] w, float[] b) throws IOException {
        ObjectNode head = JSON.createObjectNode();
        ArrayNode l = head.putArray("labels");
        labels.forEach(l::add);
        ArrayNode weights = head.putArray("weights");
        for (float[] row : w) {
            ArrayNode r = weights.addArray();
            for (float v : row) {
                r.add(Float.parseFloat(String.format(java.util.Locale.ROOT, "%.6g", v)));
            }
        }
        ArrayNode bias = head.putArray("bias");
        for (float v : b) {
            bias.add(v);
        }
        Files.writeString(out, JSON.writeValueAsString(head) + "\n");
    }
}
