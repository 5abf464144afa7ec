package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A classification head over pooled embeddings, for bundles whose graph is a head-less encoder: {@code logits =
 * W e + b}. Stored as JSON ({@code {"labels": [...], "weights": [[...], ...], "bias": [...]}}) because it is
 * small and reviewable, and because {@code train-head} writes it.
 */
record LinearHead(List<String> labels, float[][] weights, float[] bias) {

    int hidden() {
        return weights[0].length;
    }

    static LinearHead read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelBundleException(file, "is missing: labelstream.json names it as the"
                    + " classification head (labels, weights, bias).");
        }
        JsonNode n = BundleReader.readJson(file);
        JsonNode labels = n.get("labels");
        JsonNode weights = n.get("weights");
        JsonNode bias = n.get("bias");
        if (labels == null || !labels.isArray() || labels.size() < 1 || weights == null || !weights.isArray()
                || bias == null || !bias.isArray()) {
            throw new InvalidModelBundleException(file, "needs \"labels\" (array of names), \"weights\" (one row"
                    + " of floats per label) and \"bias\" (one float per label).");
        }
        int l = labels.size();
        if (weights.size() != l || bias.size() != l) {
            throw new InvalidModelBundleException(file, "has " + l + " labels but " + weights.size()
                    + " weight rows and " + bias.size() + " bias values: they must be equal.");
        }
        List<String> names = new ArrayList<>();
        float[][] w = new float[l][];
        float[] b = new float[l];
        for (int i = 0; i < l; i++) {
            names.add(labels.get(i).asText());
            JsonNode row = weights.get(i);
            if (!row.isArray() || row.size() == 0 || (i > 0 && row.size() != w[0].length)) {
                throw new InvalidModelBundleException(file, "weight row " + i + " must be a non-empty array as"
                        + " long as row 0.");
            }
            w[i] = new float[row.size()];
            for (int j = 0; j < row.size(); j++) {
                w[i][j] = (float) row.get(j).asDouble();
            }
            b[i] = (float) bias.get(i).asDouble();
        }
        return new LinearHead(List.copyOf(names), w, b);
    }

    float[] apply(float[] embedding) {
        float[] out = new float[bias.length];
        for (int i = 0; i < out.length; i++) {
            float[] row = weights[i];
            double s = bias[i];
            for (int j = 0; j < row.length; j++) {
                s += row[j] * embedding[j];
            }
            out[i] = (float) s;
        }
        return out;
    }
}
