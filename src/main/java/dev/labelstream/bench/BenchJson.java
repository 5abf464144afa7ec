package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchReport.Ratio;
import dev.labelstream.bench.BenchStats.Summary;
import java.util.List;
import java.util.Map;

/** The sections of {@code bench}'s report.json, built from what the runs measured. */
final class BenchJson {
    private BenchJson() {}

    static ObjectNode corpusJson(BenchCorpus corpus) {
        ObjectNode c = BenchReport.JSON.createObjectNode();
        c.put("name", corpus.name());
        c.put("texts", corpus.size());
        c.put("mean_chars", corpus.meanChars());
        c.put("min_chars", corpus.minChars());
        c.put("max_chars", corpus.maxChars());
        return c;
    }

    static ObjectNode searchJson(BenchSearch.Result search) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("best", search.best().label());
        j.put("best_callers", search.best().callers());
        j.put("best_intra_op_threads", search.best().intraOp());
        j.put("best_batch_size", search.best().batch());
        ArrayNode points = j.putArray("points");
        for (Map.Entry<BenchSearch.Point, List<BenchRaw.Run>> e : search.runs().entrySet()) {
            ObjectNode b = points.addObject();
            b.put("callers", e.getKey().callers());
            b.put("intra_op_threads", e.getKey().intraOp());
            b.put("batch_size", e.getKey().batch());
            b.set("raw_texts_records_per_second", BenchReport.json(search.rate(e.getKey())));
            b.set("pre_tokenized_records_per_second", BenchReport.json(search.modelRate(e.getKey())));
            ArrayNode runs = b.putArray("runs");
            for (BenchRaw.Run r : e.getValue()) {
                ObjectNode o = runs.addObject();
                o.put("records", r.records());
                o.put("wall_ms", r.wallNanos() / 1e6);
                o.put("inference_ms", r.inferenceNanos() / 1e6);
                o.put("tokenize_ms", r.tokenizeNanos() / 1e6);
                o.put("model_calls", r.modelCalls());
                o.put("real_tokens", r.realTokens());
                o.put("padded_tokens", r.paddedTokens());
                BenchReport.put(o, "tokens_per_second", r.tokensPerSecond());
            }
        }
        return j;
    }

    static Summary committed(List<BenchPipeline.Result> runs) {
        return Summary.of(runs.stream().mapToDouble(BenchPipeline.Result::committedRate).toArray());
    }

    static Summary processed(List<BenchPipeline.Result> runs) {
        return Summary.of(runs.stream().mapToDouble(BenchPipeline.Result::processedRate).toArray());
    }

    static ObjectNode pipelineJson(List<BenchPipeline.Result> runs, String options) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("options", options);
        j.set("committed_records_per_second", BenchReport.json(committed(runs)));
        j.set("processed_records_per_second", BenchReport.json(processed(runs)));
        ArrayNode a = j.putArray("runs");
        runs.forEach(r -> a.add(runJson(r)));
        return j;
    }

    /** The run whose committed rate is the median one (the lower middle for an even count). */
    static BenchPipeline.Result medianRun(List<BenchPipeline.Result> runs) {
        List<BenchPipeline.Result> sorted = new java.util.ArrayList<>(runs);
        sorted.sort(java.util.Comparator.comparingDouble(r -> Double.isNaN(r.committedRate()) ? -1
                : r.committedRate()));
        return sorted.get((sorted.size() - 1) / 2);
    }

    /**
     * Microseconds per record: the job's own tokenize and inference histograms (wall time in the classify
     * threads, over all its records), and the CPU time of each thread group over the measured window.
     */
    static List<String[]> breakdown(BenchPipeline.Result r, int measured) {
        List<String[]> cells = new java.util.ArrayList<>();
        cells.add(new String[] {"stage", "us/record", "from"});
        BenchPipeline.JobMetrics m = r.metrics();
        double perRecord = m.recordsOut() == 0 ? Double.NaN : 1000.0 / m.recordsOut();
        cells.add(new String[] {"tokenize (wall)", BenchReport.fmt(m.tokenizeMsSum() * perRecord),
                "job histogram tokenizeLatencyMs, summed / recordsOut"});
        cells.add(new String[] {"pad + tensor build + ORT call + pooling/head (wall)",
                BenchReport.fmt(m.inferenceMsSum() * perRecord),
                "job histogram inferenceLatencyMs (the three are one timer in BatchClassifier)"});
        long total = 0;
        for (Map.Entry<String, Long> e : r.cpuSplit().entrySet()) {
            total += e.getValue();
            cells.add(new String[] {"CPU: " + e.getKey(), BenchReport.fmt(e.getValue() / 1e3 / measured),
                    "thread CPU time over the measured window / measured records"});
        }
        cells.add(new String[] {"CPU: process total", BenchReport.fmt(total / 1e3 / measured),
                BenchReport.fmt(total / 1e9) + " CPU s for " + measured + " records"});
        double classify = r.cpuSplit().getOrDefault(BenchCpu.CLASSIFY, 0L) / 1e3 / measured;
        double rest = classify - (m.tokenizeMsSum() + m.inferenceMsSum()) * perRecord;
        // The timers are wall time: on a machine where the threads wait for a core, they exceed the CPU time.
        cells.add(new String[] {"scoring, decision, output record, drift observation (estimate)",
                rest >= 0 ? BenchReport.fmt(rest) : "n/a", rest >= 0 ? "classify threads' CPU minus the two timers"
                        + " above" : "the timers' wall time exceeds the threads' CPU time: the cores were shared"});
        double broker = r.cpuSplit().getOrDefault(BenchCpu.BROKER, 0L);
        cells.add(new String[] {"embedded broker's share of the process CPU",
                BenchReport.fmt(total == 0 ? Double.NaN : 100.0 * broker / total) + " %",
                "in production the broker runs elsewhere"});
        return cells;
    }

    static String breakdownText(BenchPipeline.Result r, int measured) {
        if (r.cpuSplit().isEmpty()) {
            return "";
        }
        return "\nwhere a pipeline record's time goes (median run " + r.name() + ", exactly-once)\n"
                + BenchReport.columns(breakdown(r, measured), new boolean[] {false, true, false});
    }

    static ObjectNode breakdownJson(BenchPipeline.Result r, int measured) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("run", r.name());
        List<String[]> cells = breakdown(r, measured);
        for (String[] c : cells.subList(1, cells.size())) {
            j.put(c[0], c[1]);
        }
        return j;
    }

    static ObjectNode peerJson(BenchPeer.Measured p) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("status", p.status());
        if (!p.measured()) {
            return j;
        }
        j.put("implementation", p.model().modelClass() + " (embedAll, its own defaults), scored by the bundle's head"
                + " (BatchClassifier.classifyEmbedding)");
        j.put("peer_max_tokens", p.maxTokens());
        j.set("records_per_second", BenchReport.json(p.rate()));
        j.set("tokens_per_second", BenchReport.json(p.tokenRate()));
        j.set("engine_same_truncation_records_per_second", BenchReport.json(p.engineRate()));
        j.set("engine_same_truncation_tokens_per_second", BenchReport.json(p.engineTokenRate()));
        BenchReport.put(j, "embedding_cosine_mean", p.cosineMean());
        BenchReport.put(j, "embedding_cosine_min", p.cosineMin());
        BenchReport.put(j, "top_label_agreement", p.agreement());
        return j;
    }

    static ObjectNode paddingJson(int[] lengths, BenchPadding.Budget budget, int jobBatch, List<Integer> batchSizes) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("texts", lengths.length);
        j.put("mean_tokens", java.util.Arrays.stream(lengths).average().orElse(0));
        j.put("token_budget", budget.tokenBudget());
        j.put("max_sub_batch", budget.maxSubBatch());
        j.put("pad_to_multiple_of", budget.padMultiple());
        j.put("max_length", budget.maxLength());
        j.put("headline_batch_size", jobBatch);
        ArrayNode rows = j.putArray("by_batch_size");
        java.util.Set<Integer> sizes = new java.util.TreeSet<>(batchSizes);
        sizes.add(jobBatch);
        for (int n : sizes) {
            ObjectNode r = rows.addObject();
            r.put("batch_size", n);
            BenchReport.put(r, "token_budget", BenchPadding.tokenBudget(lengths, n, budget).value());
            BenchReport.put(r, "naive", BenchPadding.naive(lengths, n).value());
            BenchReport.put(r, "one_bucket_per_call", BenchPadding.byBucket(lengths, n, budget).value());
            r.put("model_calls_token_budget", BenchPadding.tokenBudget(lengths, n, budget).modelCalls());
            r.put("model_calls_one_bucket_per_call", BenchPadding.byBucket(lengths, n, budget).modelCalls());
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

    static ObjectNode runJson(BenchPipeline.Result r) {
        ObjectNode o = BenchReport.JSON.createObjectNode();
        o.put("run", r.name());
        o.put("warmup_out", r.warmup().outputs());
        o.put("measured_sent", r.plan().measured());
        o.put("measured_out", r.measured().outputs());
        BenchReport.put(o, "committed_records_per_second", r.committedRate());
        BenchReport.put(o, "processed_records_per_second", r.processedRate());
        BenchReport.put(o, "mean_batch_measured", BenchStats.mean(BenchStats.groupSizes(r.measured().batchKeys)));
        BenchReport.put(o, "cpu_cores_busy", r.cpuCores());
        o.put("startup_ms", r.startupMs());
        o.put("dead_letters", r.deadLetters());
        if (r.plan().paced()) {
            BenchReport.put(o, "offered_records_per_second", r.offeredRate());
            o.put("paced_sent", r.pacedSent());
            o.put("paced_out", r.paced().outputs());
            BenchReport.put(o, "mean_batch_paced", BenchStats.mean(BenchStats.groupSizes(r.paced().batchKeys)));
        }
        ObjectNode m = o.putObject("job_metrics");
        m.put("batches", r.metrics().batches());
        BenchReport.put(m, "batch_size_mean", r.metrics().meanBatch());
        BenchReport.put(m, "batch_size_p50", r.metrics().p50Batch());
        m.put("batch_size_max", r.metrics().maxBatch());
        BenchReport.put(m, "padding_efficiency", r.metrics().paddingEfficiency());
        BenchReport.put(m, "inference_ms_p50", r.metrics().p50InferenceMs());
        BenchReport.put(m, "tokenize_ms_sum", r.metrics().tokenizeMsSum());
        BenchReport.put(m, "inference_ms_sum", r.metrics().inferenceMsSum());
        m.put("records_out", r.metrics().recordsOut());
        ObjectNode cpu = o.putObject("cpu_ms_by_thread_group");
        r.cpuSplit().forEach((k, v) -> cpu.put(k, v / 1e6));
        // The policy each decision names (policy_id and policy_version): "id vN", or the bundle's thresholds.
        ObjectNode decided = o.putObject("decided_by");
        r.decidedBy().forEach(decided::put);
        if (r.shadow() != null || r.markedShadow() > 0) {
            o.put("primary_decisions_marked_shadow", r.markedShadow());
        }
        if (r.shadow() != null) {
            o.set("shadow", BenchShadow.json(r.shadow()));
        }
        if (r.problem() != null) {
            o.put("problem", r.problem());
        }
        return o;
    }

    static ObjectNode latencyJson(BenchPipeline.Result r) {
        ObjectNode j = runJson(r);
        long[] ms = r.paced().latencies();
        for (double p : new double[] {50, 90, 95, 99, 100}) {
            BenchReport.put(j, "p" + (int) p + "_ms", BenchStats.percentile(ms, p));
        }
        int[] sizes = BenchStats.groupSizes(r.paced().batchKeys);
        ObjectNode b = j.putObject("batch_sizes");
        b.put("batches", sizes.length);
        BenchReport.put(b, "mean", BenchStats.mean(sizes));
        double[] d = java.util.Arrays.stream(sizes).asDoubleStream().toArray();
        BenchReport.put(b, "p50", BenchStats.percentile(d, 50));
        BenchReport.put(b, "p95", BenchStats.percentile(d, 95));
        BenchReport.put(b, "max", BenchStats.percentile(d, 100));
        ObjectNode buckets = b.putObject("histogram");
        BenchStats.powerOfTwoBuckets(sizes).forEach(buckets::put);
        return j;
    }

    static ArrayNode ratiosJson(List<Ratio> ratios) {
        ArrayNode a = BenchReport.JSON.createArrayNode();
        for (Ratio r : ratios) {
            ObjectNode o = a.addObject();
            o.put("name", r.name());
            BenchReport.put(o, "value", r.value());
            o.put("from", r.formula());
        }
        return a;
    }
}
