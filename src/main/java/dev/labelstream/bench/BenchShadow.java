package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchPipeline.Plan;
import dev.labelstream.bench.BenchPipeline.ShadowFigures;
import dev.labelstream.classify.Classifier;
import dev.labelstream.demo.CandidateModel;
import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.settings.ThreadBudget;
import dev.labelstream.shadow.ShadowOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;
import org.apache.flink.configuration.Configuration;

/**
 * The {@code shadow} part: what a shadow (candidate) model costs the primary. The same pipeline, in one run and
 * with the CPU defaults: without a shadow, and with one ({@code shadow.model.dir}) at each of {@link #RATES}, in
 * {@code --repeat} rounds whose order is reversed every other round (so a trend over the run, a warming JIT or a
 * neighbour's load, favours no configuration). The candidate is the demo's ({@link CandidateModel}: the model's
 * encoder linked, a head trained on {@value #CANDIDATE_MESSAGES} of the demo's messages, version
 * {@code <v>-few16}), written once per part into a temporary folder and deleted after.
 *
 * <p>With a shadow the CPU defaults themselves change: its {@code shadow.threads} take cores first ({@link
 * ThreadBudget}), so the figure is what a job left at its defaults pays. The shadow never backpressures: when
 * {@code shadow.max-in-flight} batches are in flight it sheds, so each with-shadow run says how much it really
 * scored (its decisions on the shadow topic, the job's shed and failed counters, the agreement reports that
 * closed). A with-shadow run whose primary output count differs from the paired run without, or any primary
 * decision marked shadow, is a PROBLEM.
 */
final class BenchShadow {
    /** Messages the candidate's head is trained on: as the demo's candidate. */
    static final int CANDIDATE_MESSAGES = 16;
    /** The sample rates measured, each against the runs without a shadow. */
    static final List<Double> RATES = List.of(1.0, 0.1);

    private BenchShadow() {}

    /** A run's shadow: the candidate bundle and {@code shadow.sample-rate}. */
    record Shadow(Path modelDir, double rate) {}

    /**
     * The runs of this part.
     *
     * @param candidate the candidate's name@version
     * @param dir where it was written (deleted once the runs are done)
     * @param withOptions the thread budget with a shadow (the CPU defaults of the cores left to the primary)
     * @param without the runs without a shadow, one per round
     * @param with the runs with a shadow by sample rate, one per round, in {@link #RATES}' order
     */
    record Measured(String candidate, Path dir, String withOptions, List<BenchPipeline.Result> without,
            Map<Double, List<BenchPipeline.Result>> with) {
        List<BenchPipeline.Result> with(double rate) {
            return with.getOrDefault(rate, List.of());
        }

        /** Committed throughput with a shadow at {@code rate} over without, medians. */
        double ratio(double rate) {
            return BenchStats.ratio(BenchJson.committed(with(rate)).median(), BenchJson.committed(without).median());
        }

        /** The same from the job's decision times. */
        double processedRatio(double rate) {
            return BenchStats.ratio(BenchJson.processed(with(rate)).median(), BenchJson.processed(without).median());
        }

        /** A shadow figure summed over the runs at {@code rate}. */
        long sum(double rate, ToLongFunction<ShadowFigures> figure) {
            return with(rate).stream().filter(r -> r.shadow() != null).mapToLong(r -> figure.applyAsLong(r.shadow()))
                    .sum();
        }

        /** What makes the with-shadow figures not the real thing; empty when none. */
        List<String> problems() {
            List<String> p = new ArrayList<>();
            List<BenchPipeline.Result> all = new ArrayList<>(without);
            with.values().forEach(all::addAll);
            for (BenchPipeline.Result r : all) {
                if (r.markedShadow() > 0) {
                    p.add(r.name() + ": " + r.markedShadow() + " primary decisions have shadow = true");
                }
            }
            for (Map.Entry<Double, List<BenchPipeline.Result>> e : with.entrySet()) {
                for (int i = 0; i < e.getValue().size(); i++) {
                    BenchPipeline.Result r = e.getValue().get(i);
                    if (i < without.size() && r.outputs() != without.get(i).outputs()) {
                        p.add(r.name() + ": " + r.outputs() + " primary outputs, " + without.get(i).outputs()
                                + " in " + without.get(i).name() + " without a shadow");
                    }
                    ShadowFigures s = r.shadow();
                    if (s != null && (s.marked() != s.compared() || s.linked() != s.compared())) {
                        p.add(r.name() + ": of " + s.compared() + " shadow decisions " + s.marked() + " have shadow ="
                                + " true and a primary_decision_id, " + s.linked() + " name the primary's decision");
                    }
                }
            }
            return p;
        }
    }

    /**
     * Writes the candidate, runs {@code ctx.repeat} rounds on {@code kafka} with {@code conf} (the CPU defaults:
     * options unset), deletes the candidate. Null, with a line saying why, when no candidate fits the model (the
     * demo's messages are ham and spam).
     */
    static Measured run(BenchContext ctx, EmbeddedKafka kafka, ModelBundle bundle, Configuration conf,
            BenchCorpus corpus, Set<Long> broker) throws Exception {
        Path tmp = Files.createTempDirectory("labelstream-bench-candidate");
        try {
            Path dir;
            String candidate;
            try {
                dir = CandidateModel.write(bundle, conf, DemoData.messages(), CANDIDATE_MESSAGES, tmp.resolve("model"));
                // Checked as the job checks shadow.model.dir, before any run starts.
                Configuration probe = new Configuration(conf);
                probe.set(ShadowOptions.MODEL_DIR, dir.toString());
                Configuration shadowConf = JobSettings.shadowConfiguration(probe);
                candidate = Classifier.check(ModelBundle.load(shadowConf), shadowConf).key();
            } catch (IllegalArgumentException | IOException | UncheckedIOException e) {
                ctx.section("shadow: skipped (no candidate for " + bundle.name() + " from the demo's messages: "
                        + e.getMessage() + ")");
                return null;
            }
            Configuration withShadow = new Configuration(conf);
            withShadow.set(ShadowOptions.MODEL_DIR, dir.toString());
            String withOptions = options(withShadow) + " + shadow.threads " + withShadow.get(ShadowOptions.THREADS)
                    + ", shadow.max-in-flight " + withShadow.get(ShadowOptions.MAX_IN_FLIGHT);
            ctx.section("shadow: the pipeline with the CPU defaults without a shadow model (" + options(conf)
                    + ") and with one at sample rate " + RATES + " (" + withOptions + "), in rounds; candidate "
                    + candidate + " (the encoder linked, a head trained on " + CANDIDATE_MESSAGES + " of the demo's"
                    + " messages)");
            List<BenchPipeline.Result> without = new ArrayList<>();
            Map<Double, List<BenchPipeline.Result>> with = new LinkedHashMap<>();
            RATES.forEach(rate -> with.put(rate, new ArrayList<>()));
            for (int r = 1; r <= ctx.repeat; r++) {
                List<Double> order = new ArrayList<>(Arrays.asList((Double) null));
                order.addAll(RATES);
                if (r % 2 == 0) {
                    Collections.reverse(order);
                }
                for (Double rate : order) {
                    Plan plan = Plan.throughput(ctx.warmup, ctx.records);
                    if (rate == null) {
                        without.add(ctx.pipeline(kafka, conf, "no-shadow", r, corpus, plan, broker));
                    } else {
                        with.get(rate).add(ctx.pipeline(kafka, conf, "with-shadow-" + rate, r, corpus, plan, broker,
                                BenchPipeline.Extras.shadow(new Shadow(dir, rate))));
                    }
                }
            }
            return new Measured(candidate, dir, withOptions, without, with);
        } finally {
            delete(tmp);
        }
    }

    /** The primary's threads as the job resolves them for {@code conf} on this machine's cores. */
    private static String options(Configuration conf) {
        ThreadBudget b = ThreadBudget.of(conf, Runtime.getRuntime().availableProcessors());
        return "async.threads " + b.asyncThreads() + ", intra-op " + b.intraOpThreads() + ", max-sub-batch "
                + b.maxSubBatch();
    }

    /** The run line's shadow part. */
    static String line(ShadowFigures s) {
        long[] reported = s.reported();
        return String.format(Locale.ROOT, "shadow %s: %d sampled, %d compared, %d shed, %d failed%s%s%s",
                s.rate(), s.sampled(), s.compared(), s.shed(), s.failed(),
                s.reports().isEmpty() ? "" : String.format(Locale.ROOT, " (%d agreement report%s: %d compared, %d"
                        + " shed, %d failed)", s.reports().size(), s.reports().size() == 1 ? "" : "s", reported[0],
                        reported[1], reported[2]),
                s.drained() ? "" : ", not all sampled records accounted for when the run ended",
                s.marked() == s.compared() && s.linked() == s.compared() ? "" : ", " + s.marked()
                        + " marked shadow with a primary_decision_id, " + s.linked() + " naming the primary's");
    }

    /** A run's shadow figures in report.json. */
    static ObjectNode json(ShadowFigures s) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("sample_rate", s.rate());
        j.put("sampled", s.sampled());
        j.put("compared", s.compared());
        j.put("shed", s.shed());
        j.put("failed", s.failed());
        j.put("scored_counter", s.scored());
        j.put("marked_shadow_with_primary_decision_id", s.marked());
        j.put("linked_to_primary_decision", s.linked());
        j.put("drained", s.drained());
        long[] reported = s.reported();
        ObjectNode a = j.putObject("agreement_reports");
        a.put("reports", s.reports().size());
        a.put("compared", reported[0]);
        a.put("shed", reported[1]);
        a.put("failed", reported[2]);
        return j;
    }

    /** The part's report.json section. */
    static ObjectNode json(Measured m, String options) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("candidate", m.candidate());
        j.put("candidate_messages", CANDIDATE_MESSAGES);
        j.set("without_shadow", BenchJson.pipelineJson(m.without(), options + "; no shadow"));
        ArrayNode with = j.putArray("with_shadow");
        for (double rate : m.with().keySet()) {
            ObjectNode w = BenchJson.pipelineJson(m.with(rate), m.withOptions() + "; shadow.sample-rate " + rate);
            w.put("sample_rate", rate);
            BenchReport.put(w, "ratio_committed", m.ratio(rate));
            BenchReport.put(w, "ratio_processed", m.processedRatio(rate));
            w.put("sampled", m.sum(rate, ShadowFigures::sampled));
            w.put("compared", m.sum(rate, ShadowFigures::compared));
            w.put("shed", m.sum(rate, ShadowFigures::shed));
            w.put("failed", m.sum(rate, ShadowFigures::failed));
            with.add(w);
        }
        List<String> problems = m.problems();
        if (!problems.isEmpty()) {
            ArrayNode p = j.putArray("problems");
            problems.forEach(p::add);
        }
        return j;
    }

    /** What the table says of the shadow at {@code rate}: the sums over its runs. */
    static String figures(Measured m, double rate) {
        return String.format(Locale.ROOT, "%d of %d sampled compared, %d shed, %d failed (all runs, warm-up included)",
                m.sum(rate, ShadowFigures::compared), m.sum(rate, ShadowFigures::sampled),
                m.sum(rate, ShadowFigures::shed), m.sum(rate, ShadowFigures::failed));
    }

    /** Deletes {@code dir} and what is in it; links are deleted, never followed. */
    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
