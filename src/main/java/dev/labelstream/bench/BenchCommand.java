package dev.labelstream.bench;

import dev.labelstream.job.JobOptions;
import dev.labelstream.config.ModelArgs;
import dev.labelstream.config.Options;
import dev.labelstream.demo.EmbeddedKafka;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.bench.BenchChart.Bar;
import dev.labelstream.bench.BenchPipeline.Plan;
import dev.labelstream.bench.BenchReport.Ratio;
import dev.labelstream.bench.BenchReport.Row;
import dev.labelstream.bench.BenchStats.Summary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code labelstream bench}: throughput and latency of the pipeline against the raw engine, a job without
 * micro-batching and an independent in-process peer, on the same model and texts, in one run; or, with {@code
 * --sweep}, the throughput/latency trade-off of the batching settings. Prints a table and writes report.json,
 * chart.svg and table.txt to the results folder.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measure, in one run on the same model and texts: (1) the raw engine (BatchClassifier alone) at batch 1"
                    + " and at its best batch size, end to end and model calls only; (2) the full pipeline"
                    + " (in-JVM Kafka -> Flink MiniCluster -> Kafka, exactly-once) from pre-loaded records;"
                    + " (3) the same job without micro-batching; (4) an independent peer, langchain4j's in-process"
                    + " MiniLM-L6 (build with -Pbench); (5) end-to-end latency at a fixed offered load; (6) the"
                    + " padding efficiency of token-budget batching against naive fixed-size batches.",
            "Prints min / median / max over --repeat runs and the ratios, and writes report.json, chart.svg and"
                    + " table.txt to --results.",
            "With --sweep: the throughput / latency trade-off over batching.max-records, inference.token-budget"
                    + " and batching.linger instead.",
            "Build and run: mvn -B -Pbench package -DskipTests && java -jar target/labelstream.jar bench"})
public final class BenchCommand implements Callable<Integer> {
    /** Parts of the bench that --skip can leave out. */
    enum Part { RAW, PIPELINE, NAIVE, PEER, LATENCY }

    /**
     * The bench's broker: one partition for the internal topics, so the first consumer group and the first
     * transaction do not wait for 50 partitions to be created.
     */
    static final Map<String, String> BROKER = Map.of("offsets.topic.num.partitions", "1",
            "transaction.state.log.num.partitions", "1");

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--corpus", paramLabel = "FILE",
            description = "Texts to send: one per line, or JSON Lines with a \"text\" field (.gz read compressed)."
                    + " Default: the demo's 400 SpamAssassin messages (short and long, ~1150 chars mean).")
    Path corpusFile;

    @Option(names = "--records", paramLabel = "N",
            description = "Measured records per run (default: 200; 150 per setting with --sweep). The corpus is"
                    + " cycled.")
    Integer records;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "32",
            description = "Warm-up records before each measurement, not counted (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Runs of each measurement; the table shows min / median / max (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--batch-sizes", paramLabel = "N,N", split = ",", defaultValue = "8,32,128",
            description = "Raw-engine batch sizes to try besides 1; the best is repeated (default: ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--raw-threads", paramLabel = "N", defaultValue = "1",
            description = "Caller threads of the raw engine (default: ${DEFAULT-VALUE}). The job classifies"
                    + " async.threads batches at once: give the same number to compare like with like on a CPU.")
    int rawThreads;

    @Option(names = "--duration", paramLabel = "TIME",
            description = "Length of the latency run at a fixed offered load (default: 20s; 10s per setting with"
                    + " --sweep).")
    String duration;

    @Option(names = "--load", paramLabel = "FRACTION", defaultValue = "0.5",
            description = "Offered load of the latency run, as a fraction of the measured pipeline peak (median"
                    + " processed throughput; default: ${DEFAULT-VALUE}).")
    double load;

    @Option(names = "--rate", paramLabel = "PER_SECOND",
            description = "Offered load of the latency run in records/s, instead of --load.")
    Double rate;

    @Option(names = "--checkpoint-interval", paramLabel = "TIME", defaultValue = "1s",
            description = "Checkpoint interval of the job: exactly-once outputs become visible at checkpoints, so it"
                    + " bounds latency and the granularity of committed throughput (default: ${DEFAULT-VALUE}).")
    String checkpointInterval;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "1",
            description = "Job parallelism and input partitions (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Job option for the raw engine and every job run, e.g. --set inference.token-budget=4096"
                    + " (see 'labelstream run --help').")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--skip", paramLabel = "PART", split = ",",
            description = "Parts to leave out: raw, pipeline, naive, peer, latency.")
    Set<Part> skip = EnumSet.noneOf(Part.class);

    @Option(names = "--results", paramLabel = "DIR",
            description = "Folder for report.json, chart.svg and table.txt (default: results/bench-<timestamp>).")
    Path results;

    @Option(names = "--sweep", description = "Sweep the batching settings instead (throughput/latency trade-off).")
    boolean sweep;

    @Option(names = "--sweep-max-records", paramLabel = "N,N", split = ",", defaultValue = "8,32,128",
            description = "batching.max-records values (default: ${DEFAULT-VALUE}).")
    List<Integer> sweepMaxRecords;

    @Option(names = "--sweep-token-budget", paramLabel = "N,N", split = ",", defaultValue = "2048,32768",
            description = "inference.token-budget values; batching.max-tokens follows each (default:"
                    + " ${DEFAULT-VALUE}).")
    List<Integer> sweepTokenBudget;

    @Option(names = "--sweep-linger", paramLabel = "TIME,TIME", split = ",", defaultValue = "5ms,100ms",
            description = "batching.linger values (default: ${DEFAULT-VALUE}).")
    List<String> sweepLinger;

    @Option(names = "--sweep-grid",
            description = "Every combination of the sweep values (default: one setting at a time around the"
                    + " configured defaults).")
    boolean sweepGrid;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private PrintWriter out;
    private int runCounter;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        int n = records != null ? records : sweep ? 150 : 200;
        Duration latencyDuration = TimeUtils.parseDuration(duration != null ? duration : sweep ? "10s" : "20s");
        check(n >= 1 && warmup >= 0 && repeat >= 1 && parallelism >= 1 && rawThreads >= 1, "--records, --repeat,"
                + " --parallelism and --raw-threads must be >= 1 and --warmup >= 0");
        check(batchSizes.stream().allMatch(b -> b >= 1), "--batch-sizes must be >= 1");
        check(load > 0 && load <= 1, "--load must be in (0, 1]");
        check(rate == null || rate > 0, "--rate must be > 0");
        BenchCorpus corpus = corpusFile == null ? BenchCorpus.demo() : BenchCorpus.load(corpusFile);
        Configuration conf = configuration();
        ModelBundle bundle = ModelBundle.load(conf);
        Path dir = resultsDir();

        // Held open for the whole bench: it keeps the one ONNX Runtime session of this JVM warm, and every job run
        // shares it, as the slots of a TaskManager do.
        try (BatchClassifier classifier = BatchClassifier.open(bundle, conf)) {
            ObjectNode report = BenchReport.JSON.createObjectNode();
            report.put("labelstream_bench", sweep ? "sweep" : "bench");
            report.put("started", LocalDateTime.now().toString());
            report.set("environment", environment(classifier));
            ObjectNode settings = settings(conf, bundle, n, latencyDuration);
            report.set("settings", settings);
            report.set("corpus", BenchJson.corpusJson(corpus));
            String header = header(bundle, classifier, corpus, conf, n);
            out.print(header);
            out.flush();
            StringBuilder text = new StringBuilder(header);
            int rc = sweep
                    ? sweep(conf, corpus, n, latencyDuration, report, text)
                    : bench(conf, bundle, classifier, corpus, n, latencyDuration, report, text);
            Files.createDirectories(dir);
            BenchReport.writeJson(dir.resolve("report.json"), report);
            Files.writeString(dir.resolve("table.txt"), text, StandardCharsets.UTF_8);
            out.printf("%nwrote %s, %s and %s%n", dir.resolve("report.json"), dir.resolve("chart.svg"),
                    dir.resolve("table.txt"));
            out.flush();
            return rc;
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The model options, --set overrides, and the bench's checkpoint interval and parallelism. */
    private Configuration configuration() {
        Configuration conf = modelArgs.toConfiguration();
        conf.addAll(Options.load((Path) null, sets));
        conf.set(JobOptions.CHECKPOINT_INTERVAL, TimeUtils.parseDuration(checkpointInterval));
        conf.set(JobOptions.PARALLELISM, parallelism);
        return conf;
    }

    // ------------------------------------------------------------------------------------------------ bench

    private int bench(Configuration conf, ModelBundle bundle, BatchClassifier classifier, BenchCorpus corpus, int n,
            Duration latencyDuration, ObjectNode report, StringBuilder text) throws Exception {
        List<String> texts = corpus.texts(0, n);
        List<String> warmTexts = corpus.texts(n, warmup);
        List<Row> rows = new ArrayList<>();
        List<Bar> bars = new ArrayList<>();
        List<BenchChart.Latency> latencyBars = new ArrayList<>();
        Map<String, Integer> batchBuckets = Map.of();

        // 1. Raw engine.
        Map<Integer, List<BenchRaw.Run>> raw = new TreeMap<>();
        List<Classification> firstPass = new ArrayList<>();
        int best = batchSizes.isEmpty() ? 1 : batchSizes.get(0);
        if (!skip.contains(Part.RAW)) {
            section("raw engine: BatchClassifier alone, " + (rawThreads == 1 ? "one caller thread"
                    : rawThreads + " caller threads") + ", texts in memory");
            if (!warmTexts.isEmpty()) {
                BenchRaw.run(classifier, warmTexts, batchSizes.stream().max(Integer::compare).orElse(1), rawThreads,
                        null);
                BenchRaw.run(classifier, warmTexts.subList(0, Math.min(8, warmTexts.size())), 1, rawThreads, null);
            }
            rawRun(raw, classifier, texts, 1, firstPass);
            for (int b : new TreeSet<>(batchSizes)) {
                if (b != 1) {
                    rawRun(raw, classifier, texts, b, null);
                }
            }
            best = bestBatch(raw, batchSizes);
            out.printf("  best batch size: %d%n", best);
            for (int r = 1; r < repeat; r++) {
                rawRun(raw, classifier, texts, 1, null);
                if (best != 1) {
                    rawRun(raw, classifier, texts, best, null);
                }
            }
        }
        Summary raw1 = summary(raw.get(1), BenchRaw.Run::textsPerSecond);
        Summary raw1Model = summary(raw.get(1), BenchRaw.Run::modelPerSecond);
        Summary rawBest = summary(raw.get(best), BenchRaw.Run::textsPerSecond);
        Summary rawBestModel = summary(raw.get(best), BenchRaw.Run::modelPerSecond);
        String engine = rawThreads == 1 ? "raw engine" : "raw engine x" + rawThreads + " threads";
        if (!raw.isEmpty()) {
            rows.add(new Row(engine + ", batch 1, raw texts", raw1, "rec/s", "tokenize + model, wall clock"));
            rows.add(new Row(engine + ", batch 1, pre-tokenized", raw1Model, "rec/s", "model calls only"));
            rows.add(new Row(engine + ", batch " + best + " (best), raw texts", rawBest, "rec/s", "tokenize + model"));
            rows.add(new Row(engine + ", batch " + best + " (best), pre-tokenized", rawBestModel, "rec/s",
                    "model calls only"));
            for (Map.Entry<Integer, List<BenchRaw.Run>> e : raw.entrySet()) {
                if (e.getKey() != 1 && e.getKey() != best) {
                    rows.add(new Row(engine + ", batch " + e.getKey() + ", raw texts",
                            summary(e.getValue(), BenchRaw.Run::textsPerSecond), "rec/s", "search run"));
                }
            }
            bars.add(new Bar(engine + ", batch 1", raw1.min(), raw1.median(), raw1.max()));
            bars.add(new Bar(engine + ", batch " + best + " (best)", rawBest.min(), rawBest.median(), rawBest.max()));
            bars.add(new Bar(engine + ", batch " + best + ", model only", rawBestModel.min(), rawBestModel.median(),
                    rawBestModel.max()));
            report.set("raw", BenchJson.rawJson(raw, best));
        }

        // 6. Padding efficiency, from the token counts of the texts (computed now: it needs only the tokenizer).
        if (firstPass.isEmpty()) {
            BenchRaw.run(classifier, texts, Math.max(1, best), firstPass);
        }
        int maxLength = conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength());
        int[] lengths = firstPass.stream().mapToInt(c -> Math.min(c.tokens(), maxLength)).toArray();
        BenchPadding.Budget budget = new BenchPadding.Budget(conf.get(InferenceOptions.TOKEN_BUDGET),
                conf.get(InferenceOptions.MAX_SUB_BATCH), bundle.padToMultipleOf(), maxLength,
                conf.get(InferenceOptions.MIN_PADDING_EFFICIENCY));
        int jobBatch = conf.get(BatchingOptions.MAX_RECORDS);
        BenchPadding.Efficiency budgetEff = BenchPadding.tokenBudget(lengths, jobBatch, budget);
        BenchPadding.Efficiency naiveEff = BenchPadding.naive(lengths, jobBatch);
        BenchPadding.Efficiency bucketEff = BenchPadding.byBucket(lengths, jobBatch, budget);
        report.set("padding", paddingJson(lengths, budget, jobBatch, raw));

        // 2, 3. The pipeline and the job without micro-batching, on the in-JVM broker.
        List<BenchPipeline.Result> pipeline = new ArrayList<>();
        List<BenchPipeline.Result> naive = new ArrayList<>();
        BenchPipeline.Result latency = null;
        boolean needKafka = !skip.containsAll(EnumSet.of(Part.PIPELINE, Part.NAIVE, Part.LATENCY));
        Double offered = rate;
        if (needKafka) {
            out.println("starting an embedded Kafka broker (KRaft) ...");
            out.flush();
            try (EmbeddedKafka kafka = EmbeddedKafka.start(BROKER)) {
                if (!skip.contains(Part.PIPELINE)) {
                    section("pipeline: Kafka -> decode -> micro-batch -> async classify -> Kafka, exactly-once,"
                            + " pre-loaded topic");
                    for (int r = 1; r <= repeat; r++) {
                        pipeline.add(pipelineRun(kafka, conf, "pipeline", r, corpus, Plan.throughput(warmup, n)));
                    }
                }
                if (!skip.contains(Part.NAIVE)) {
                    section("naive job: the same job with batching.max-records=1 (one record per model call)");
                    Configuration naiveConf = new Configuration(conf);
                    naiveConf.set(BatchingOptions.MAX_RECORDS, 1);
                    for (int r = 1; r <= repeat; r++) {
                        naive.add(pipelineRun(kafka, naiveConf, "naive", r, corpus, Plan.throughput(warmup, n)));
                    }
                }
                if (!skip.contains(Part.LATENCY)) {
                    if (offered == null) {
                        double peak = Summary.of(pipeline.stream().mapToDouble(BenchPipeline.Result::peakRate)
                                .toArray()).median();
                        if (Double.isNaN(peak)) {
                            peak = rawBest.median();
                        }
                        offered = Double.isNaN(peak) ? null : load * peak;
                    }
                    if (offered == null) {
                        out.println("latency: skipped (no peak measured to offer a fraction of; give --rate)");
                    } else {
                        section(String.format(Locale.ROOT, "latency: the pipeline at a fixed offered load of %s rec/s"
                                + " for %s", BenchReport.fmt(offered),
                                TimeUtils.formatWithHighestUnit(latencyDuration)));
                        latency = pipelineRun(kafka, conf, "latency", 1, corpus,
                                new Plan(warmup, 0, offered, 0, latencyDuration));
                    }
                }
            }
        }
        Summary pipeCommitted = committed(pipeline);
        Summary pipeProcessed = processed(pipeline);
        Summary naiveCommitted = committed(naive);
        if (!pipeline.isEmpty()) {
            rows.add(new Row("pipeline, exactly-once, committed", pipeCommitted, "rec/s",
                    "first to last committed output (read_committed receive times)"));
            rows.add(new Row("pipeline, processed", pipeProcessed, "rec/s", "from the job's decision times"));
            bars.add(new Bar("pipeline (exactly-once)", pipeCommitted.min(), pipeCommitted.median(),
                    pipeCommitted.max()));
            report.set("pipeline", BenchJson.pipelineJson(pipeline));
        }
        if (!naive.isEmpty()) {
            rows.add(new Row("naive job (max-records=1), committed", naiveCommitted, "rec/s",
                    "same job, one record per model call"));
            rows.add(new Row("naive job (max-records=1), processed", processed(naive), "rec/s", ""));
            bars.add(new Bar("naive job (max-records=1)", naiveCommitted.min(), naiveCommitted.median(),
                    naiveCommitted.max()));
            report.set("naive", BenchJson.pipelineJson(naive));
        }

        // 4. The independent peer.
        Summary peerRate = Summary.EMPTY;
        Summary sameWork = Summary.EMPTY;
        if (!skip.contains(Part.PEER)) {
            ObjectNode peerJson = peer(conf, bundle, texts, warmTexts, best, rows, bars);
            report.set("peer", peerJson);
            if (peerJson.has("records_per_second")) {
                peerRate = summaryOf(peerJson.get("records_per_second"));
                sameWork = summaryOf(peerJson.get("engine_same_truncation_records_per_second"));
            }
        }

        // 5. Latency.
        if (latency != null) {
            ObjectNode lj = BenchJson.latencyJson(latency);
            report.set("latency", lj);
            double[] ms = java.util.Arrays.stream(latency.paced().latencies()).asDoubleStream().toArray();
            double p50 = BenchStats.percentile(ms, 50);
            double p95 = BenchStats.percentile(ms, 95);
            double p99 = BenchStats.percentile(ms, 99);
            String at = "at " + BenchReport.fmt(latency.offeredRate()) + " rec/s offered";
            rows.add(new Row("latency p50, " + at, Summary.of(p50), "ms", "produce -> committed output"));
            rows.add(new Row("latency p95, " + at, Summary.of(p95), "ms", ""));
            rows.add(new Row("latency p99, " + at, Summary.of(p99), "ms", latency.paced().classified() + " of "
                    + latency.pacedSent() + " records received" + (latency.ok() ? "" : "; " + latency.problem())));
            int[] sizes = BenchStats.groupSizes(latency.paced().batchKeys);
            batchBuckets = BenchStats.powerOfTwoBuckets(sizes);
            rows.add(new Row("batch size in the latency run, mean", Summary.of(BenchStats.mean(sizes)), "records",
                    sizes.length + " batches; " + bucketsText(batchBuckets)));
            latencyBars.add(new BenchChart.Latency("pipeline @ " + BenchReport.fmt(latency.offeredRate()) + " rec/s",
                    p50, p95, p99));
        }

        rows.add(new Row("padding efficiency, token budget, batches of " + jobBatch, Summary.of(budgetEff.value()),
                "real/padded", "sorted, split under " + budget.tokenBudget() + " tokens, padded to x"
                        + budget.padMultiple() + "; " + budgetEff.modelCalls() + " model calls"));
        rows.add(new Row("padding efficiency, naive, batches of " + jobBatch, Summary.of(naiveEff.value()),
                "real/padded", "arrival order, padded to the longest; " + naiveEff.modelCalls() + " model calls"));
        rows.add(new Row("padding efficiency, one length bucket per call", Summary.of(bucketEff.value()),
                "real/padded", "bound of the sorted split; " + bucketEff.modelCalls() + " model calls"));
        if (!pipeline.isEmpty()) {
            rows.add(new Row("padding efficiency, measured in the pipeline", Summary.of(pipeline.stream()
                    .mapToDouble(r -> r.metrics().paddingEfficiency()).toArray()), "real/padded",
                    "job metrics realTokens / paddedTokens"));
        }

        List<Ratio> ratios = new ArrayList<>();
        ratios.add(new Ratio("pipeline / raw engine (best)", BenchStats.ratio(pipeCommitted.median(), rawBest.median()),
                "pipeline committed / raw batch " + best + ", raw texts, " + rawThreads + " caller thread"
                        + (rawThreads == 1 ? "" : "s")));
        ratios.add(new Ratio("raw best / raw batch 1", BenchStats.ratio(rawBest.median(), raw1.median()),
                "raw texts; pre-tokenized: " + BenchReport.fmtRatio(BenchStats.ratio(rawBestModel.median(),
                        raw1Model.median()))));
        ratios.add(new Ratio("pipeline / naive", BenchStats.ratio(pipeCommitted.median(), naiveCommitted.median()),
                "committed, same job with batching.max-records=1"));
        ratios.add(new Ratio("pipeline / peer", BenchStats.ratio(pipeCommitted.median(), peerRate.median()),
                "records/s; the peer truncates shorter, see the next line"));
        ratios.add(new Ratio("raw engine / peer, same truncation", BenchStats.ratio(sameWork.median(),
                peerRate.median()), "raw engine at the peer's max length, batch " + best));
        ratios.add(new Ratio("padding efficiency, token budget / naive", BenchStats.ratio(budgetEff.value(),
                naiveEff.value()), BenchReport.fmt(budgetEff.value()) + " vs " + BenchReport.fmt(naiveEff.value())
                        + ", batches of " + jobBatch));
        ratios.add(new Ratio("pipeline processed / raw engine (best)", BenchStats.ratio(pipeProcessed.median(),
                rawBest.median()), "without checkpoint granularity"));
        report.set("ratios", BenchJson.ratiosJson(ratios));

        String tables = "\n" + BenchReport.table(rows) + "\n" + BenchReport.ratios(ratios);
        out.print(tables);
        text.append(tables);
        report.put("table", tables);
        String title = "labelstream bench: " + bundle.name() + " on " + classifier.provider() + ", "
                + Runtime.getRuntime().availableProcessors() + " cores";
        Files.createDirectories(resultsDir());
        Files.writeString(resultsDir().resolve("chart.svg"), BenchChart.svg(title, bars, latencyBars, batchBuckets),
                StandardCharsets.UTF_8);
        return 0;
    }

    /** --results, or results/bench-<timestamp> fixed at the first call. */
    private Path resultsDir() {
        if (results == null) {
            results = Path.of("results", "bench-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return results;
    }

    private void rawRun(Map<Integer, List<BenchRaw.Run>> raw, BatchClassifier c, List<String> texts, int batch,
            List<Classification> sink) {
        long cpu0 = BenchPipeline.cpuNanos();
        BenchRaw.Run r = BenchRaw.run(c, texts, batch, rawThreads, sink);
        double cores = (BenchPipeline.cpuNanos() - cpu0) / (double) r.wallNanos();
        raw.computeIfAbsent(batch, k -> new ArrayList<>()).add(r);
        out.printf(Locale.ROOT, "  batch %3d: %7s rec/s raw texts, %7s rec/s model only, %3d model calls, padding"
                        + " %s, cpu %s cores%n", batch, BenchReport.fmt(r.textsPerSecond()),
                BenchReport.fmt(r.modelPerSecond()), r.modelCalls(), BenchReport.fmt(r.paddingEfficiency()),
                BenchReport.fmt(cores));
        out.flush();
    }

    /** The batch size among the candidates with the best median end-to-end rate. */
    static int bestBatch(Map<Integer, List<BenchRaw.Run>> raw, List<Integer> candidates) {
        int best = -1;
        double bestRate = -1;
        for (int b : candidates) {
            double r = summary(raw.get(b), BenchRaw.Run::textsPerSecond).median();
            if (!Double.isNaN(r) && r > bestRate) {
                bestRate = r;
                best = b;
            }
        }
        return best < 0 ? 1 : best;
    }

    private BenchPipeline.Result pipelineRun(EmbeddedKafka kafka, Configuration conf, String what, int r,
            BenchCorpus corpus, Plan plan) throws Exception {
        String id = what + "-" + (++runCounter);
        BenchPipeline.Result res = BenchPipeline.run(kafka, conf, id, corpus, plan);
        int[] sizes = BenchStats.groupSizes(res.measured().batchKeys);
        if (plan.paced()) {
            int[] paced = BenchStats.groupSizes(res.paced().batchKeys);
            out.printf(Locale.ROOT, "  %s: %d of %d paced records out at %s rec/s offered, latency p50 %s ms, p99 %s"
                            + " ms, batches mean %s, startup %s s%s%n", what, res.paced().outputs(), res.pacedSent(),
                    BenchReport.fmt(res.offeredRate()),
                    BenchReport.fmt(BenchStats.percentile(res.paced().latencies(), 50)),
                    BenchReport.fmt(BenchStats.percentile(res.paced().latencies(), 99)),
                    BenchReport.fmt(BenchStats.mean(paced)), BenchReport.fmt(res.startupMs() / 1000.0),
                    res.ok() ? "" : "  PROBLEM: " + res.problem());
        } else {
            out.printf(Locale.ROOT, "  %s run %d/%d: %d of %d out, %s rec/s committed, %s processed, batches mean %s,"
                            + " cpu %s cores, startup %s s, %d dead letters%s%n", what, r, repeat,
                    res.measured().outputs(), plan.measured(), BenchReport.fmt(res.committedRate()),
                    BenchReport.fmt(res.processedRate()), BenchReport.fmt(BenchStats.mean(sizes)),
                    BenchReport.fmt(res.cpuCores()), BenchReport.fmt(res.startupMs() / 1000.0), res.deadLetters(),
                    res.ok() ? "" : "  PROBLEM: " + res.problem());
        }
        out.flush();
        return res;
    }

    private ObjectNode peer(Configuration conf, ModelBundle bundle, List<String> texts, List<String> warmTexts,
            int best, List<Row> rows, List<Bar> bars) throws IOException {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        Optional<BenchPeer.Model> same = BenchPeer.matching(bundle.modelFile());
        if (same.isEmpty()) {
            String why = "skipped: the bundle's model.onnx is none of the MiniLM-L6 graphs langchain4j runs in process";
            out.println("peer: " + why);
            j.put("status", why);
            return j;
        }
        Optional<BenchPeer> loaded = BenchPeer.load(same.get().modelClass());
        if (loaded.isEmpty()) {
            out.println("peer: not available (build with -Pbench)");
            j.put("status", "not available (build with -Pbench)");
            return j;
        }
        BenchPeer peer = loaded.get();
        int peerMax = BenchPeer.maxTokens(same.get());
        int maxLength = conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength());
        section("peer: langchain4j " + same.get().simpleName() + " (the same ONNX graph) + the bundle's head,"
                + " truncating at " + (peerMax > 0 ? peerMax + " tokens" : "its own limit"));
        Configuration sameTruncation = new Configuration(conf);
        if (peerMax > 0) {
            sameTruncation.set(InferenceOptions.MAX_LENGTH, peerMax);
        }
        List<Double> rates = new ArrayList<>();
        List<Double> tokenRates = new ArrayList<>();
        List<Double> engineRates = new ArrayList<>();
        List<Double> engineTokenRates = new ArrayList<>();
        double cosSum = 0;
        double cosMin = Double.NaN;
        int agree = 0;
        try (BatchClassifier engine = BatchClassifier.open(bundle, sameTruncation)) {
            if (!warmTexts.isEmpty()) {
                peer.embedAll(warmTexts);
                BenchRaw.run(engine, warmTexts, best, rawThreads, null);
            }
            for (int r = 1; r <= repeat; r++) {
                long t0 = System.nanoTime();
                BenchPeer.Embedded e = peer.embedAll(texts);
                int[] peerTop = new int[e.embeddings().length];
                for (int i = 0; i < peerTop.length; i++) {
                    peerTop[i] = engine.classifyEmbedding(e.embeddings()[i]).top();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                rates.add(texts.size() / s);
                tokenRates.add(e.tokens() / s);
                List<Classification> sink = r == 1 ? new ArrayList<>() : null;
                BenchRaw.Run run = BenchRaw.run(engine, texts, best, rawThreads, sink);
                engineRates.add(run.textsPerSecond());
                engineTokenRates.add(run.tokensPerSecond());
                out.printf(Locale.ROOT, "  run %d/%d: peer %s rec/s (%s tokens/s); raw engine at %d tokens, batch %d:"
                                + " %s rec/s (%s tokens/s)%n", r, repeat, BenchReport.fmt(texts.size() / s),
                        BenchReport.fmt(e.tokens() / s), peerMax > 0 ? peerMax : maxLength, best,
                        BenchReport.fmt(run.textsPerSecond()), BenchReport.fmt(run.tokensPerSecond()));
                out.flush();
                if (sink != null) {
                    for (int i = 0; i < sink.size(); i++) {
                        Classification c = sink.get(i);
                        double cos = c.embedding() == null ? Double.NaN : BenchPeer.cosine(c.embedding(),
                                e.embeddings()[i]);
                        cosSum += cos;
                        cosMin = Double.isNaN(cosMin) ? cos : Math.min(cosMin, cos);
                        if (peerTop[i] == c.top()) {
                            agree++;
                        }
                    }
                }
            }
        }
        Summary rate = Summary.of(rates);
        Summary engine = Summary.of(engineRates);
        rows.add(new Row("peer: langchain4j in-process + head", rate, "rec/s", "truncates at " + peerMax
                + " tokens; one text per model call on " + Runtime.getRuntime().availableProcessors() + " threads"));
        rows.add(new Row("peer, tokens", Summary.of(tokenRates), "tok/s", ""));
        rows.add(new Row("raw engine at the peer's truncation, batch " + best, engine, "rec/s",
                "same work as the peer"));
        rows.add(new Row("raw engine at the peer's truncation, tokens", Summary.of(engineTokenRates), "tok/s", ""));
        bars.add(new Bar("peer (langchain4j, " + peerMax + " tokens)", rate.min(), rate.median(), rate.max()));
        bars.add(new Bar("raw engine, " + peerMax + " tokens, batch " + best, engine.min(), engine.median(),
                engine.max()));
        j.put("status", "measured");
        j.put("implementation", same.get().modelClass() + " (embedAll), scored by the bundle's head"
                + " (BatchClassifier.classifyEmbedding)");
        j.put("peer_max_tokens", peerMax);
        j.set("records_per_second", BenchReport.json(rate));
        j.set("tokens_per_second", BenchReport.json(Summary.of(tokenRates)));
        j.set("engine_same_truncation_records_per_second", BenchReport.json(engine));
        j.set("engine_same_truncation_tokens_per_second", BenchReport.json(Summary.of(engineTokenRates)));
        BenchReport.put(j, "embedding_cosine_mean", cosSum / texts.size());
        BenchReport.put(j, "embedding_cosine_min", cosMin);
        BenchReport.put(j, "top_label_agreement", (double) agree / texts.size());
        out.printf(Locale.ROOT, "  same model check: embedding cosine vs labelstream at the same truncation mean %s,"
                + " min %s; top labels agree on %d of %d%n", BenchReport.fmt(cosSum / texts.size()),
                BenchReport.fmt(cosMin), agree, texts.size());
        return j;
    }


    // ------------------------------------------------------------------------------------------------ sweep

    /** One setting of the sweep. */
    record Setting(int maxRecords, int tokenBudget, Duration linger) {
        String label() {
            return "max-records " + maxRecords + ", token-budget " + tokenBudget + ", linger "
                    + TimeUtils.formatWithHighestUnit(linger);
        }
    }

    /** The settings to try: the configured one first, then each axis alone, or (grid) every combination. */
    static List<Setting> settings(Setting base, List<Integer> maxRecords, List<Integer> tokenBudgets,
            List<Duration> lingers, boolean grid) {
        Set<Setting> out = new LinkedHashSet<>();
        out.add(base);
        if (grid) {
            for (int m : withFirst(base.maxRecords(), maxRecords)) {
                for (int t : withFirst(base.tokenBudget(), tokenBudgets)) {
                    for (Duration l : withFirst(base.linger(), lingers)) {
                        out.add(new Setting(m, t, l));
                    }
                }
            }
        } else {
            maxRecords.forEach(m -> out.add(new Setting(m, base.tokenBudget(), base.linger())));
            tokenBudgets.forEach(t -> out.add(new Setting(base.maxRecords(), t, base.linger())));
            lingers.forEach(l -> out.add(new Setting(base.maxRecords(), base.tokenBudget(), l)));
        }
        return new ArrayList<>(out);
    }

    private static <T> List<T> withFirst(T first, List<T> rest) {
        Set<T> s = new LinkedHashSet<>();
        s.add(first);
        s.addAll(rest);
        return new ArrayList<>(s);
    }

    private int sweep(Configuration conf, BenchCorpus corpus, int n, Duration latencyDuration, ObjectNode report,
            StringBuilder text) throws Exception {
        Setting base = new Setting(conf.get(BatchingOptions.MAX_RECORDS), conf.get(InferenceOptions.TOKEN_BUDGET),
                conf.get(BatchingOptions.LINGER));
        List<Duration> lingers = sweepLinger.stream().map(TimeUtils::parseDuration).toList();
        List<Setting> settings = settings(base, sweepMaxRecords, sweepTokenBudget, lingers, sweepGrid);
        out.printf("sweep: %d settings; each: %d warm-up + %d pre-loaded records (peak), then %s at a fixed offered"
                + " load (%s)%n", settings.size(), warmup, n, TimeUtils.formatWithHighestUnit(latencyDuration),
                rate != null ? BenchReport.fmt(rate) + " rec/s" : BenchReport.fmt(load)
                        + " x the first setting's peak");
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"max-records", "token-budget", "linger", "peak rec/s", "processed", "offered",
                "p50 ms", "p95 ms", "p99 ms", "batch@peak", "batch@load", "padding", "note"});
        ArrayNode rowsJson = BenchReport.JSON.createArrayNode();
        List<Bar> bars = new ArrayList<>();
        List<BenchChart.Latency> latencies = new ArrayList<>();
        Double offered = rate;
        out.println("starting an embedded Kafka broker (KRaft) ...");
        out.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(BROKER)) {
            for (Setting s : settings) {
                Configuration c = new Configuration(conf);
                c.set(BatchingOptions.MAX_RECORDS, s.maxRecords());
                c.set(InferenceOptions.TOKEN_BUDGET, s.tokenBudget());
                c.set(BatchingOptions.MAX_TOKENS, s.tokenBudget());
                c.set(BatchingOptions.LINGER, s.linger());
                Plan plan = offered != null ? new Plan(warmup, n, offered, 0, latencyDuration)
                        : new Plan(warmup, n, 0, load, latencyDuration);
                out.println("- " + s.label() + (s.equals(base) ? " (configured)" : ""));
                BenchPipeline.Result r = pipelineRun(kafka, c, "sweep", 1, corpus, plan);
                if (offered == null && !Double.isNaN(r.offeredRate())) {
                    offered = r.offeredRate();
                }
                double[] ms = java.util.Arrays.stream(r.paced().latencies()).asDoubleStream().toArray();
                double p50 = BenchStats.percentile(ms, 50);
                double p95 = BenchStats.percentile(ms, 95);
                double p99 = BenchStats.percentile(ms, 99);
                double peakBatch = BenchStats.mean(BenchStats.groupSizes(r.measured().batchKeys));
                double loadBatch = BenchStats.mean(BenchStats.groupSizes(r.paced().batchKeys));
                String note = (s.equals(base) ? "configured" : "") + (r.ok() ? "" : (s.equals(base) ? "; " : "")
                        + r.problem());
                cells.add(new String[] {Integer.toString(s.maxRecords()), Integer.toString(s.tokenBudget()),
                        TimeUtils.formatWithHighestUnit(s.linger()), BenchReport.fmt(r.committedRate()),
                        BenchReport.fmt(r.processedRate()), BenchReport.fmt(r.offeredRate()), BenchReport.fmt(p50),
                        BenchReport.fmt(p95), BenchReport.fmt(p99), BenchReport.fmt(peakBatch),
                        BenchReport.fmt(loadBatch), BenchReport.fmt(r.metrics().paddingEfficiency()), note});
                ObjectNode row = BenchReport.JSON.createObjectNode();
                row.put("max_records", s.maxRecords());
                row.put("token_budget", s.tokenBudget());
                row.put("linger_ms", s.linger().toMillis());
                row.set("run", BenchJson.runJson(r));
                BenchReport.put(row, "latency_p50_ms", p50);
                BenchReport.put(row, "latency_p95_ms", p95);
                BenchReport.put(row, "latency_p99_ms", p99);
                rowsJson.add(row);
                String label = s.maxRecords() + " / " + s.tokenBudget() + " / "
                        + TimeUtils.formatWithHighestUnit(s.linger());
                bars.add(new Bar(label, Double.NaN, r.committedRate(), Double.NaN));
                latencies.add(new BenchChart.Latency(label, p50, p95, p99));
            }
        }
        String table = "\nthroughput / latency trade-off (columns: batching.max-records, inference.token-budget ="
                + " batching.max-tokens, batching.linger; peak from pre-loaded records, latency at a fixed offered"
                + " load)\n" + BenchReport.columns(cells, new boolean[] {true, true, true, true, true, true, true,
                        true, true, true, true, true, false});
        out.print(table);
        text.append(table);
        report.set("sweep", rowsJson);
        report.put("table", table);
        Files.createDirectories(resultsDir());
        Files.writeString(resultsDir().resolve("chart.svg"), BenchChart.svg("labelstream bench --sweep"
                + " (max-records / token-budget / linger)", bars, latencies, Map.of()), StandardCharsets.UTF_8);
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ output

    private void section(String title) {
        out.println(title);
        out.flush();
    }

    private String header(ModelBundle bundle, BatchClassifier c, BenchCorpus corpus, Configuration conf, int n) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "labelstream bench%s: model %s %s (%s, max_length %d) on %s%n",
                sweep ? " --sweep" : "", bundle.name(), bundle.version(), bundle.modelType(),
                conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength()), c.provider()));
        sb.append(String.format(Locale.ROOT, "  machine: %d cores, %s; Java %s%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version")));
        sb.append(String.format(Locale.ROOT, "  corpus: %s, %d texts, %.0f chars mean (%d to %d)%n", corpus.name(),
                corpus.size(), corpus.meanChars(), corpus.minChars(), corpus.maxChars()));
        sb.append(String.format(Locale.ROOT, "  %d records per run, %d warm-up, %d runs; batching.max-records %d,"
                        + " batching.max-tokens %d, batching.linger %s, inference.token-budget %d, async.threads %d,"
                        + " checkpoints every %s, parallelism %d%n", n, warmup, repeat,
                conf.get(BatchingOptions.MAX_RECORDS), conf.get(BatchingOptions.MAX_TOKENS),
                TimeUtils.formatWithHighestUnit(conf.get(BatchingOptions.LINGER)),
                conf.get(InferenceOptions.TOKEN_BUDGET), conf.get(JobOptions.ASYNC_THREADS),
                TimeUtils.formatWithHighestUnit(conf.get(JobOptions.CHECKPOINT_INTERVAL)), parallelism));
        return sb.toString();
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private ObjectNode environment(BatchClassifier c) {
        ObjectNode e = BenchReport.JSON.createObjectNode();
        e.put("cores", Runtime.getRuntime().availableProcessors());
        e.put("cpu", cpuModel());
        e.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        e.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        e.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        e.put("provider_requested", modelArgs.provider.name());
        e.put("provider", c.provider());
        return e;
    }

    private ObjectNode settings(Configuration conf, ModelBundle bundle, int n, Duration latencyDuration) {
        ObjectNode s = BenchReport.JSON.createObjectNode();
        s.put("model", bundle.name() + " " + bundle.version());
        s.put("model_dir", bundle.dir().toString());
        s.put("records", n);
        s.put("warmup", warmup);
        s.put("repeat", repeat);
        s.put("raw_threads", rawThreads);
        ArrayNode sizes = s.putArray("batch_sizes");
        batchSizes.forEach(sizes::add);
        s.put("latency_duration_ms", latencyDuration.toMillis());
        s.put("load_fraction", load);
        if (rate != null) {
            s.put("rate", rate);
        }
        s.put("throughput_definition", "committed: records received by a read_committed consumer after the commit"
                + " that brought the warm-up-th output, over the time from that commit to the last one (consumer"
                + " receive times, this JVM's wall clock); processed: the same from the job's decision_time stamps;"
                + " raw engine: records over the wall time of the classify calls (raw texts) or over the sum of"
                + " their inferenceNanos (pre-tokenized)");
        s.put("latency_definition", "consumer receive time of the committed output minus the input record's Kafka"
                + " timestamp (its send time), same clock");
        ObjectNode job = s.putObject("job_configuration");
        // kafka.properties may hold credentials: never written (as the job never logs them).
        new TreeMap<>(conf.toMap()).forEach((k, v) -> job.put(k, k.startsWith(KafkaOptions.PROPERTIES.key())
                ? "(not shown)" : v));
        // Every labelstream option as the runs saw it, defaults included (sweep settings override some).
        ObjectNode effective = s.putObject("effective_options");
        Options.all().forEach((key, option) -> {
            Object v = conf.getOptional(option).map(x -> (Object) x)
                    .orElse(option.hasDefaultValue() ? option.defaultValue() : null);
            if (v != null && !key.equals(KafkaOptions.PROPERTIES.key())) {
                effective.put(key, v instanceof Duration d ? TimeUtils.formatWithHighestUnit(d) : String.valueOf(v));
            }
        });
        return s;
    }



    private ObjectNode paddingJson(int[] lengths, BenchPadding.Budget budget, int jobBatch,
            Map<Integer, List<BenchRaw.Run>> raw) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("texts", lengths.length);
        j.put("mean_tokens", java.util.Arrays.stream(lengths).average().orElse(0));
        j.put("token_budget", budget.tokenBudget());
        j.put("max_sub_batch", budget.maxSubBatch());
        j.put("pad_to_multiple_of", budget.padMultiple());
        j.put("max_length", budget.maxLength());
        j.put("headline_batch_size", jobBatch);
        ArrayNode rows = j.putArray("by_batch_size");
        Set<Integer> sizes = new TreeSet<>(batchSizes);
        sizes.add(jobBatch);
        for (int n : sizes) {
            ObjectNode r = rows.addObject();
            r.put("batch_size", n);
            BenchReport.put(r, "token_budget", BenchPadding.tokenBudget(lengths, n, budget).value());
            BenchReport.put(r, "naive", BenchPadding.naive(lengths, n).value());
            BenchReport.put(r, "one_bucket_per_call", BenchPadding.byBucket(lengths, n, budget).value());
            r.put("model_calls_token_budget", BenchPadding.tokenBudget(lengths, n, budget).modelCalls());
            r.put("model_calls_one_bucket_per_call", BenchPadding.byBucket(lengths, n, budget).modelCalls());
            List<BenchRaw.Run> measured = raw.get(n);
            if (measured != null && !measured.isEmpty()) {
                BenchReport.put(r, "measured_raw_engine", measured.get(0).paddingEfficiency());
            }
        }
        return j;
    }





    static String bucketsText(Map<String, Integer> buckets) {
        StringBuilder sb = new StringBuilder();
        buckets.forEach((k, v) -> {
            if (v > 0) {
                sb.append(sb.length() == 0 ? "" : ", ").append(k).append(": ").append(v);
            }
        });
        return sb.toString();
    }

    static Summary summary(List<BenchRaw.Run> runs, ToDoubleFunction<BenchRaw.Run> f) {
        return runs == null ? Summary.EMPTY : Summary.of(runs.stream().mapToDouble(f).toArray());
    }

    static Summary committed(List<BenchPipeline.Result> runs) {
        return Summary.of(runs.stream().mapToDouble(BenchPipeline.Result::committedRate).toArray());
    }

    static Summary processed(List<BenchPipeline.Result> runs) {
        return Summary.of(runs.stream().mapToDouble(BenchPipeline.Result::processedRate).toArray());
    }

    private static Summary summaryOf(JsonNode n) {
        return n == null || n.path("runs").asInt() == 0 ? Summary.EMPTY
                : new Summary(n.path("min").asDouble(Double.NaN), n.path("median").asDouble(Double.NaN),
                        n.path("max").asDouble(Double.NaN), n.path("runs").asInt());
    }
}
