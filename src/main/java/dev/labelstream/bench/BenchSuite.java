package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.bench.BenchChart.Bar;
import dev.labelstream.bench.BenchCommand.Part;
import dev.labelstream.bench.BenchPipeline.Plan;
import dev.labelstream.bench.BenchReport.Ratio;
import dev.labelstream.bench.BenchReport.Row;
import dev.labelstream.bench.BenchSearch.Point;
import dev.labelstream.bench.BenchStats.Summary;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.DefaultModel;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.ThreadBudget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;

/**
 * The bench proper, in one run on one model and one set of texts: (1) the raw engine's search over caller threads
 * x intra-op threads x batch size; (2) the pipeline with the best options found, with the CPU defaults of the
 * cores, and with the defaults before them (on the fp32 built-in model when the bench runs the int8 one, compared
 * with the fp32 model's CPU defaults); (3) the job without micro-batching; (4) the independent peer; (5)
 * latency at a fixed offered load, exactly-once and at-least-once; (6) padding; (7) where each record's CPU time
 * goes; (8) tokens/s and achieved GFLOP/s. Every ratio's denominator is the raw engine at its best.
 */
final class BenchSuite {
    /** The options the job defaulted to before its CPU defaults followed the cores. */
    static final Point OLD_DEFAULTS = new Point(2, 0, 128);

    private final BenchContext ctx;
    private final Configuration conf;
    private final ModelBundle bundle;
    private final BenchCorpus corpus;
    private final List<Row> rows = new ArrayList<>();
    private final List<Bar> bars = new ArrayList<>();
    private final List<BenchChart.Latency> latencyBars = new ArrayList<>();

    BenchSuite(BenchContext ctx, Configuration conf, ModelBundle bundle, BenchCorpus corpus) {
        this.ctx = ctx;
        this.conf = conf;
        this.bundle = bundle;
        this.corpus = corpus;
    }

    /** {@link #opts} and the batch size the job gives them ({@link ThreadBudget#withCpuBatching}). */
    private String jobOpts(Point p) {
        return opts(p) + ", batching.max-records " + ThreadBudget.withCpuBatching(p.applyTo(conf, ctx.userKeys))
                .get(BatchingOptions.MAX_RECORDS);
    }

    private static String opts(Point p) {
        return "async.threads " + p.callers() + ", intra-op " + (p.intraOp() == 0 ? "0 (= cores)" : p.intraOp())
                + ", max-sub-batch " + p.batch();
    }

    int run(ObjectNode report, StringBuilder text) throws Exception {
        int n = ctx.records;
        List<String> texts = corpus.texts(0, n);
        List<String> warmTexts = corpus.texts(n, ctx.warmup);
        int cores = Runtime.getRuntime().availableProcessors();
        Map<String, Integer> batchBuckets = Map.of();

        // 1. Raw engine.
        List<Classification> firstPass = new ArrayList<>();
        BenchSearch.Result search = null;
        Point best = new Point(1, 1, 1);
        Summary rawBest = Summary.EMPTY;
        Summary raw1 = Summary.EMPTY;
        if (ctx.runs(Part.RAW)) {
            ctx.section("raw engine: BatchClassifier alone, texts in memory; searching caller threads " + ctx.callers
                    + " x intra-op threads " + ctx.intraOps + " x batch sizes 1, " + ctx.batchSizes);
            search = BenchSearch.run(ctx, bundle, conf, texts, warmTexts, firstPass);
            best = search.best();
            rawBest = search.rate(best);
            raw1 = search.rate(search.batch1());
            double tpr = search.tokensPerRecord();
            for (Map.Entry<Point, List<BenchRaw.Run>> e : search.runs().entrySet()) {
                Point p = e.getKey();
                Summary s = search.rate(p);
                rows.add(new Row("raw engine, " + p.label() + (p.equals(best) ? " (BEST)" : ""), s, "rec/s",
                        BenchReport.fmt(s.median() * tpr) + " tok/s; model only " + BenchReport.fmt(
                                search.modelRate(p).median()) + " rec/s"));
            }
            bars.add(new Bar("raw engine, best: " + best.label(), rawBest.min(), rawBest.median(), rawBest.max()));
            Summary bestModel = search.modelRate(best);
            bars.add(new Bar("raw engine, best, model only", bestModel.min(), bestModel.median(), bestModel.max()));
            report.set("raw", BenchJson.searchJson(search));
        }
        if (firstPass.isEmpty()) {
            // Padding and arithmetic need the texts' token counts even when the raw engine is skipped.
            try (var c = dev.labelstream.inference.BatchClassifier.open(bundle, conf)) {
                BenchRaw.run(c, texts, 8, firstPass);
            }
        }
        // 9. The machine's GEMM rate, as ONNX Runtime reaches it.
        BenchGemm gemm = null;
        if (ctx.runs(Part.GEMM)) {
            ctx.section("GEMM rate: ONNX Runtime, one " + BenchGemm.SIZE + "^3 MatMul (fp32) and MatMulInteger"
                    + " (int8), intra-op 1 to " + cores + ", the best of each");
            gemm = BenchGemm.measure(cores);
        }
        int maxLength = conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength());
        int[] lengths = firstPass.stream().mapToInt(c -> Math.min(c.tokens(), maxLength)).toArray();
        double tokensPerRecord = java.util.Arrays.stream(lengths).average().orElse(Double.NaN);

        // 6. Padding efficiency, from the token counts of the texts.
        BenchPadding.Budget budget = new BenchPadding.Budget(conf.get(InferenceOptions.TOKEN_BUDGET),
                conf.get(InferenceOptions.MAX_SUB_BATCH), bundle.padToMultipleOf(), maxLength,
                conf.get(InferenceOptions.MIN_PADDING_EFFICIENCY));
        int jobBatch = conf.get(BatchingOptions.MAX_RECORDS);
        BenchPadding.Efficiency budgetEff = BenchPadding.tokenBudget(lengths, jobBatch, budget);
        BenchPadding.Efficiency naiveEff = BenchPadding.naive(lengths, jobBatch);
        report.set("padding", BenchJson.paddingJson(lengths, budget, jobBatch, ctx.batchSizes));

        // 8. Arithmetic.
        BenchFlops flops = BenchFlops.of(bundle.dir().resolve("config.json"),
                BenchPeer.matching(bundle.modelFile()).isPresent());
        double flopsPerRecord = flops.perRecord(lengths);

        // 2, 3, 5. The pipeline in its configurations, the naive job and latency, on the in-JVM broker.
        Configuration bestConf = best.applyTo(conf, ctx.userKeys);
        ThreadBudget budgetNow = ThreadBudget.of(conf, cores);
        Point newDefaults = new Point(budgetNow.asyncThreads(), budgetNow.intraOpThreads(), budgetNow.maxSubBatch());
        List<BenchPipeline.Result> pipeline = new ArrayList<>();
        List<BenchPipeline.Result> cpuDefaults = new ArrayList<>();
        List<BenchPipeline.Result> oldDefaults = new ArrayList<>();
        List<BenchPipeline.Result> naive = new ArrayList<>();
        BenchPipeline.Result latency = null;
        BenchPipeline.Result latencyAlo = null;
        java.util.Optional<Configuration> otherModel = BenchModels.other(conf);
        List<BenchPipeline.Result> other = new ArrayList<>();
        // (b) is fp32 against fp32: with the int8 built-in model the defaults before run the fp32 one, and its CPU
        // defaults are the models part's runs, or the defaults part's own when that part is skipped.
        java.util.Optional<Configuration> fp32 = BenchModels.fp32Counterpart(conf);
        Configuration beforeConf = OLD_DEFAULTS.applyTo(fp32.orElse(conf), ctx.userKeys);
        List<BenchPipeline.Result> fp32Defaults = fp32.isPresent() && ctx.runs(Part.MODELS) ? other
                : new ArrayList<>();
        String tag = BenchModels.tag(conf);
        String beforeTag = BenchModels.tag(beforeConf);
        List<BenchPipeline.Result> noDrift = new ArrayList<>();
        BenchSql.Measured sql = null;
        BenchPolicy.Measured policy = null;
        BenchShadow.Measured shadow = null;
        Point pipelinePoint = new Point(bestConf.get(JobOptions.ASYNC_THREADS),
                bestConf.get(InferenceOptions.INTRA_OP_THREADS), bestConf.get(InferenceOptions.MAX_SUB_BATCH));
        boolean needKafka = ctx.runs(Part.PIPELINE) || ctx.runs(Part.DEFAULTS) || ctx.runs(Part.NAIVE)
                || ctx.runs(Part.LATENCY) || ctx.runs(Part.SQL) || ctx.runs(Part.POLICY)
                || ctx.runs(Part.SHADOW)
                || (ctx.runs(Part.MODELS) && otherModel.isPresent());
        if (needKafka) {
            ctx.out.println("starting an embedded Kafka broker (KRaft) ...");
            ctx.out.flush();
            Set<Long> before = BenchCpu.threadIds();
            try (EmbeddedKafka kafka = EmbeddedKafka.start(BenchCommand.BROKER)) {
                Set<Long> broker = new HashSet<>(BenchCpu.threadIds());
                broker.removeAll(before);
                // Held open so that every job run with the best options shares one warm session, as the slots of
                // a TaskManager do.
                try (var held = dev.labelstream.inference.BatchClassifier.open(bundle, bestConf)) {
                    ctx.warmJvm(kafka, conf, corpus, broker);
                    if (search != null) {
                        // The search ran in a cold JVM, its callers sharing the cores with the JIT compiling the
                        // bench's start; measured again here, the best is the higher median of the two, so that no
                        // ratio is against a raw engine the compiler slowed.
                        ctx.section("raw engine again, " + best.label() + ", after the JVM warm-up (its best is"
                                + " the higher median of the search's runs and these)");
                        Summary cold = rawBest;
                        Summary warm = BenchSearch.summary(BenchSearch.again(ctx, held, best, texts, warmTexts),
                                BenchRaw.Run::textsPerSecond);
                        rows.add(new Row("raw engine, " + best.label() + ", again after the JVM warm-up", warm,
                                "rec/s", BenchReport.fmt(warm.median() * search.tokensPerRecord()) + " tok/s; the"
                                        + " search's runs: " + BenchReport.fmt(cold.median()) + " rec/s median"));
                        if (better(warm.median(), cold.median())) {
                            rawBest = warm;
                        }
                        report.put("raw_again_after_warmup_median", warm.median());
                    }
                    if (ctx.runs(Part.PIPELINE)) {
                        ctx.section("pipeline: Kafka -> decode -> micro-batch -> async classify -> Kafka, exactly-once,"
                                + " pre-loaded topic; " + jobOpts(pipelinePoint) + " (the raw engine's best"
                                + (pipelinePoint.equals(best) ? "" : ", with the options set by --set") + ")");
                        for (int r = 1; r <= ctx.repeat; r++) {
                            pipeline.add(ctx.pipeline(kafka, bestConf, "pipeline", r, corpus,
                                    Plan.throughput(ctx.warmup, n), broker));
                        }
                    }
                    if (ctx.runs(Part.DEFAULTS)) {
                        if (newDefaults.equals(pipelinePoint) && !pipeline.isEmpty()) {
                            ctx.section("pipeline, CPU defaults of " + cores + " cores: " + jobOpts(newDefaults)
                                    + ": the same options as above, not run again");
                            cpuDefaults = pipeline;
                        } else {
                            ctx.section("pipeline, CPU defaults of " + cores + " cores (options unset): "
                                    + jobOpts(newDefaults));
                            for (int r = 1; r <= ctx.repeat; r++) {
                                cpuDefaults.add(ctx.pipeline(kafka, conf, "cpu-defaults", r, corpus,
                                        Plan.throughput(ctx.warmup, n), broker));
                            }
                        }
                        if (fp32.isPresent() && fp32Defaults != other) {
                            ctx.section("pipeline, fp32 " + DefaultModel.builtin(fp32.get()) + ", CPU defaults"
                                    + " (options unset): " + jobOpts(newDefaults) + "; the fp32 side of CPU defaults /"
                                    + " defaults before (the models part, which runs it otherwise, is skipped)");
                            for (int r = 1; r <= ctx.repeat; r++) {
                                fp32Defaults.add(ctx.pipeline(kafka, fp32.get(), "fp32-cpu-defaults", r, corpus,
                                        Plan.throughput(ctx.warmup, n), broker));
                            }
                        }
                        ctx.section("pipeline, the defaults before (" + jobOpts(OLD_DEFAULTS) + ")" + (fp32.isPresent()
                                ? ", fp32 " + DefaultModel.builtin(fp32.get()) + " (the bench's model is int8)" : ""));
                        for (int r = 1; r <= ctx.repeat; r++) {
                            oldDefaults.add(ctx.pipeline(kafka, beforeConf, "old-defaults", r, corpus,
                                    Plan.throughput(ctx.warmup, n), broker));
                        }
                    }
                    if (ctx.runs(Part.MODELS) && otherModel.isPresent()) {
                        ctx.section("pipeline, the other built-in model " + DefaultModel.builtin(otherModel.get())
                                + ", CPU defaults (options unset)");
                        for (int r = 1; r <= ctx.repeat; r++) {
                            other.add(ctx.pipeline(kafka, otherModel.get(), "other-model", r, corpus,
                                    Plan.throughput(ctx.warmup, n), broker));
                        }
                    }
                    if (ctx.runs(Part.SQL)) {
                        // The job's batch size on both sides: ML_PREDICT's options take what the job resolves.
                        Configuration off = ThreadBudget.withCpuBatching(new Configuration(bestConf));
                        off.set(dev.labelstream.drift.DriftOptions.ENABLED, false);
                        ctx.section("sql: ML_PREDICT on the MiniCluster vs the DataStream pipeline, both drift off, "
                                + opts(pipelinePoint) + ", batching.max-records " + off.get(
                                        BatchingOptions.MAX_RECORDS));
                        for (int r = 1; r <= ctx.repeat; r++) {
                            noDrift.add(ctx.pipeline(kafka, off, "pipeline-no-drift", r, corpus,
                                    Plan.throughput(ctx.warmup, n), broker));
                        }
                        sql = BenchSql.run(ctx, kafka, off, corpus);
                    }
                    if (ctx.runs(Part.POLICY)) {
                        BenchPolicy.Document doc = BenchPolicy.fromThresholds(bundle, conf);
                        ctx.section("policy: the pipeline with the CPU defaults (" + jobOpts(newDefaults) + ") without"
                                + " and with a policy topic carrying " + doc.label() + " (the model's thresholds as a"
                                + " published policy), in pairs: " + doc.json());
                        policy = BenchPolicy.run(ctx, kafka, conf, corpus, broker, doc);
                    }
                    if (ctx.runs(Part.SHADOW)) {
                        shadow = BenchShadow.run(ctx, kafka, bundle, conf, corpus, broker);
                    }
                    if (ctx.runs(Part.NAIVE)) {
                        ctx.section("naive job: the same job with batching.max-records=1 (one record per model call)");
                        Configuration naiveConf = new Configuration(bestConf);
                        naiveConf.set(BatchingOptions.MAX_RECORDS, 1);
                        for (int r = 1; r <= ctx.repeat; r++) {
                            naive.add(ctx.pipeline(kafka, naiveConf, "naive", r, corpus,
                                    Plan.throughput(ctx.warmup, n), broker));
                        }
                    }
                    if (ctx.runs(Part.LATENCY)) {
                        Double offered = ctx.rate;
                        if (offered == null) {
                            double peak = Summary.of(pipeline.stream().mapToDouble(BenchPipeline.Result::peakRate)
                                    .toArray()).median();
                            if (Double.isNaN(peak)) {
                                peak = rawBest.median();
                            }
                            offered = Double.isNaN(peak) ? null : ctx.load * peak;
                        }
                        if (offered == null) {
                            ctx.out.println("latency: skipped (no peak measured to offer a fraction of; give --rate)");
                        } else {
                            ctx.section(String.format(Locale.ROOT, "latency: the pipeline at a fixed offered load of"
                                    + " %s rec/s for %s, exactly-once, then at-least-once", BenchReport.fmt(offered),
                                    TimeUtils.formatWithHighestUnit(ctx.latencyDuration)));
                            latency = ctx.pipeline(kafka, bestConf, "latency", 1, corpus,
                                    new Plan(ctx.warmup, 0, offered, 0, ctx.latencyDuration), broker);
                            Configuration alo = new Configuration(bestConf);
                            alo.set(KafkaOptions.DELIVERY_GUARANTEE, KafkaOptions.Guarantee.AT_LEAST_ONCE);
                            latencyAlo = ctx.pipeline(kafka, alo, "latency-at-least-once", 1, corpus,
                                    new Plan(ctx.warmup, 0, offered, 0, ctx.latencyDuration), broker);
                        }
                    }
                }
            }
        }
        Summary pipeCommitted = BenchJson.committed(pipeline);
        Summary pipeProcessed = BenchJson.processed(pipeline);
        Summary naiveCommitted = BenchJson.committed(naive);
        Summary newCommitted = BenchJson.committed(cpuDefaults);
        Summary oldCommitted = BenchJson.committed(oldDefaults);
        Summary otherCommitted = BenchJson.committed(other);
        Summary fp32Committed = BenchJson.committed(fp32Defaults);
        BenchFlops otherFlops = BenchFlops.UNKNOWN;
        String otherName = "";
        if (!other.isEmpty() || !fp32Defaults.isEmpty() || (fp32.isPresent() && !oldDefaults.isEmpty())) {
            ModelBundle otherBundle = ModelBundle.load(otherModel.get());
            otherName = otherBundle.name();
            otherFlops = BenchFlops.of(otherBundle.dir().resolve("config.json"), false);
        }
        double otherFlopsPerRecord = otherFlops.perRecord(lengths);
        addPipelineRows("pipeline, exactly-once, best options (" + jobOpts(pipelinePoint) + ")", pipeline,
                tokensPerRecord, flopsPerRecord);
        addPipelineRows("pipeline, " + tag + "CPU defaults (" + jobOpts(newDefaults) + ")", cpuDefaults,
                tokensPerRecord, flopsPerRecord);
        if (fp32Defaults != other) {
            addPipelineRows("pipeline, fp32 CPU defaults (" + jobOpts(newDefaults) + ")", fp32Defaults,
                    tokensPerRecord, otherFlopsPerRecord);
        }
        addPipelineRows("pipeline, " + beforeTag + "defaults before (" + jobOpts(OLD_DEFAULTS) + ")", oldDefaults,
                tokensPerRecord, fp32.isPresent() ? otherFlopsPerRecord : flopsPerRecord);
        addPipelineRows("naive job (max-records=1, " + opts(pipelinePoint) + ")", naive, tokensPerRecord,
                flopsPerRecord);
        report.set("pipeline", BenchJson.pipelineJson(pipeline, jobOpts(pipelinePoint)));
        report.set("pipeline_cpu_defaults", BenchJson.pipelineJson(cpuDefaults, tag + jobOpts(newDefaults) + "; "
                + budgetNow.reason()));
        if (fp32Defaults != other && !fp32Defaults.isEmpty()) {
            report.set("pipeline_fp32_cpu_defaults", BenchJson.pipelineJson(fp32Defaults, otherName
                    + ", CPU defaults, " + jobOpts(newDefaults)));
        }
        report.set("pipeline_defaults_before", BenchJson.pipelineJson(oldDefaults, (fp32.isPresent() ? otherName
                + ", " : "") + jobOpts(OLD_DEFAULTS)));
        report.set("naive", BenchJson.pipelineJson(naive, opts(pipelinePoint) + ", batching.max-records 1"));
        if (!other.isEmpty()) {
            addPipelineRows("pipeline, " + otherName + ", CPU defaults", other, tokensPerRecord, otherFlopsPerRecord);
            report.set("pipeline_other_model", BenchJson.pipelineJson(other, otherName + ", CPU defaults"));
        }
        Summary noDriftCommitted = BenchJson.committed(noDrift);
        if (sql != null) {
            addPipelineRows("pipeline, drift off (" + jobOpts(pipelinePoint) + ")", noDrift, tokensPerRecord,
                    flopsPerRecord);
            rows.add(new Row("sql: ML_PREDICT, drift off (same options), committed", sql.rate(), "rec/s",
                    "max-concurrent-operations " + sql.maxConcurrent() + "; WITH " + sql.options()));
            rows.add(new Row("sql: batch size, mean", sql.meanBatch(), "records", "the provider's batchSize metric"));
            report.set("pipeline_drift_off", BenchJson.pipelineJson(noDrift, jobOpts(pipelinePoint) + ", drift off"));
            report.set("sql", BenchReport.JSON.valueToTree(Map.of("committed_per_s", sql.rate().median(),
                    "mean_batch_size", sql.meanBatch().median(), "max_concurrent_operations", sql.maxConcurrent(),
                    "options", sql.options())));
        }
        if (policy != null) {
            String label = policy.policy().label();
            addPipelineRows("pipeline, no policy topic (CPU defaults)", policy.without(), tokensPerRecord,
                    flopsPerRecord);
            addPipelineRows("pipeline, policy topic with " + label + " (CPU defaults)", policy.with(), tokensPerRecord,
                    flopsPerRecord);
            rows.add(new Row("policy: decisions naming " + label + ", policy-topic runs",
                    Summary.of(policy.decidedByPolicy()), "records", "of " + policy.classifiedWith() + " classified"
                            + (policy.real() ? "" : "; PROBLEM: " + BenchPolicy.problem(policy))));
            report.set("policy", BenchPolicy.json(policy, jobOpts(newDefaults)));
        }
        if (shadow != null) {
            List<String> problems = shadow.problems();
            addPipelineRows("pipeline, no shadow (CPU defaults)", shadow.without(), tokensPerRecord, flopsPerRecord);
            for (double rate : shadow.with().keySet()) {
                addPipelineRows("pipeline, shadow at sample rate " + rate + " (CPU defaults with a shadow)",
                        shadow.with(rate), tokensPerRecord, flopsPerRecord);
                rows.add(new Row("shadow " + rate + ": records compared, per run", Summary.of(shadow.with(rate)
                        .stream().mapToDouble(r -> r.shadow() == null ? Double.NaN : r.shadow().compared()).toArray()),
                        "records", BenchShadow.figures(shadow, rate)));
            }
            if (!problems.isEmpty()) {
                rows.add(new Row("shadow: PROBLEM", Summary.EMPTY, "", String.join("; ", problems)));
            }
            report.set("shadow", BenchShadow.json(shadow, jobOpts(newDefaults)));
        }
        if (gemm != null) {
            rows.add(new Row("GEMM rate, fp32 MatMul " + BenchGemm.SIZE + "^3 (ONNX Runtime)", Summary.of(gemm.fp32()),
                    "GFLOP/s", "intra-op " + gemm.threads() + " (best of 1 to the cores); the machine's fp32 rate as ORT"
                            + " reaches it"));
            rows.add(new Row("GEMM rate, int8 MatMulInteger " + BenchGemm.SIZE + "^3 (ONNX Runtime)",
                    Summary.of(gemm.int8()), "GOP/s", "uint8 x int8 -> int32, intra-op " + gemm.int8Threads()));
            report.set("gemm", BenchReport.JSON.valueToTree(Map.of("fp32_gflops", gemm.fp32(), "int8_gops",
                    gemm.int8(), "size", BenchGemm.SIZE, "fp32_threads", gemm.threads(), "int8_threads",
                    gemm.int8Threads())));
        }

        // 4. The independent peer.
        BenchPeer.Measured peer = BenchPeer.Measured.skipped("skipped (--skip peer)");
        if (ctx.runs(Part.PEER)) {
            peer = BenchPeer.measure(ctx, conf, bundle, texts, warmTexts, best);
            if (peer.measured()) {
                rows.add(new Row("peer: langchain4j " + peer.model().simpleName() + " + head (its own defaults)",
                        peer.rate(), "rec/s", BenchReport.fmt(peer.tokenRate().median()) + " tok/s; truncates at "
                        + peer.maxTokens() + " tokens; one text per model call on its own pool"));
                rows.add(new Row("raw engine at the peer's truncation, " + best.label(), peer.engineRate(), "rec/s",
                        BenchReport.fmt(peer.engineTokenRate().median()) + " tok/s; same work as the peer"));
                bars.add(new Bar("peer (langchain4j, " + peer.maxTokens() + " tokens)", peer.rate().min(),
                        peer.rate().median(), peer.rate().max()));
                bars.add(new Bar("raw engine, " + peer.maxTokens() + " tokens, best", peer.engineRate().min(),
                        peer.engineRate().median(), peer.engineRate().max()));
            }
            report.set("peer", BenchJson.peerJson(peer));
        }

        // 5. Latency.
        double p99Eo = Double.NaN;
        double p99Alo = Double.NaN;
        for (BenchPipeline.Result l : new BenchPipeline.Result[] {latency, latencyAlo}) {
            if (l == null) {
                continue;
            }
            boolean eo = l == latency;
            String g = eo ? "exactly-once" : "at-least-once";
            report.set(eo ? "latency" : "latency_at_least_once", BenchJson.latencyJson(l));
            double[] ms = java.util.Arrays.stream(l.paced().latencies()).asDoubleStream().toArray();
            double p50 = BenchStats.percentile(ms, 50);
            double p95 = BenchStats.percentile(ms, 95);
            double p99 = BenchStats.percentile(ms, 99);
            if (eo) {
                p99Eo = p99;
            } else {
                p99Alo = p99;
            }
            String at = g + ", at " + BenchReport.fmt(l.offeredRate()) + " rec/s offered";
            rows.add(new Row("latency p50, " + at, Summary.of(p50), "ms", "produce -> committed output"));
            rows.add(new Row("latency p95, " + at, Summary.of(p95), "ms", ""));
            rows.add(new Row("latency p99, " + at, Summary.of(p99), "ms", l.paced().classified() + " of "
                    + l.pacedSent() + " records received" + (l.ok() ? "" : "; " + l.problem())));
            int[] sizes = BenchStats.groupSizes(l.paced().batchKeys);
            if (eo) {
                batchBuckets = BenchStats.powerOfTwoBuckets(sizes);
            }
            rows.add(new Row("batch size in the " + g + " latency run, mean", Summary.of(BenchStats.mean(sizes)),
                    "records", sizes.length + " batches; " + BenchJson.bucketsText(BenchStats.powerOfTwoBuckets(
                            sizes)) + "; p50 inference " + BenchReport.fmt(l.metrics().p50InferenceMs())
                            + " ms per batch"));
            latencyBars.add(new BenchChart.Latency("pipeline, " + g + " @ " + BenchReport.fmt(l.offeredRate())
                    + " rec/s", p50, p95, p99));
        }

        rows.add(new Row("padding efficiency, token budget, batches of " + jobBatch, Summary.of(budgetEff.value()),
                "real/padded", "sorted, split under " + budget.tokenBudget() + " tokens, padded to x"
                        + budget.padMultiple() + "; " + budgetEff.modelCalls() + " model calls"));
        rows.add(new Row("padding efficiency, naive, batches of " + jobBatch, Summary.of(naiveEff.value()),
                "real/padded", "arrival order, padded to the longest; " + naiveEff.modelCalls() + " model calls"));
        rows.add(new Row("model arithmetic per record (estimate)", Summary.of(flopsPerRecord / 1e6), "MFLOP",
                BenchReport.fmt(flopsPerRecord / tokensPerRecord / 1e6) + " MFLOP/token at "
                        + BenchReport.fmt(tokensPerRecord) + " real tokens per record; sizes from " + flops.source()));
        if (search != null) {
            rows.add(new Row("raw engine at its best, achieved", Summary.of(rawBest.median() * flopsPerRecord / 1e9),
                    "GFLOP/s", "useful (unpadded) arithmetic; " + BenchReport.fmt(rawBest.median() * tokensPerRecord)
                            + " tok/s"));
        }

        // 7. Where a pipeline record's time goes.
        String breakdown = "";
        if (!pipeline.isEmpty()) {
            BenchPipeline.Result median = BenchJson.medianRun(pipeline);
            breakdown = BenchJson.breakdownText(median, n);
            report.set("breakdown", BenchJson.breakdownJson(median, n));
        }

        List<Ratio> ratios = new ArrayList<>();
        String bestLabel = "raw engine at its best (" + best.label() + ", raw texts)";
        ratios.add(new Ratio("pipeline / raw engine at its best", BenchStats.ratio(pipeCommitted.median(),
                rawBest.median()), "pipeline committed (exactly-once, " + jobOpts(pipelinePoint) + ") / " + bestLabel
                + "; target >= 0.9"));
        ratios.add(new Ratio("pipeline processed / raw engine at its best", BenchStats.ratio(pipeProcessed.median(),
                rawBest.median()), "without checkpoint granularity"));
        // The raw search's best point need not be the pipeline's (on 2 cores the CPU defaults commit more): the
        // better of the two by median committed, both on the bench's own model.
        boolean defaultsBest = better(newCommitted.median(), pipeCommitted.median());
        List<BenchPipeline.Result> atBest = defaultsBest ? cpuDefaults : pipeline;
        String atBestOpts = tag + (defaultsBest ? "CPU defaults, " + jobOpts(newDefaults) : "best options, "
                + jobOpts(pipelinePoint));
        ratios.add(new Ratio("pipeline at its best / raw engine at its best", BenchStats.ratio(BenchJson.committed(
                atBest).median(), rawBest.median()), "pipeline committed (exactly-once), the better of best options"
                + " and CPU defaults by median committed: " + atBestOpts + " / " + bestLabel + "; target >= 0.9"));
        ratios.add(new Ratio("pipeline at its best processed / raw engine at its best", BenchStats.ratio(
                BenchJson.processed(atBest).median(), rawBest.median()), "the same runs (" + atBestOpts
                + "), without checkpoint granularity"));
        if (fp32.isPresent()) {
            String fp32Name = "fp32 " + DefaultModel.builtin(fp32.get());
            ratios.add(new Ratio("pipeline CPU defaults / defaults before", BenchStats.ratio(fp32Committed.median(),
                    oldCommitted.median()), "committed; " + fp32Name + " on both sides: CPU defaults "
                    + jobOpts(newDefaults) + (fp32Defaults == other ? " (the models part's runs)" : "")
                    + " vs defaults before " + jobOpts(OLD_DEFAULTS) + "; target >= 1.4"));
            ratios.add(new Ratio("pipeline int8 CPU defaults / fp32 defaults before", BenchStats.ratio(
                    newCommitted.median(), oldCommitted.median()), "committed; model and threads together: int8 "
                    + DefaultModel.builtin(conf) + ", " + jobOpts(newDefaults) + " vs " + fp32Name + ", "
                    + jobOpts(OLD_DEFAULTS)));
        } else {
            ratios.add(new Ratio("pipeline CPU defaults / defaults before", BenchStats.ratio(newCommitted.median(),
                    oldCommitted.median()), "committed; " + tag + jobOpts(newDefaults) + " vs " + tag
                    + jobOpts(OLD_DEFAULTS) + "; target >= 1.4"));
        }
        ratios.add(new Ratio("raw best / raw batch 1", BenchStats.ratio(rawBest.median(), raw1.median()),
                "raw texts, same threads"));
        ratios.add(new Ratio("pipeline / naive", BenchStats.ratio(pipeCommitted.median(), naiveCommitted.median()),
                "committed, same options with batching.max-records=1"));
        ratios.add(new Ratio("raw engine at its best / peer, same truncation", BenchStats.ratio(
                peer.engineRate().median(), peer.rate().median()), "raw engine " + best.label() + " at the peer's "
                + peer.maxTokens() + " tokens / langchain4j with its own defaults; target >= 1.4"));
        ratios.add(new Ratio("padding efficiency, token budget / naive", BenchStats.ratio(budgetEff.value(),
                naiveEff.value()), BenchReport.fmt(budgetEff.value()) + " vs " + BenchReport.fmt(naiveEff.value())
                        + ", batches of " + jobBatch));
        if (latencyAlo != null) {
            double bound = conf.get(BatchingOptions.LINGER).toMillis() + 3 * latencyAlo.metrics().p50InferenceMs();
            ratios.add(new Ratio("latency p99 at-least-once / (linger + 3 x batch inference)", BenchStats.ratio(
                    p99Alo, bound), BenchReport.fmt(p99Alo) + " ms vs " + BenchReport.fmt(bound) + " ms (p50 batch"
                    + " inference of that run); target <= 1; exactly-once p99 " + BenchReport.fmt(p99Eo) + " ms"));
        }
        if (!other.isEmpty()) {
            boolean thisInt8 = BenchModels.int8(conf);
            double int8Rate = thisInt8 ? newCommitted.median() : otherCommitted.median();
            double fp32Rate = thisInt8 ? otherCommitted.median() : newCommitted.median();
            ratios.add(new Ratio("int8 pipeline / fp32 pipeline, CPU defaults", BenchStats.ratio(int8Rate, fp32Rate),
                    "committed, exactly-once, both with the CPU defaults (options unset); target >= 1.7 (>= 1.5 to"
                            + " make int8 the CPU default)"));
        }
        if (sql != null) {
            ratios.add(new Ratio("sql / DataStream pipeline, drift off", BenchStats.ratio(sql.rate().median(),
                    noDriftCommitted.median()), "committed, same model options; mean SQL batch " + BenchReport.fmt(
                    sql.meanBatch().median()) + "; goal >= 0.9"));
        }
        if (policy != null) {
            ratios.add(new Ratio("pipeline with policy topic / without", policy.ratio(), "committed, CPU defaults,"
                    + " runs in pairs; processed " + BenchReport.fmt(policy.processedRatio()) + "; the policy chain:"
                    + " two-input broadcast batcher, decoded records serialized once into it; "
                    + policy.decidedByPolicy() + " of " + policy.classifiedWith() + " decisions name "
                    + policy.policy().label()));
        }
        if (shadow != null) {
            String problem = shadow.problems().isEmpty() ? "" : "; PROBLEM: " + String.join("; ", shadow.problems());
            for (double rate : shadow.with().keySet()) {
                ratios.add(new Ratio("pipeline with shadow at " + rate + " / without", shadow.ratio(rate),
                        "committed; without a shadow " + jobOpts(newDefaults) + ", with one " + shadow.withOptions()
                                + " (CPU defaults unless set); runs in rounds;"
                                + " processed " + BenchReport.fmtRatio(shadow.processedRatio(rate)) + "; shadow "
                                + shadow.candidate() + ": " + BenchShadow.figures(shadow, rate) + problem));
            }
        }
        if (gemm != null) {
            boolean thisInt8 = BenchModels.int8(conf);
            if (search != null) {
                double achieved = rawBest.median() * flopsPerRecord / 1e9;
                ratios.add(new Ratio("raw engine at its best / " + (thisInt8 ? "int8" : "fp32") + " GEMM rate",
                        BenchStats.ratio(achieved, thisInt8 ? gemm.int8() : gemm.fp32()), BenchReport.fmt(achieved)
                        + " GFLOP/s useful vs " + BenchReport.fmt(thisInt8 ? gemm.int8() : gemm.fp32())
                        + " G(FL)OP/s of one large ORT GEMM"));
            }
            if (!other.isEmpty()) {
                double achieved = otherCommitted.median() * otherFlops.perRecord(lengths) / 1e9;
                ratios.add(new Ratio("other model's pipeline / " + (thisInt8 ? "fp32" : "int8") + " GEMM rate",
                        BenchStats.ratio(achieved, thisInt8 ? gemm.fp32() : gemm.int8()), BenchReport.fmt(achieved)
                        + " G(FL)OP/s useful, committed, vs " + BenchReport.fmt(thisInt8 ? gemm.fp32() : gemm.int8())
                        + " of one large ORT GEMM"));
            }
        }
        report.set("ratios", BenchJson.ratiosJson(ratios));

        String tables = "\n" + BenchReport.table(rows) + "\n" + BenchReport.ratios(ratios) + breakdown;
        ctx.out.print(tables);
        text.append(tables);
        report.put("table", tables);
        if (ctx.runs(Part.FEED)) {
            BenchFeed.run(ctx, conf, corpus, report, text);
        }
        String title = "labelstream bench: " + bundle.name() + ", " + cores + " cores";
        Files.createDirectories(ctx.results);
        Files.writeString(ctx.results.resolve("chart.svg"), BenchChart.svg(title, bars, latencyBars, batchBuckets),
                StandardCharsets.UTF_8);
        return 0;
    }

    /** Whether {@code candidate} beats {@code current}: larger, or the only one measured. */
    static boolean better(double candidate, double current) {
        return !Double.isNaN(candidate) && (Double.isNaN(current) || candidate > current);
    }

    private void addPipelineRows(String label, List<BenchPipeline.Result> runs, double tokensPerRecord,
            double flopsPerRecord) {
        if (runs.isEmpty()) {
            return;
        }
        Summary committed = BenchJson.committed(runs);
        rows.add(new Row(label + ", committed", committed, "rec/s", BenchReport.fmt(committed.median()
                * tokensPerRecord) + " tok/s, " + BenchReport.fmt(committed.median() * flopsPerRecord / 1e9)
                + " GFLOP/s; read_committed receive times"));
        rows.add(new Row(label + ", processed", BenchJson.processed(runs), "rec/s", "from the job's decision times"));
        bars.add(new Bar(label.length() > 60 ? label.substring(0, label.indexOf(" (")) : label, committed.min(),
                committed.median(), committed.max()));
    }
}
