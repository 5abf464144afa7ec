package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.config.ModelArgs;
import dev.labelstream.config.Options;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.settings.JobOptions;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
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
            "Measure, in one run on the same model and texts: (1) the raw engine (BatchClassifier alone), searching"
                    + " caller threads x intra-op threads x batch sizes, every point and the best; (2) the full"
                    + " pipeline (in-JVM Kafka -> Flink MiniCluster -> Kafka, exactly-once) from pre-loaded records"
                    + " with the best options, with the CPU defaults of the cores and with the defaults before them;"
                    + " (3) the same job without micro-batching; (4) an independent peer, langchain4j's in-process"
                    + " MiniLM-L6 (build with -Pbench); (5) end-to-end latency at a fixed offered load, exactly-once"
                    + " and at-least-once; (6) padding efficiency; (7) where a record's CPU time goes; (8) tokens/s"
                    + " and achieved GFLOP/s; (9) the other built-in model (int8 / fp32) through the same pipeline;"
                    + " (10) ONNX Runtime's fp32 and int8 GEMM rate and the model's fraction of it; (11) ML_PREDICT"
                    + " on the MiniCluster next to the pipeline, drift off in both; (12) the pipeline without and"
                    + " with a policy topic (kafka.policy-topic: the two-input broadcast batcher), the ratio; (13) the"
                    + " pipeline without a shadow model and with one at sample rate 1.0 and 0.1, the ratios and what"
                    + " the shadow scored.",
            "Prints min / median / max over --repeat runs and the ratios, and writes report.json, chart.svg and"
                    + " table.txt to --results.",
            "With --sweep: the throughput / latency trade-off over batching.max-records, inference.token-budget"
                    + " and batching.linger instead.",
            "Build and run: mvn -B -Pbench package -DskipTests && java -jar target/labelstream.jar bench"})
public final class BenchCommand implements Callable<Integer> {
    /** Parts of the bench that --skip can leave out. */
    enum Part { RAW, PIPELINE, DEFAULTS, NAIVE, PEER, LATENCY, MODELS, GEMM, SQL, FEED, POLICY, SHADOW }

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

    @Option(names = "--batch-sizes", paramLabel = "N,N", split = ",", defaultValue = "4,8,32,128",
            description = "Raw-engine batch sizes (texts per call) to try besides 1 (default: ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--callers", paramLabel = "N,N", split = ",",
            description = "Raw-engine caller threads to try (the job's async.threads; default: 1 to the cores).")
    List<Integer> callers;

    @Option(names = "--intra-op", paramLabel = "N,N", split = ",",
            description = "Raw-engine ONNX Runtime intra-op threads to try (default: 1 to the cores).")
    List<Integer> intraOps;

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
            description = "Parts to leave out: raw, pipeline, defaults (the pipeline with the CPU defaults and with"
                    + " the defaults before them), naive, peer, latency, models (the other built-in model's"
                    + " pipeline), gemm (ONNX Runtime's GEMM rate), sql (ML_PREDICT vs the pipeline, drift off), feed"
                    + " (the CPU side's ceiling with a tiny graph, tokenization now and before, and texts of"
                    + " input.max-bytes), policy (the pipeline with the CPU defaults without and with a policy"
                    + " topic carrying the model's thresholds as a published policy), shadow (the pipeline with the"
                    + " CPU defaults without and with a shadow model, the demo's candidate, at sample rate 1.0 and"
                    + " 0.1).")
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

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int n = records != null ? records : sweep ? 150 : 200;
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> callerList = callers != null ? callers : upTo(cores);
        List<Integer> intraList = intraOps != null ? intraOps : upTo(cores);
        Duration latencyDuration = TimeUtils.parseDuration(duration != null ? duration : sweep ? "10s" : "20s");
        check(n >= 1 && warmup >= 0 && repeat >= 1 && parallelism >= 1, "--records, --repeat and --parallelism must"
                + " be >= 1 and --warmup >= 0");
        check(batchSizes.stream().allMatch(b -> b >= 1), "--batch-sizes must be >= 1");
        check(!callerList.isEmpty() && callerList.stream().allMatch(c -> c >= 1), "--callers must be >= 1");
        check(!intraList.isEmpty() && intraList.stream().allMatch(c -> c >= 0), "--intra-op must be >= 0");
        check(load > 0 && load <= 1, "--load must be in (0, 1]");
        check(rate == null || rate > 0, "--rate must be > 0");
        BenchCorpus corpus = corpusFile == null ? BenchCorpus.demo() : BenchCorpus.load(corpusFile);
        Configuration conf = configuration();
        ModelBundle bundle = ModelBundle.load(conf);
        Path dir = results != null ? results : Path.of("results", "bench-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        BenchContext ctx = new BenchContext(n, warmup, repeat, batchSizes, callerList, intraList, latencyDuration,
                load, rate, skip, sets.keySet(), out, dir);

        String provider;
        try (BatchClassifier probe = BatchClassifier.open(bundle, conf)) {
            provider = probe.provider();
        }
        ObjectNode report = BenchReport.JSON.createObjectNode();
        report.put("labelstream_bench", sweep ? "sweep" : "bench");
        report.put("started", LocalDateTime.now().toString());
        report.set("environment", BenchReport.environment(modelArgs.provider.name(), provider));
        report.set("settings", BenchReport.settings(conf, bundle, ctx));
        report.set("corpus", BenchJson.corpusJson(corpus));
        String header = BenchReport.header(sweep, bundle, provider, corpus, conf, ctx);
        out.print(header);
        out.flush();
        StringBuilder text = new StringBuilder(header);
        int rc;
        try {
            rc = sweep
                    ? BenchSweep.run(ctx, conf, corpus, sweepMaxRecords, sweepTokenBudget, sweepLinger, sweepGrid,
                            report, text)
                    : new BenchSuite(ctx, conf, bundle, corpus).run(report, text);
        } finally {
            BenchCluster.closeShared();
        }
        Files.createDirectories(dir);
        BenchReport.writeJson(dir.resolve("report.json"), report);
        Files.writeString(dir.resolve("table.txt"), text, StandardCharsets.UTF_8);
        out.printf("%nwrote %s, %s and %s%n", dir.resolve("report.json"), dir.resolve("chart.svg"),
                dir.resolve("table.txt"));
        out.flush();
        return rc;
    }

    private static List<Integer> upTo(int cores) {
        List<Integer> l = new ArrayList<>();
        for (int i = 1; i <= cores; i++) {
            l.add(i);
        }
        return l;
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
}
