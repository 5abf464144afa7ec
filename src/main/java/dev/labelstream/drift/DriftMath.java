package dev.labelstream.drift;

import java.util.Arrays;

/**
 * The two-sample measures of the drift statistics. Pure functions of counts and vectors. Public for the shadow's
 * agreement report, which compares two models' label mix with the same PSI.
 */
public final class DriftMath {
    /**
     * Share used in place of an empty bin in PSI, as Evidently does (0.0001): without it, a bin that is empty on
     * one side makes PSI infinite. A bin empty on both sides contributes 0.
     */
    static final double PSI_EPSILON = 1e-4;

    private DriftMath() {}

    /**
     * Population stability index of {@code current} against {@code reference} (counts per bin):
     * {@code sum_i (c_i - r_i) * ln(c_i / r_i)} over the bins' shares, an empty bin's share replaced by {@link
     * #PSI_EPSILON}. NaN when either side is empty.
     */
    public static double psi(long[] reference, long[] current) {
        int n = Math.max(reference.length, current.length);
        double totalRef = sum(reference);
        double totalCur = sum(current);
        if (totalRef == 0 || totalCur == 0) {
            return Double.NaN;
        }
        double psi = 0;
        for (int i = 0; i < n; i++) {
            double r = Math.max(at(reference, i) / totalRef, PSI_EPSILON);
            double c = Math.max(at(current, i) / totalCur, PSI_EPSILON);
            psi += (c - r) * Math.log(c / r);
        }
        return psi;
    }

    /**
     * Least share of the reference a PSI bin of a numeric distribution should hold: the usual PSI practice (bins of
     * at least 5% of the population), since bins the reference barely fills make PSI jump on small windows.
     */
    static final double MIN_BIN_SHARE = 0.05;

    /**
     * Merges adjacent bins of a fixed-bin histogram, left to right, until each merged bin holds at least {@code
     * minShare} of the reference (what is left at the end joins the last bin). A function of the reference only, so
     * every window is cut the same way. Returns {reference, current} over the merged bins.
     */
    static long[][] coarsen(long[] reference, long[] current, double minShare) {
        int n = Math.max(reference.length, current.length);
        double total = sum(reference);
        long[] r = new long[n];
        long[] c = new long[n];
        int k = 0;
        long inBin = 0;
        for (int i = 0; i < n; i++) {
            r[k] += (long) at(reference, i);
            c[k] += (long) at(current, i);
            inBin += (long) at(reference, i);
            if (total > 0 && inBin >= minShare * total && i < n - 1) {
                k++;
                inBin = 0;
            }
        }
        if (k > 0 && total > 0 && inBin < minShare * total) {
            // the tail bin is too thin: fold it into the one before
            r[k - 1] += r[k];
            c[k - 1] += c[k];
            r[k] = 0;
            c[k] = 0;
            k--;
        }
        return new long[][] {java.util.Arrays.copyOf(r, k + 1), java.util.Arrays.copyOf(c, k + 1)};
    }

    /**
     * Jensen-Shannon distance between the two distributions (counts per category): the square root of the
     * Jensen-Shannon divergence with natural logarithms, as {@code scipy.spatial.distance.jensenshannon} (which
     * Evidently uses) computes it; between 0 and sqrt(ln 2) = 0.833. NaN when either side is empty.
     */
    static double jensenShannonDistance(long[] reference, long[] current) {
        int n = Math.max(reference.length, current.length);
        double totalRef = sum(reference);
        double totalCur = sum(current);
        if (totalRef == 0 || totalCur == 0) {
            return Double.NaN;
        }
        double js = 0;
        for (int i = 0; i < n; i++) {
            double p = at(reference, i) / totalRef;
            double q = at(current, i) / totalCur;
            double m = (p + q) / 2;
            if (p > 0) {
                js += 0.5 * p * Math.log(p / m);
            }
            if (q > 0) {
                js += 0.5 * q * Math.log(q / m);
            }
        }
        return Math.sqrt(Math.max(0, js));
    }

    /** 1 - cos(a, b); NaN when either vector is null or zero. */
    static double cosineDistance(double[] a, double[] b) {
        if (a == null || b == null || a.length != b.length) {
            return Double.NaN;
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        if (na == 0 || nb == 0) {
            return Double.NaN;
        }
        return 1 - dot / Math.sqrt(na * nb);
    }

    /**
     * Unbiased estimate of the squared maximum mean discrepancy between samples x (n rows) and y (m rows) of
     * dimension dim, with the Gaussian (RBF) kernel {@code k(a, b) = exp(-|a - b|^2 / (2 sigma^2))} (Gretton et
     * al. 2012, eq. 3):
     *
     * <pre>
     * MMD2_u = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j) - 2/(nm) sum_{i,j} k(x_i, y_j)
     * </pre>
     *
     * Near 0 (and possibly slightly negative) when both samples come from one distribution. NaN when a sample has
     * fewer than two rows.
     */
    static double mmd2(float[] x, int n, float[] y, int m, int dim, double sigma) {
        if (n < 2 || m < 2 || !(sigma > 0)) {
            return Double.NaN;
        }
        double gamma = 1 / (2 * sigma * sigma);
        double xx = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                xx += Math.exp(-gamma * squaredDistance(x, i, x, j, dim));
            }
        }
        double yy = 0;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) {
                yy += Math.exp(-gamma * squaredDistance(y, i, y, j, dim));
            }
        }
        double xy = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                xy += Math.exp(-gamma * squaredDistance(x, i, y, j, dim));
            }
        }
        return 2 * xx / ((double) n * (n - 1)) + 2 * yy / ((double) m * (m - 1)) - 2 * xy / ((double) n * m);
    }

    /**
     * The median heuristic for the RBF bandwidth: the median of the Euclidean distances between distinct rows of
     * x. NaN with fewer than two rows.
     */
    static double medianDistance(float[] x, int n, int dim) {
        if (n < 2) {
            return Double.NaN;
        }
        double[] d = new double[n * (n - 1) / 2];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                d[k++] = Math.sqrt(squaredDistance(x, i, x, j, dim));
            }
        }
        Arrays.sort(d);
        return d.length % 2 == 1 ? d[d.length / 2] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2;
    }

    static double squaredDistance(float[] a, int i, float[] b, int j, int dim) {
        double s = 0;
        int ai = i * dim;
        int bj = j * dim;
        for (int k = 0; k < dim; k++) {
            double d = a[ai + k] - b[bj + k];
            s += d * d;
        }
        return s;
    }

    private static double sum(long[] a) {
        double s = 0;
        for (long v : a) {
            s += v;
        }
        return s;
    }

    private static double at(long[] a, int i) {
        return i < a.length ? a[i] : 0;
    }
}
