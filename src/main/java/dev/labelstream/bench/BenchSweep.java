package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.bench.BenchChart.Bar;
import dev.labelstream.bench.BenchPipeline.Plan;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.InferenceOptions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;

/**
 * {@code bench --sweep}: the throughput / latency trade-off of the batching settings (batching.max-records,
 * inference.token-budget = batching.max-tokens, batching.linger), one setting at a time around the configured one,
 * or every combination.
 */
final class BenchSweep {
    private BenchSweep() {}

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

    /**
     * Runs every setting: a throughput run from pre-loaded records, then the latency phase at a fixed offered load
     * (the first setting's peak x --load, or --rate) so every setting sees the same load.
     */
    static int run(BenchContext ctx, Configuration conf, BenchCorpus corpus, List<Integer> sweepMaxRecords,
            List<Integer> sweepTokenBudget, List<String> sweepLinger, boolean sweepGrid, ObjectNode report,
            StringBuilder text) throws Exception {
        int n = ctx.records;
        int warmup = ctx.warmup;
        Duration latencyDuration = ctx.latencyDuration;
        double load = ctx.load;
        Double rate = ctx.rate;
        PrintWriter out = ctx.out;
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
        try (EmbeddedKafka kafka = EmbeddedKafka.start(BenchCommand.BROKER)) {
            for (Setting s : settings) {
                Configuration c = new Configuration(conf);
                c.set(BatchingOptions.MAX_RECORDS, s.maxRecords());
                c.set(InferenceOptions.TOKEN_BUDGET, s.tokenBudget());
                c.set(BatchingOptions.MAX_TOKENS, s.tokenBudget());
                c.set(BatchingOptions.LINGER, s.linger());
                Plan plan = offered != null ? new Plan(warmup, n, offered, 0, latencyDuration)
                        : new Plan(warmup, n, 0, load, latencyDuration);
                out.println("- " + s.label() + (s.equals(base) ? " (configured)" : ""));
                BenchPipeline.Result r = ctx.pipeline(kafka, c, "sweep", 1, corpus, plan);
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
        Files.createDirectories(ctx.results);
        Files.writeString(ctx.results.resolve("chart.svg"), BenchChart.svg("labelstream bench --sweep"
                + " (max-records / token-budget / linger)", bars, latencies, Map.of()), StandardCharsets.UTF_8);
        return 0;
    }
}
