package dev.labelstream.bench;

import dev.labelstream.bench.BenchStats.Summary;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.settings.JobOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;

/**
 * The raw engine's search over what a user can set: caller threads (the job's async.threads) x ONNX Runtime
 * intra-op threads x texts per call, each point measured once on the same texts, then every point within {@value
 * #CONTENDER_SHARE} of the best (by raw-text rate), and batch 1 at their threads, repeated; the best is the best
 * median. Every ratio of the bench uses the best point, and the pipeline runs with its options unless the user set
 * them.
 */
final class BenchSearch {
    /** Points whose first rate is at least this share of the first pass's best are measured again. */
    static final double CONTENDER_SHARE = 0.9;

    private BenchSearch() {}

    /** One configuration of the raw engine. */
    record Point(int callers, int intraOp, int batch) {
        String label() {
            return callers + " caller" + (callers == 1 ? "" : "s") + " x intra-op " + intraOp + ", batch " + batch;
        }

        /** The job options that run the pipeline like this point: one async thread per caller, rows per call. */
        Configuration applyTo(Configuration conf, java.util.Set<String> keep) {
            Configuration c = new Configuration(conf);
            if (!keep.contains(JobOptions.ASYNC_THREADS.key())) {
                c.set(JobOptions.ASYNC_THREADS, callers);
            }
            if (!keep.contains(InferenceOptions.INTRA_OP_THREADS.key())) {
                c.set(InferenceOptions.INTRA_OP_THREADS, intraOp);
            }
            if (!keep.contains(InferenceOptions.MAX_SUB_BATCH.key())) {
                c.set(InferenceOptions.MAX_SUB_BATCH, batch);
            }
            return c;
        }
    }

    /** Every point tried, with its runs (the best point and batch 1 at its threads have several). */
    record Result(Map<Point, List<BenchRaw.Run>> runs, Point best, Point batch1) {
        Summary rate(Point p) {
            return summary(runs.get(p), BenchRaw.Run::textsPerSecond);
        }

        Summary modelRate(Point p) {
            return summary(runs.get(p), BenchRaw.Run::modelPerSecond);
        }

        /** Real (unpadded) tokens per record of these texts at this max length. */
        double tokensPerRecord() {
            for (List<BenchRaw.Run> l : runs.values()) {
                if (!l.isEmpty() && l.get(0).records() > 0) {
                    return (double) l.get(0).realTokens() / l.get(0).records();
                }
            }
            return Double.NaN;
        }
    }

    static Summary summary(List<BenchRaw.Run> runs, java.util.function.ToDoubleFunction<BenchRaw.Run> f) {
        return runs == null ? Summary.EMPTY : Summary.of(runs.stream().mapToDouble(f).toArray());
    }

    /** The point with the best median raw-text rate; the first point when none was measured. */
    static Point best(Map<Point, List<BenchRaw.Run>> runs) {
        Point best = null;
        double bestRate = -1;
        for (Map.Entry<Point, List<BenchRaw.Run>> e : runs.entrySet()) {
            double r = summary(e.getValue(), BenchRaw.Run::textsPerSecond).median();
            if (!Double.isNaN(r) && r > bestRate) {
                bestRate = r;
                best = e.getKey();
            }
        }
        return best != null ? best : runs.keySet().stream().findFirst().orElse(new Point(1, 1, 1));
    }

    /**
     * The points to measure again: every point whose median rate is at least {@link #CONTENDER_SHARE} of the best
     * point's, each followed by batch 1 at its threads; in the order of {@code runs}.
     */
    static java.util.Set<Point> contenders(Map<Point, List<BenchRaw.Run>> runs) {
        double top = summary(runs.get(best(runs)), BenchRaw.Run::textsPerSecond).median();
        java.util.Set<Point> out = new java.util.LinkedHashSet<>();
        for (Map.Entry<Point, List<BenchRaw.Run>> e : runs.entrySet()) {
            if (summary(e.getValue(), BenchRaw.Run::textsPerSecond).median() >= CONTENDER_SHARE * top) {
                out.add(e.getKey());
                out.add(new Point(e.getKey().callers(), e.getKey().intraOp(), 1));
            }
        }
        return out;
    }

    /**
     * Runs the search on {@code texts}; {@code firstPass} receives the classifications of the first point's pass
     * (input order), for the padding figures.
     */
    static Result run(BenchContext ctx, ModelBundle bundle, Configuration conf, List<String> texts,
            List<String> warmTexts, List<Classification> firstPass) {
        TreeSet<Integer> batches = new TreeSet<>(ctx.batchSizes);
        batches.add(1);
        Map<Point, List<BenchRaw.Run>> runs = new LinkedHashMap<>();
        for (int intra : ctx.intraOps) {
            try (BatchClassifier c = open(bundle, conf, intra, batches.last())) {
                warm(c, warmTexts, batches.last(), ctx.callers.get(ctx.callers.size() - 1));
                for (int callers : ctx.callers) {
                    for (int b : batches) {
                        measure(ctx, runs, c, new Point(callers, intra, b), texts, firstPass.isEmpty() ? firstPass
                                : null);
                    }
                }
            }
        }
        Point first = best(runs);
        // Each point is measured once above, so the top of a near tie is partly luck, and the first pick's repeat
        // regressed (run 5: 1 caller x intra-op 2 at 20.5 rec/s ahead of 2 x 1 at 20.2, then 17.0 on its repeat).
        // The repeats go to every point within CONTENDER_SHARE of the first pick, and to batch 1 at their threads;
        // the best is then the best median.
        java.util.Set<Point> contenders = contenders(runs);
        if (ctx.repeat > 1) {
            ctx.out.printf("  first pass: %s; repeating the points within %.0f %% of it: %s%n", first.label(),
                    (1 - CONTENDER_SHARE) * 100, String.join("; ", contenders.stream().map(Point::label).toList()));
            for (int intra : contenders.stream().map(Point::intraOp).distinct().toList()) {
                try (BatchClassifier c = open(bundle, conf, intra, batches.last())) {
                    warm(c, warmTexts, batches.last(), ctx.callers.get(ctx.callers.size() - 1));
                    for (int r = 1; r < ctx.repeat; r++) {
                        for (Point p : contenders) {
                            if (p.intraOp() == intra) {
                                measure(ctx, runs, c, p, texts, null);
                            }
                        }
                    }
                }
            }
        }
        Point best = best(runs);
        Point batch1 = new Point(best.callers(), best.intraOp(), 1);
        ctx.out.printf("  best: %s%n", best.label());
        return new Result(runs, best, batch1);
    }

    /**
     * {@code p} measured {@code ctx.repeat} times more on {@code c}, a session with p's intra-op threads that takes
     * p's batch in one call, after a warm-up pass: the raw engine again, in the JVM the pipeline runs in (after
     * {@link BenchContext#warmJvm}), so that its best is not a cold JVM's.
     */
    static List<BenchRaw.Run> again(BenchContext ctx, BatchClassifier c, Point p, List<String> texts,
            List<String> warmTexts) {
        warm(c, warmTexts, p.batch(), p.callers());
        Map<Point, List<BenchRaw.Run>> runs = new LinkedHashMap<>();
        for (int r = 0; r < ctx.repeat; r++) {
            measure(ctx, runs, c, p, texts, null);
        }
        return runs.get(p);
    }

    private static BatchClassifier open(ModelBundle bundle, Configuration conf, int intraOp, int maxBatch) {
        Configuration c = new Configuration(conf);
        c.set(InferenceOptions.INTRA_OP_THREADS, intraOp);
        // "batch N" means N texts per model call (the token budget still splits long ones), whatever the default.
        if (conf.getOptional(InferenceOptions.MAX_SUB_BATCH).isEmpty()) {
            c.set(InferenceOptions.MAX_SUB_BATCH, Math.max(maxBatch, InferenceOptions.MAX_SUB_BATCH.defaultValue()));
        }
        return BatchClassifier.open(bundle, c);
    }

    private static void warm(BatchClassifier c, List<String> warmTexts, int batch, int callers) {
        if (!warmTexts.isEmpty()) {
            BenchRaw.run(c, warmTexts, batch, callers, null);
            BenchRaw.run(c, warmTexts.subList(0, Math.min(8, warmTexts.size())), 1, callers, null);
        }
    }

    private static void measure(BenchContext ctx, Map<Point, List<BenchRaw.Run>> runs, BatchClassifier c, Point p,
            List<String> texts, List<Classification> sink) {
        long cpu0 = BenchPipeline.cpuNanos();
        BenchRaw.Run r = BenchRaw.run(c, texts, p.batch(), p.callers(), sink);
        double cores = (BenchPipeline.cpuNanos() - cpu0) / (double) r.wallNanos();
        runs.computeIfAbsent(p, k -> new ArrayList<>()).add(r);
        ctx.out.printf(Locale.ROOT, "  %-34s %7s rec/s raw texts (%7s tok/s), %7s rec/s model only, %3d model calls,"
                        + " padding %s, cpu %s cores%n", p.label() + ":", BenchReport.fmt(r.textsPerSecond()),
                BenchReport.fmt(r.tokensPerSecond()), BenchReport.fmt(r.modelPerSecond()), r.modelCalls(),
                BenchReport.fmt(r.paddingEfficiency()), BenchReport.fmt(cores));
        ctx.out.flush();
    }
}
