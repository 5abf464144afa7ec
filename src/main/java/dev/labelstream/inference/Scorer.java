package dev.labelstream.inference;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Graph outputs to scores, as the bundle's {@link ModelBundle.Scoring} says: pooling of hidden states (head-less
 * bundles), the linear head, softmax or sigmoid, and the aggregation of a long text's windows. Pure arithmetic,
 * shared by the batch path and {@link BatchClassifier#classifyEmbedding}, so both score alike.
 */
final class Scorer {
    private final ModelBundle.Scoring scoring;
    private final ModelBundle.WindowAggregate windowAggregate;

    Scorer(ModelBundle.Scoring scoring, ModelBundle.WindowAggregate windowAggregate) {
        this.scoring = scoring;
        this.windowAggregate = windowAggregate;
    }

    /** Scores of a pooled embedding: head, then activation. */
    float[] scoreEmbedding(float[] embedding) {
        return activate(scoring.head().apply(embedding));
    }

    /** Pools row {@code r} of a [rows, len, hidden] tensor as the bundle's pooling says. */
    float[] pool(FloatBuffer values, int r, int len, int hidden, long[] mask) {
        float[] out = new float[hidden];
        int base = r * len;
        switch (scoring.pooling()) {
            case CLS, LAST -> {
                int pos = -1;
                for (int p = 0; p < len; p++) {
                    if (mask[base + p] == 1) {
                        pos = p;
                        if (scoring.pooling() == ModelBundle.Pooling.CLS) {
                            break;
                        }
                    }
                }
                values.get((base + pos) * hidden, out);
            }
            case MEAN -> {
                float[] row = new float[hidden];
                int n = 0;
                for (int p = 0; p < len; p++) {
                    if (mask[base + p] == 1) {
                        values.get((base + p) * hidden, row);
                        for (int h = 0; h < hidden; h++) {
                            out[h] += row[h];
                        }
                        n++;
                    }
                }
                for (int h = 0; h < hidden; h++) {
                    out[h] /= n;
                }
            }
            default -> throw new IllegalStateException("no pooling for a graph with its own head");
        }
        if (scoring.normalize()) {
            double norm = 0;
            for (float v : out) {
                norm += v * v;
            }
            float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
            for (int h = 0; h < hidden; h++) {
                out[h] *= scale;
            }
        }
        return out;
    }

    /** Sigmoid per label (multi-label) or softmax. */
    float[] activate(float[] logits) {
        float[] p = new float[logits.length];
        if (scoring.multiLabel()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (1.0 / (1.0 + Math.exp(-logits[i])));
            }
            return p;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double e = Math.exp(logits[i] - max);
            p[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (p[i] / sum);
        }
        return p;
    }

    /** One text's scores from its windows' scores (MAX or MEAN). */
    float[] aggregate(float[][] windows) {
        if (windows.length == 1) {
            return windows[0];
        }
        float[] out = new float[windows[0].length];
        boolean max = windowAggregate == ModelBundle.WindowAggregate.MAX;
        if (max) {
            Arrays.fill(out, Float.NEGATIVE_INFINITY);
        }
        for (float[] w : windows) {
            for (int i = 0; i < out.length; i++) {
                out[i] = max ? Math.max(out[i], w[i]) : out[i] + w[i] / windows.length;
            }
        }
        return out;
    }

    /** One text's embedding from its windows' embeddings: their mean. */
    static float[] meanRows(float[][] rows) {
        if (rows.length == 1) {
            return rows[0];
        }
        float[] out = new float[rows[0].length];
        for (float[] r : rows) {
            for (int i = 0; i < out.length; i++) {
                out[i] += r[i] / rows.length;
            }
        }
        return out;
    }
}
