package dev.labelstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The arithmetic one record costs a transformer encoder, estimated from config.json: per layer and token, the four
 * attention projections (4 h^2 multiply-adds), the feed-forward block (2 h i) and attention itself (2 s h for the
 * scores and the weighted sum over a sequence of s tokens), two FLOPs per multiply-add. Embeddings, layer norms,
 * softmax and pooling are left out (under 1 % here). Counted on real tokens: the useful work, not the padding.
 *
 * @param layers num_hidden_layers
 * @param hidden hidden_size
 * @param intermediate intermediate_size
 * @param source where the sizes came from
 */
record BenchFlops(int layers, int hidden, int intermediate, String source) {
    static final BenchFlops UNKNOWN = new BenchFlops(0, 0, 0, "unknown");

    boolean known() {
        return layers > 0 && hidden > 0 && intermediate > 0;
    }

    /** FLOPs of one sequence of {@code tokens} real tokens. */
    double ofSequence(int tokens) {
        if (!known()) {
            return Double.NaN;
        }
        double h = hidden;
        double perToken = 2 * layers * (4 * h * h + 2 * h * intermediate + 2.0 * tokens * h);
        return perToken * tokens;
    }

    /** Mean FLOPs per record over sequences of these lengths. */
    double perRecord(int[] lengths) {
        double sum = 0;
        for (int l : lengths) {
            sum += ofSequence(l);
        }
        return lengths.length == 0 ? Double.NaN : sum / lengths.length;
    }

    /**
     * Sizes from the bundle's config.json (BERT names, or GPT-2's n_layer / n_embd / n_inner); where it names only
     * some, and the graph is MiniLM-L6 (known by its bytes), MiniLM-L6's own: 6 layers, 384 hidden, 1536 inner.
     */
    static BenchFlops of(Path configJson, boolean miniLmL6) {
        try {
            JsonNode c = BenchReport.JSON.readTree(Files.readString(configJson));
            int layers = c.path("num_hidden_layers").asInt(c.path("n_layer").asInt(0));
            int hidden = c.path("hidden_size").asInt(c.path("n_embd").asInt(0));
            int inner = c.path("intermediate_size").asInt(c.path("n_inner").asInt(0));
            if (layers > 0 && hidden > 0 && inner > 0) {
                return new BenchFlops(layers, hidden, inner, "config.json");
            }
            if (miniLmL6) {
                return new BenchFlops(layers > 0 ? layers : 6, hidden > 0 ? hidden : 384, inner > 0 ? inner : 1536,
                        "MiniLM-L6's sizes (config.json names only " + (hidden > 0 ? "hidden_size" : "none") + ")");
            }
            return UNKNOWN;
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }
}
