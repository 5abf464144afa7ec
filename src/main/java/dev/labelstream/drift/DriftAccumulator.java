package dev.labelstream.drift;

import java.util.Arrays;

/**
 * Everything the drift statistics need about a set of inputs, in bounded memory: counts and fixed-size
 * histograms, running sums, and a bounded reservoir sample of embeddings. It is the accumulator of the drift
 * window's {@link DriftAggregate} and also the body of a {@link ReferenceProfile}: window and reference are
 * summarised by the same code.
 *
 * <p>Size: a few hundred numbers, plus {@code labels} longs and doubles, {@code dim} doubles (the embedding sum)
 * and {@code sampleCapacity x dim} floats (the sample), whatever the number of inputs added. It never holds an
 * input.
 *
 * <p>A Flink POJO (public fields, public no-argument constructor): the window state is written by Flink's
 * PojoSerializer, and the state schema can evolve (fields added with defaults).
 */
public final class DriftAccumulator {
    /** Confidence histogram: bins of width 0.01 over [0, 1]. */
    public static final int CONFIDENCE_BINS = 100;
    /**
     * Token-length histogram: lower edges (tokens) of the bins after the first; the bins are {@code [0,16),
     * [16,32), [32,64), [64,128), [128,192), [192,256), [256,384), [384,512), [512,1024), [1024,inf)}. Roughly
     * doubling widths: a length shift moves mass between bins at any scale, and the number of bins stays small,
     * which keeps PSI's small-sample bias low (about (bins - 1) / n).
     */
    public static final int[] TOKEN_BIN_EDGES = {16, 32, 64, 128, 192, 256, 384, 512, 1024};

    /** Inputs seen: classified plus not classified. */
    public long records;
    /** Inputs that were not classified (dead letters, unclassified under fail-open/closed). */
    public long deadLetters;
    /** Classified inputs by top label (label index). */
    public long[] labelCounts = new long[0];
    /** Sum of each label's score over classified inputs. */
    public double[] scoreSums = new double[0];
    /** Classified inputs by confidence, {@link #CONFIDENCE_BINS} bins. */
    public long[] confidenceHistogram = new long[CONFIDENCE_BINS];
    public double confidenceSum;
    /** Classified inputs by token count, see {@link #TOKEN_BIN_EDGES}. */
    public long[] tokenHistogram = new long[TOKEN_BIN_EDGES.length + 1];
    public long tokens;
    public long unknownTokens;
    /** Classified inputs that were truncated (or split into windows). */
    public long truncated;
    /** Classified inputs that carried an embedding (of the dimension of the first one). */
    public long embeddings;
    /** Sum of those embeddings; its length is the embedding dimension (0 until the first one). */
    public double[] embeddingSum = new double[0];
    /** Most embeddings the reservoir sample keeps. */
    public int sampleCapacity;
    /** Embeddings in the sample now. */
    public int sampleSize;
    /** The sample, {@code sampleSize} rows of {@code embeddingSum.length} floats, row-major. */
    public float[] sample = new float[0];
    /** State of the sample's random generator (SplitMix64), so that a restored window samples on identically. */
    public long randomState;
    /**
     * The bundle directory of a promoted model whose inputs these are (its reference-profile.json is their
     * reference); null for the configured model. Added after 0.1: null in state written before it.
     */
    public String modelDir;

    /** For Flink's serializer; use {@link #DriftAccumulator(int, long)}. */
    public DriftAccumulator() {}

    /**
     * @param sampleCapacity how many embeddings the reservoir sample keeps (0: none)
     * @param seed seed of the sample's random choices
     */
    public DriftAccumulator(int sampleCapacity, long seed) {
        if (sampleCapacity < 0) {
            throw new IllegalArgumentException("sample capacity must be >= 0");
        }
        this.sampleCapacity = sampleCapacity;
        this.randomState = seed;
    }

    /** Adds one input. */
    public DriftAccumulator add(DriftObservation o) {
        records++;
        if (modelDir == null) {
            modelDir = o.modelDir();
        }
        if (o.deadLetter()) {
            deadLetters++;
            return this;
        }
        float[] scores = o.scores();
        int labels = Math.max(scores == null ? 0 : scores.length, o.top() + 1);
        if (labels > labelCounts.length) {
            labelCounts = Arrays.copyOf(labelCounts, labels);
            scoreSums = Arrays.copyOf(scoreSums, labels);
        }
        if (o.top() >= 0) {
            labelCounts[o.top()]++;
        }
        if (scores != null) {
            for (int i = 0; i < scores.length; i++) {
                scoreSums[i] += scores[i];
            }
        }
        confidenceHistogram[confidenceBin(o.confidence())]++;
        confidenceSum += o.confidence();
        tokenHistogram[tokenBin(o.tokens())]++;
        tokens += o.tokens();
        unknownTokens += o.unknownTokens();
        if (o.truncated()) {
            truncated++;
        }
        float[] e = o.embedding();
        if (e != null && e.length > 0) {
            if (embeddingSum.length == 0) {
                embeddingSum = new double[e.length];
            }
            if (e.length == embeddingSum.length) {
                addEmbedding(e);
            }
        }
        return this;
    }

    private void addEmbedding(float[] e) {
        embeddings++;
        for (int i = 0; i < e.length; i++) {
            embeddingSum[i] += e[i];
        }
        if (sampleCapacity == 0) {
            return;
        }
        int dim = e.length;
        // Reservoir sampling (Vitter's algorithm R): every embedding seen is in the sample with equal chance.
        if (sampleSize < sampleCapacity) {
            if (sample.length < (sampleSize + 1) * dim) {
                sample = Arrays.copyOf(sample, Math.min(sampleCapacity, Math.max(8, sampleSize * 2)) * dim);
            }
            System.arraycopy(e, 0, sample, sampleSize * dim, dim);
            sampleSize++;
        } else {
            long j = nextLong(embeddings);
            if (j < sampleCapacity) {
                System.arraycopy(e, 0, sample, (int) j * dim, dim);
            }
        }
    }

    /** A uniform random number in [0, bound). */
    private long nextLong(long bound) {
        randomState += 0x9E3779B97F4A7C15L;
        long z = randomState;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return Math.floorMod(z, bound);
    }

    static int confidenceBin(float confidence) {
        int b = (int) Math.floor(confidence * CONFIDENCE_BINS);
        return Math.max(0, Math.min(CONFIDENCE_BINS - 1, b));
    }

    static int tokenBin(int tokens) {
        int b = 0;
        while (b < TOKEN_BIN_EDGES.length && tokens >= TOKEN_BIN_EDGES[b]) {
            b++;
        }
        return b;
    }

    /**
     * Adds everything {@code other} saw to this accumulator. The merged sample is drawn from both samples in
     * proportion to how many embeddings each stands for, so it stays (approximately) a uniform sample of the
     * union.
     */
    public DriftAccumulator merge(DriftAccumulator other) {
        long seenHere = embeddings;
        if (modelDir == null) {
            modelDir = other.modelDir;
        }
        records += other.records;
        deadLetters += other.deadLetters;
        if (other.labelCounts.length > labelCounts.length) {
            labelCounts = Arrays.copyOf(labelCounts, other.labelCounts.length);
            scoreSums = Arrays.copyOf(scoreSums, other.labelCounts.length);
        }
        for (int i = 0; i < other.labelCounts.length; i++) {
            labelCounts[i] += other.labelCounts[i];
            scoreSums[i] += other.scoreSums[i];
        }
        for (int i = 0; i < CONFIDENCE_BINS; i++) {
            confidenceHistogram[i] += other.confidenceHistogram[i];
        }
        confidenceSum += other.confidenceSum;
        for (int i = 0; i < tokenHistogram.length; i++) {
            tokenHistogram[i] += other.tokenHistogram[i];
        }
        tokens += other.tokens;
        unknownTokens += other.unknownTokens;
        truncated += other.truncated;
        if (other.embeddings == 0) {
            return this;
        }
        if (embeddingSum.length == 0) {
            embeddingSum = new double[other.embeddingSum.length];
        }
        if (other.embeddingSum.length != embeddingSum.length) {
            return this;
        }
        embeddings += other.embeddings;
        for (int i = 0; i < embeddingSum.length; i++) {
            embeddingSum[i] += other.embeddingSum[i];
        }
        mergeSample(seenHere, other);
        return this;
    }

    private void mergeSample(long seenHere, DriftAccumulator other) {
        int dim = embeddingSum.length;
        int k = Math.min(sampleCapacity, sampleSize + other.sampleSize);
        if (k == 0) {
            return;
        }
        float[] mine = shuffledRows(sample, sampleSize, dim);
        float[] theirs = shuffledRows(other.sample, other.sampleSize, dim);
        // Each row of a sample stands for seen / size embeddings; draw rows in proportion to what remains.
        double weightHere = sampleSize == 0 ? 0 : (double) seenHere / sampleSize;
        double weightThere = other.sampleSize == 0 ? 0 : (double) other.embeddings / other.sampleSize;
        double leftHere = seenHere;
        double leftThere = other.embeddings;
        int a = 0;
        int b = 0;
        float[] merged = new float[k * dim];
        for (int i = 0; i < k; i++) {
            boolean here;
            if (a == sampleSize) {
                here = false;
            } else if (b == other.sampleSize) {
                here = true;
            } else {
                here = nextLong(1L << 53) / (double) (1L << 53) * (leftHere + leftThere) < leftHere;
            }
            if (here) {
                System.arraycopy(mine, a++ * dim, merged, i * dim, dim);
                leftHere -= weightHere;
            } else {
                System.arraycopy(theirs, b++ * dim, merged, i * dim, dim);
                leftThere -= weightThere;
            }
        }
        sample = merged;
        sampleSize = k;
    }

    private float[] shuffledRows(float[] rows, int n, int dim) {
        float[] out = Arrays.copyOf(rows, n * dim);
        float[] tmp = new float[dim];
        for (int i = n - 1; i > 0; i--) {
            int j = (int) nextLong(i + 1);
            System.arraycopy(out, i * dim, tmp, 0, dim);
            System.arraycopy(out, j * dim, out, i * dim, dim);
            System.arraycopy(tmp, 0, out, j * dim, dim);
        }
        return out;
    }

    /** A deep copy. */
    public DriftAccumulator copy() {
        DriftAccumulator c = new DriftAccumulator(sampleCapacity, randomState);
        c.modelDir = modelDir;
        c.records = records;
        c.deadLetters = deadLetters;
        c.labelCounts = labelCounts.clone();
        c.scoreSums = scoreSums.clone();
        c.confidenceHistogram = confidenceHistogram.clone();
        c.confidenceSum = confidenceSum;
        c.tokenHistogram = tokenHistogram.clone();
        c.tokens = tokens;
        c.unknownTokens = unknownTokens;
        c.truncated = truncated;
        c.embeddings = embeddings;
        c.embeddingSum = embeddingSum.clone();
        c.sampleSize = sampleSize;
        c.sample = Arrays.copyOf(sample, sampleSize * embeddingSum.length);
        return c;
    }

    // ---- derived values (not bean getters, so Flink's POJO analysis sees only the fields) ----

    /** Inputs that were classified. */
    public long classified() {
        return records - deadLetters;
    }

    /** The embedding dimension, 0 when no embedding was seen. */
    public int dimension() {
        return embeddingSum.length;
    }

    /** The mean of the embeddings seen, or null. */
    public double[] centroid() {
        if (embeddings == 0) {
            return null;
        }
        double[] c = new double[embeddingSum.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = embeddingSum[i] / embeddings;
        }
        return c;
    }

    double meanConfidence() {
        return classified() == 0 ? Double.NaN : confidenceSum / classified();
    }

    /**
     * Share of classified inputs with confidence below {@code threshold}, read from the histogram: exact for
     * thresholds that are multiples of 0.01, otherwise rounded down to one.
     */
    double shareBelow(double threshold) {
        if (classified() == 0) {
            return Double.NaN;
        }
        long below = 0;
        for (int b = 0; b < CONFIDENCE_BINS; b++) {
            if ((b + 1) <= threshold * CONFIDENCE_BINS + 1e-9) {
                below += confidenceHistogram[b];
            }
        }
        return (double) below / classified();
    }

    double meanTokens() {
        return classified() == 0 ? Double.NaN : (double) tokens / classified();
    }

    double truncationRate() {
        return classified() == 0 ? Double.NaN : (double) truncated / classified();
    }

    /** Unknown tokens per token fed to the model. */
    double unknownTokenRate() {
        return tokens == 0 ? Double.NaN : (double) unknownTokens / tokens;
    }

    double deadLetterRate() {
        return records == 0 ? Double.NaN : (double) deadLetters / records;
    }

    /** Label counts padded with zeros to {@code n} labels. */
    long[] labelCounts(int n) {
        return Arrays.copyOf(labelCounts, Math.max(n, labelCounts.length));
    }
}
