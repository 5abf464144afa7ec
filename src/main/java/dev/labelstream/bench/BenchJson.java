package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchReport.Ratio;
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

    static ObjectNode rawJson(Map<Integer, List<BenchRaw.Run>> raw, int best) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("best_batch_size", best);
        ArrayNode batches = j.putArray("batch_sizes");
        for (Map.Entry<Integer, List<BenchRaw.Run>> e : raw.entrySet()) {
            ObjectNode b = batches.addObject();
            b.put("batch_size", e.getKey());
            b.set("raw_texts_records_per_second",
                    BenchReport.json(BenchCommand.summary(e.getValue(), BenchRaw.Run::textsPerSecond)));
            b.set("pre_tokenized_records_per_second",
                    BenchReport.json(BenchCommand.summary(e.getValue(), BenchRaw.Run::modelPerSecond)));
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
            }
        }
        return j;
    }

    static ObjectNode pipelineJson(List<BenchPipeline.Result> runs) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.set("committed_records_per_second", BenchReport.json(BenchCommand.committed(runs)));
        j.set("processed_records_per_second", BenchReport.json(BenchCommand.processed(runs)));
        ArrayNode a = j.putArray("runs");
        runs.forEach(r -> a.add(runJson(r)));
        return j;
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
