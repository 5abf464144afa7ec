package dev.labelstream.bench;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.settings.JobOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The {@code sql} part: the same texts through {@code ML_PREDICT} with the labelstream model provider on a
 * MiniCluster ({@link SqlBenchmark}), exactly-once into Kafka, measured as committed records/s the way the
 * DataStream pipeline is. Like for like: the model options the DataStream run used (model, threads, intra-op
 * threads, sub-batches, batching) go into the model's WITH clause, and {@code max-concurrent-operations} is one
 * full batch per async thread, so the provider can form batches of {@code batching.max-records}. SQL has no drift
 * monitor, so the DataStream side of this comparison runs with {@code drift.enabled=false}.
 */
final class BenchSql {
    /** The job options that mean the same in the model's WITH clause. */
    private static final List<ConfigOption<?>> SHARED = List.of(InferenceOptions.MODEL_DIR,
            InferenceOptions.MODEL_BUILTIN, InferenceOptions.PROVIDER, InferenceOptions.INTRA_OP_THREADS,
            InferenceOptions.MAX_SUB_BATCH, InferenceOptions.TOKEN_BUDGET, InferenceOptions.MAX_LENGTH,
            BatchingOptions.MAX_RECORDS, BatchingOptions.MAX_TOKENS, BatchingOptions.LINGER, JobOptions.ASYNC_THREADS);

    private BenchSql() {}

    /** The SQL runs. */
    record Measured(List<SqlBenchmark.Result> runs, int maxConcurrent, Map<String, String> options) {
        BenchStats.Summary rate() {
            return BenchStats.Summary.of(runs.stream().map(SqlBenchmark.Result::recordsPerSecond).toList());
        }

        BenchStats.Summary meanBatch() {
            return BenchStats.Summary.of(runs.stream().map(SqlBenchmark.Result::meanBatchSize).toList());
        }
    }

    /** The model options of {@code conf} (the DataStream run's), as WITH-clause strings. */
    static Map<String, String> modelOptions(Configuration conf) {
        Map<String, String> all = conf.toMap();
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigOption<?> o : SHARED) {
            if (all.containsKey(o.key())) {
                out.put(o.key(), all.get(o.key()));
            } else if (o.hasDefaultValue()) {
                Object v = conf.get(o);
                out.put(o.key(), v instanceof Duration d ? org.apache.flink.util.TimeUtils.formatWithHighestUnit(d)
                        : String.valueOf(v));
            }
        }
        return out;
    }

    static Measured run(BenchContext ctx, EmbeddedKafka kafka, Configuration conf, BenchCorpus corpus)
            throws Exception {
        Map<String, String> options = modelOptions(conf);
        int maxConcurrent = conf.get(BatchingOptions.MAX_RECORDS) * Math.max(1, conf.get(JobOptions.ASYNC_THREADS));
        List<SqlBenchmark.Result> runs = new ArrayList<>();
        for (int r = 1; r <= ctx.repeat; r++) {
            String topic = "bench-sql-" + r + "-" + System.nanoTime() + "-in";
            kafka.createTopics(1, topic);
            int total = ctx.warmup + ctx.records;
            try (KafkaProducer<byte[], byte[]> p = BenchPipeline.producer(kafka, 20)) {
                for (int i = 0; i < ctx.warmup; i++) {
                    p.send(BenchPipeline.record(topic, "w" + i, corpus.text(ctx.records + i)));
                }
                for (int i = 0; i < ctx.records; i++) {
                    p.send(BenchPipeline.record(topic, "m" + i, corpus.text(i)));
                }
                p.flush();
            }
            SqlBenchmark.Result res;
            try {
                res = SqlBenchmark.run(new SqlBenchmark.Settings(kafka.bootstrapServers(), topic, total, ctx.warmup,
                        options, maxConcurrent, 1, conf.get(JobOptions.CHECKPOINT_INTERVAL), Duration.ofMinutes(10)));
            } catch (Exception e) {
                // The rest of the bench still reports; the stack trace says what SQL refused.
                ctx.out.println("  sql run " + r + "/" + ctx.repeat + " failed: " + e);
                ctx.out.flush();
                e.printStackTrace();
                break;
            }
            ctx.out.printf(Locale.ROOT, "  sql run %d/%d: %d of %d committed, %s rec/s, batches mean %s%n", r,
                    ctx.repeat, res.committed(), total, BenchReport.fmt(res.recordsPerSecond()),
                    BenchReport.fmt(res.meanBatchSize()));
            ctx.out.flush();
            runs.add(res);
        }
        return new Measured(runs, maxConcurrent, options);
    }
}
