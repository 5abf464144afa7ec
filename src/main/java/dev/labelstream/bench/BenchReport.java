package dev.labelstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchStats.Summary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.config.Options;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.settings.JobOptions;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;

/** The printed tables and the JSON report of {@code bench}: formatting, and the run's header and settings. */
final class BenchReport {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchReport() {}

    /** One measured figure: min / median / max over its runs. */
    record Row(String figure, Summary value, String unit, String note) {}

    /** A ratio of two medians, with how it was formed. */
    record Ratio(String name, double value, String formula) {}

    /** A number with about three significant digits; "n/a" when missing. */
    static String fmt(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        String f = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, f, v);
    }

    /** A ratio as "0.87x". */
    static String fmtRatio(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** The figures table: figure, min, median, max, runs, unit, note; numbers right-aligned. */
    static String table(List<Row> rows) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"figure", "min", "median", "max", "runs", "unit", "note"});
        for (Row r : rows) {
            Summary s = r.value();
            boolean single = s.n() <= 1;
            cells.add(new String[] {r.figure(), single ? "" : fmt(s.min()), fmt(s.median()), single ? "" : fmt(s.max()),
                    Integer.toString(s.n()), r.unit(), r.note() == null ? "" : r.note()});
        }
        return columns(cells, new boolean[] {false, true, true, true, true, false, false});
    }

    /** The ratios table: name, value, how it was formed. */
    static String ratios(List<Ratio> ratios) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"ratio (of medians)", "value", "from"});
        for (Ratio r : ratios) {
            cells.add(new String[] {r.name(), fmtRatio(r.value()), r.formula()});
        }
        return columns(cells, new boolean[] {false, true, false});
    }

    /** Lays out rows of cells in columns two spaces apart; the first row is the header, underlined. */
    static String columns(List<String[]> rows, boolean[] rightAligned) {
        int n = rows.get(0).length;
        int[] width = new int[n];
        for (String[] row : rows) {
            for (int c = 0; c < n; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < n; c++) {
                String cell = rows.get(r)[c];
                String pad = " ".repeat(width[c] - cell.length());
                if (c > 0) {
                    line.append("  ");
                }
                line.append(rightAligned[c] ? pad + cell : cell + (c == n - 1 ? "" : pad));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
            if (r == 0) {
                int total = 0;
                for (int c = 0; c < n; c++) {
                    total += width[c] + (c > 0 ? 2 : 0);
                }
                sb.append("-".repeat(total)).append('\n');
            }
        }
        return sb.toString();
    }

    /** A summary as JSON: {"min":..,"median":..,"max":..,"runs":..}; missing values as null. */
    static ObjectNode json(Summary s) {
        ObjectNode n = JSON.createObjectNode();
        put(n, "min", s.min());
        put(n, "median", s.median());
        put(n, "max", s.max());
        n.put("runs", s.n());
        return n;
    }

    /** Puts a number, or null when it is NaN (JSON has no NaN). */
    static void put(ObjectNode n, String field, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            n.putNull(field);
        } else {
            n.put(field, v);
        }
    }

    static void writeJson(Path file, JsonNode report) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, JSON.writeValueAsBytes(report));
    }

    // ------------------------------------------------------------------------------ the run's context

    static String header(boolean sweep, ModelBundle bundle, String provider, BenchCorpus corpus, Configuration conf,
            BenchContext ctx) {
        int n = ctx.records;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "labelstream bench%s: model %s %s (%s, max_length %d) on %s%n",
                sweep ? " --sweep" : "", bundle.name(), bundle.version(), bundle.modelType(),
                conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength()), provider));
        sb.append(String.format(Locale.ROOT, "  machine: %d cores, %s; Java %s; load average at start %.2f%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        sb.append(String.format(Locale.ROOT, "  corpus: %s, %d texts, %.0f chars mean (%d to %d)%n", corpus.name(),
                corpus.size(), corpus.meanChars(), corpus.minChars(), corpus.maxChars()));
        sb.append(String.format(Locale.ROOT, "  %d records per run, %d warm-up, %d runs; batching.max-records %d,"
                        + " batching.max-tokens %d, batching.linger %s, inference.token-budget %d,"
                        + " checkpoints every %s, parallelism %d%n", n, ctx.warmup, ctx.repeat,
                dev.labelstream.settings.ThreadBudget.withCpuBatching(conf).get(BatchingOptions.MAX_RECORDS),
                conf.get(BatchingOptions.MAX_TOKENS),
                TimeUtils.formatWithHighestUnit(conf.get(BatchingOptions.LINGER)),
                conf.get(InferenceOptions.TOKEN_BUDGET),
                TimeUtils.formatWithHighestUnit(conf.get(JobOptions.CHECKPOINT_INTERVAL)),
                conf.getOptional(JobOptions.PARALLELISM).orElse(1)));
        return sb.toString();
    }

    static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            String model = null;
            String flags = null;
            for (String line : lines) {
                if (model == null && line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (flags == null && line.startsWith("flags")) {
                    flags = line.substring(line.indexOf(':') + 1).trim();
                }
            }
            if (model != null) {
                return flags == null ? model : model + ", " + simd(flags);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /** Features to look for, in order: ONNX Runtime's fp32 and int8 kernels differ most between them. */
    private static final List<String> SIMD = List.of("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni",
            "amx_int8");

    /**
     * Which of {@link #SIMD} the CPU has, from /proc/cpuinfo's flags: e.g. "avx2 fma; no avx512f avx512_vnni
     * avx_vnni amx_int8". Without VNNI (or AMX) int8 GEMM runs on AVX2's multiply-adds, so the int8 / fp32 ratios
     * of two machines compare only with this next to them.
     */
    static String simd(String flags) {
        java.util.Set<String> have = new java.util.HashSet<>(List.of(flags.trim().split("\\s+")));
        List<String> yes = SIMD.stream().filter(have::contains).toList();
        List<String> no = SIMD.stream().filter(f -> !have.contains(f)).toList();
        String present = String.join(" ", yes);
        String missing = no.isEmpty() ? "" : "no " + String.join(" ", no);
        return present.isEmpty() || missing.isEmpty() ? present + missing : present + "; " + missing;
    }

    static ObjectNode environment(String providerRequested, String provider) {
        ObjectNode e = BenchReport.JSON.createObjectNode();
        e.put("cores", Runtime.getRuntime().availableProcessors());
        e.put("cpu", cpuModel());
        e.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        e.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        e.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        e.put("provider_requested", providerRequested);
        e.put("provider", provider);
        BenchReport.put(e, "load_average_1m", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        return e;
    }

    static ObjectNode settings(Configuration conf, ModelBundle bundle, BenchContext ctx) {
        int n = ctx.records;
        Duration latencyDuration = ctx.latencyDuration;
        ObjectNode s = BenchReport.JSON.createObjectNode();
        s.put("model", bundle.name() + " " + bundle.version());
        s.put("model_dir", bundle.dir().toString());
        s.put("records", n);
        s.put("warmup", ctx.warmup);
        s.put("repeat", ctx.repeat);
        ArrayNode callers = s.putArray("raw_callers");
        ctx.callers.forEach(callers::add);
        ArrayNode intra = s.putArray("raw_intra_op_threads");
        ctx.intraOps.forEach(intra::add);
        ArrayNode sizes = s.putArray("batch_sizes");
        ctx.batchSizes.forEach(sizes::add);
        s.put("latency_duration_ms", latencyDuration.toMillis());
        s.put("load_fraction", ctx.load);
        if (ctx.rate != null) {
            s.put("rate", ctx.rate);
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
}
