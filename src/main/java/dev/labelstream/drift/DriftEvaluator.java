package dev.labelstream.drift;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.avro.LabelShare;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Turns a window's summary and the reference profile into a {@link DriftReport}. Pure: no Flink, no I/O. */
final class DriftEvaluator {
    private DriftEvaluator() {}

    /** What a window is compared with, and how it is described in the report. */
    record Reference(ReferenceProfile profile, String description) {}

    /**
     * @param reference the reference, or null while it is still being built (the report is then not evaluated)
     * @param labels the model's label names (for the label shares), or empty
     */
    static DriftReport evaluate(String modelName, String modelVersion, long windowStart, long windowEnd,
            DriftOptions.WindowTime windowTime, DriftAccumulator w, Reference reference, List<String> labels,
            DriftSettings s) {
        ReferenceProfile ref = reference == null ? null : reference.profile();
        boolean evaluated = ref != null && w.classified() >= s.minWindowRecords;
        List<DriftStatistic> stats = new ArrayList<>();
        if (ref != null) {
            DriftAccumulator r = ref.summary();
            int k = Math.max(r.labelCounts.length, w.labelCounts.length);
            add(stats, s, evaluated, Statistic.LABEL_PSI, DriftMath.psi(r.labelCounts(k), w.labelCounts(k)), null,
                    null);
            add(stats, s, evaluated, Statistic.LABEL_JS_DISTANCE,
                    DriftMath.jensenShannonDistance(r.labelCounts(k), w.labelCounts(k)), null, null);
            double mc = w.meanConfidence();
            double rmc = r.meanConfidence();
            add(stats, s, evaluated, Statistic.MEAN_CONFIDENCE_DROP, rmc - mc, mc, rmc);
            double low = w.shareBelow(s.lowConfidence);
            double rlow = r.shareBelow(s.lowConfidence);
            add(stats, s, evaluated, Statistic.LOW_CONFIDENCE_SHARE_INCREASE, low - rlow, low, rlow);
            long[][] lengths = DriftMath.coarsen(r.tokenHistogram, w.tokenHistogram, DriftMath.MIN_BIN_SHARE);
            add(stats, s, evaluated, Statistic.TOKEN_LENGTH_PSI, DriftMath.psi(lengths[0], lengths[1]),
                    w.meanTokens(), r.meanTokens());
            double tr = w.truncationRate();
            double rtr = r.truncationRate();
            add(stats, s, evaluated, Statistic.TRUNCATION_RATE_INCREASE, tr - rtr, tr, rtr);
            double unk = w.unknownTokenRate();
            double runk = r.unknownTokenRate();
            add(stats, s, evaluated, Statistic.UNKNOWN_TOKEN_RATE_INCREASE, unk - runk, unk, runk);
            if (w.embeddings > 0 && r.embeddings > 0 && w.dimension() == r.dimension()) {
                add(stats, s, evaluated, Statistic.EMBEDDING_COSINE_DISTANCE,
                        DriftMath.cosineDistance(w.centroid(), r.centroid()), null, null);
                double sigma = Double.isNaN(s.mmdBandwidth) ? ref.bandwidth() : s.mmdBandwidth;
                double mmd = DriftMath.mmd2(w.sample, w.sampleSize, r.sample, r.sampleSize, w.dimension(), sigma);
                // The unbiased estimate scatters around 0 without drift and can dip below it; 0 means "none".
                add(stats, s, evaluated, Statistic.EMBEDDING_MMD, Double.isNaN(mmd) ? mmd : Math.max(0, mmd), null,
                        null);
            }
        }
        add(stats, s, evaluated, Statistic.DEAD_LETTER_RATE, w.deadLetterRate(), null,
                ref == null ? null : ref.summary().deadLetterRate());

        List<DriftStatistic> tripped = new ArrayList<>(stats.stream().filter(d -> d.getStatus() != DriftStatus.OK)
                .toList());
        tripped.sort(Comparator.comparing((DriftStatistic d) -> d.getStatus().ordinal()).reversed()
                .thenComparing(Comparator.comparingDouble((DriftStatistic d) -> d.getValue() / d.getAlertThreshold())
                        .reversed()));
        DriftStatus overall = tripped.isEmpty() ? DriftStatus.OK : tripped.get(0).getStatus();

        List<LabelShare> shares = new ArrayList<>();
        int k = Math.max(w.labelCounts.length, ref == null ? 0 : ref.summary().labelCounts.length);
        k = Math.max(k, labels.size());
        long classified = w.classified();
        for (int i = 0; i < k; i++) {
            String name = i < labels.size() ? labels.get(i) : "label" + i;
            double share = classified == 0 ? 0 : (double) at(w.labelCounts, i) / classified;
            Double refShare = null;
            if (ref != null && ref.summary().classified() > 0) {
                refShare = (double) at(ref.summary().labelCounts, i) / ref.summary().classified();
            }
            double meanScore = classified == 0 || i >= w.scoreSums.length ? 0 : w.scoreSums[i] / classified;
            shares.add(new LabelShare(name, share, refShare, meanScore));
        }
        return DriftReport.newBuilder()
                .setModelName(modelName)
                .setModelVersion(modelVersion)
                .setWindowStart(Instant.ofEpochMilli(windowStart))
                .setWindowEnd(Instant.ofEpochMilli(windowEnd))
                .setWindowTime(windowTime.name())
                .setEvents(w.records)
                .setClassified(classified)
                .setDeadLetters(w.deadLetters)
                .setEvaluated(evaluated)
                .setReference(reference == null ? "none yet" : reference.description())
                .setStatus(overall)
                .setTripped(tripped.stream().map(DriftStatistic::getName).toList())
                .setStatistics(stats)
                .setLabels(shares)
                .build();
    }

    private static void add(List<DriftStatistic> to, DriftSettings s, boolean evaluated, Statistic stat, double value,
            Double observed, Double expected) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return;
        }
        double warn = s.warn(stat);
        double alert = s.alert(stat);
        DriftStatus status = !evaluated ? DriftStatus.OK
                : value >= alert ? DriftStatus.ALERT
                : value >= warn ? DriftStatus.WARN
                : DriftStatus.OK;
        to.add(new DriftStatistic(stat.id, value, finite(observed), finite(expected), warn, alert, status));
    }

    private static Double finite(Double v) {
        return v == null || Double.isNaN(v) || Double.isInfinite(v) ? null : v;
    }

    private static long at(long[] a, int i) {
        return i < a.length ? a[i] : 0;
    }
}
