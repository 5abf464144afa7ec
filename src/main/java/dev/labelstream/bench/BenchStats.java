package dev.labelstream.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The arithmetic of {@code bench}: summaries of repeated runs, percentiles, rates and batch-size groups. */
final class BenchStats {
    private BenchStats() {}

    /** Min, median and max of repeated measurements (NaN values, from failed runs, are left out). */
    record Summary(double min, double median, double max, int n) {
        static final Summary EMPTY = new Summary(Double.NaN, Double.NaN, Double.NaN, 0);

        static Summary of(double... values) {
            double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0) {
                return EMPTY;
            }
            int mid = v.length / 2;
            double median = v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
            return new Summary(v[0], median, v[v.length - 1], v.length);
        }

        static Summary of(List<Double> values) {
            return of(values.stream().mapToDouble(Double::doubleValue).toArray());
        }

        boolean isEmpty() {
            return n == 0;
        }
    }

    /**
     * The {@code p}-th percentile by the nearest-rank method: the smallest value such that at least {@code p}
     * percent of the values are less or equal to it (p50 of 1..10 is 5, p95 is 10). NaN for no values.
     *
     * @param p in (0, 100]
     */
    static double percentile(double[] values, double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        // p * n first: exact for whole percentiles, so 7 % of 100 is rank 7, not 8 (0.07 * 100 = 7.000000000000001)
        int rank = (int) Math.ceil(p * v.length / 100.0);
        return v[Math.max(1, rank) - 1];
    }

    static double percentile(long[] values, double p) {
        return percentile(Arrays.stream(values).asDoubleStream().toArray(), p);
    }

    /**
     * Records per second after {@code anchorMs}: the records completed strictly after the anchor, over the time
     * from the anchor to the last of them. The anchor is when the warm-up ended (the completion time of the last
     * warm-up record, on the same clock), so the records counted are exactly those whose work fell inside the
     * span. NaN when no record completed after the anchor.
     */
    static double rateSince(long anchorMs, long[] completedMs) {
        long count = 0;
        long last = anchorMs;
        for (long t : completedMs) {
            if (t > anchorMs) {
                count++;
                last = Math.max(last, t);
            }
        }
        return count == 0 || last == anchorMs ? Double.NaN : count / ((last - anchorMs) / 1000.0);
    }

    /**
     * Records per second from the first to the last completion, without a warm-up anchor: the records that
     * completed at the first instant are not counted (their work happened before it), the fencepost of a span
     * measured from completion times.
     */
    static double spanRate(long[] completedMs) {
        if (completedMs.length == 0) {
            return Double.NaN;
        }
        return rateSince(Arrays.stream(completedMs).min().getAsLong(), completedMs);
    }

    /**
     * Records per second after the first {@code skip} completions (the warm-up): the anchor is the time of the
     * {@code skip}-th completion, and the records completed strictly after it are counted over the time from the
     * anchor to the last completion. Which records were the warm-up does not matter, so batches that complete
     * out of order at the boundary do not distort it. Without a warm-up it is {@link #spanRate}.
     */
    static double rateAfter(int skip, long[] completedMs) {
        if (skip <= 0) {
            return spanRate(completedMs);
        }
        if (completedMs.length <= skip) {
            return Double.NaN;
        }
        long[] sorted = completedMs.clone();
        Arrays.sort(sorted);
        return rateSince(sorted[skip - 1], sorted);
    }

    /** {@code a / b}, or NaN when either is missing or b is not positive. */
    static double ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b <= 0 ? Double.NaN : a / b;
    }

    /** How many records carry each batch key (records of one batch share one), in first-seen order. */
    static int[] groupSizes(List<String> batchKeys) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String k : batchKeys) {
            counts.merge(k, 1, Integer::sum);
        }
        return counts.values().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Batch counts in power-of-two buckets ("1", "2-3", "4-7", ...), from 1 to the largest size, gaps as 0. */
    static Map<String, Integer> powerOfTwoBuckets(int[] sizes) {
        Map<Integer, Integer> byExponent = new HashMap<>();
        int top = 0;
        for (int s : sizes) {
            if (s < 1) {
                continue;
            }
            int e = 31 - Integer.numberOfLeadingZeros(s);
            byExponent.merge(e, 1, Integer::sum);
            top = Math.max(top, e);
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        if (byExponent.isEmpty()) {
            return out;
        }
        for (int e = 0; e <= top; e++) {
            int lo = 1 << e;
            int hi = (1 << (e + 1)) - 1;
            out.put(lo == hi ? Integer.toString(lo) : lo + "-" + hi, byExponent.getOrDefault(e, 0));
        }
        return out;
    }

    static double mean(int[] values) {
        return values.length == 0 ? Double.NaN : Arrays.stream(values).average().orElse(Double.NaN);
    }
}
