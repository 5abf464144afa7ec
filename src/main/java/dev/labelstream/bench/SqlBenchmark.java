package dev.labelstream.bench;

import dev.labelstream.sql.LabelstreamModelProviderFactory;
import dev.labelstream.demo.InProcessMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The SQL side of the benchmark: a pre-loaded topic of JSON TextEvents ({@code {"id": ..., "text": ...}})
 * through {@code ML_PREDICT} with the labelstream model on a Flink MiniCluster in this JVM, into an exactly-once
 * Kafka table, measured the way a {@code read_committed} consumer sees it, as the bench measures the DataStream
 * job. The rate counts the records committed after the first {@code warmup} ones, over the time from the
 * warm-up's last commit to the last commit. The source is bounded at the topic's end offsets, so the job ends
 * by itself.
 *
 * <pre>{@code
 * SqlBenchmark.Result r = SqlBenchmark.run(new SqlBenchmark.Settings(broker.bootstrapServers(), "bench-in",
 *         2000, 200, Map.of("batching.max-records", "64"), 64, 1, Duration.ofSeconds(1), Duration.ofMinutes(10)));
 * }</pre>
 */
public final class SqlBenchmark {
    private SqlBenchmark() {}

    /**
     * One run.
     *
     * @param bootstrapServers the Kafka cluster
     * @param inputTopic the pre-loaded input topic; the output goes to a fresh topic {@code <input>-sql-<id>}
     * @param records how many records the input holds (the run ends when that many are committed)
     * @param warmup records not counted in the rate (MiniCluster start, model load, the first checkpoint)
     * @param modelOptions the model's WITH options besides 'provider' (batching, inference, thresholds...)
     * @param maxConcurrent ML_PREDICT's max-concurrent-operations (rows in flight per subtask)
     * @param parallelism the job's parallelism
     * @param checkpointInterval how often the exactly-once sink commits
     * @param timeout give up after this long
     */
    public record Settings(String bootstrapServers, String inputTopic, long records, long warmup,
            Map<String, String> modelOptions, int maxConcurrent, int parallelism, Duration checkpointInterval,
            Duration timeout) {}

    /**
     * @param committed records read back with read_committed
     * @param recordsPerSecond committed records/s after the warm-up
     * @param meanBatchSize the mean of the provider's {@code batchSize} metric
     * @param elapsed from job submission to the last commit
     */
    public record Result(long committed, double recordsPerSecond, double meanBatchSize, Duration elapsed) {}

    /** Runs {@code s} and waits for every record to be committed (or {@code s.timeout()}). */
    public static Result run(Settings s) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String output = s.inputTopic() + "-sql-" + id;
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.<String, Object>of("bootstrap.servers", s.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(output,
                    Math.max(1, s.parallelism()), (short) 1))).all().get();
        }
        Configuration conf = new Configuration();
        InProcessMetrics.configure(conf);
        InProcessMetrics.clear();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(s.parallelism());
        env.enableCheckpointing(s.checkpointInterval().toMillis());
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.executeSql(inputTable("bench_in_" + id, s.bootstrapServers(), s.inputTopic(), "bench-sql-" + id));
        t.executeSql(outputTable("bench_out_" + id, s.bootstrapServers(), output, "bench-sql-" + id));
        t.executeSql(model("bench_model_" + id, s.modelOptions()));
        long t0 = System.nanoTime();
        TableResult job = t.executeSql("INSERT INTO bench_out_" + id + " SELECT id, top_label, action, classified"
                + " FROM ML_PREDICT(TABLE bench_in_" + id + ", MODEL bench_model_" + id + ", DESCRIPTOR(text),"
                + " MAP['max-concurrent-operations', '" + s.maxConcurrent() + "'])");
        long[] times = committedTimes(s.bootstrapServers(), output, s.records(), s.timeout());
        long end = times[times.length - 1];
        // The source is bounded: the job may have finished, and its per-job MiniCluster shut down, by now.
        job.getJobClient().ifPresent(c -> {
            try {
                c.cancel();
            } catch (IllegalStateException e) {
                // already ended
            }
        });
        long warm = s.warmup() > 0 && s.warmup() <= times.length ? times[(int) s.warmup() - 1] : t0;
        long counted = times.length - Math.min(s.warmup(), times.length);
        double rate = end > warm ? counted / ((end - warm) / 1e9) : 0;
        Histogram h = InProcessMetrics.histogram(dev.labelstream.metrics.Metrics.GROUP + "."
                + dev.labelstream.metrics.Metrics.BATCH_SIZE);
        double mean = h == null ? 0 : h.getStatistics().getMean();
        return new Result(times.length, rate, mean, Duration.ofNanos(end - t0));
    }

    public static String inputTable(String name, String bootstrap, String topic, String group) {
        return "CREATE TEMPORARY TABLE " + name + " (id STRING, text STRING) WITH ('connector' = 'kafka',"
                + " 'topic' = '" + topic + "', 'properties.bootstrap.servers' = '" + bootstrap + "',"
                + " 'properties.group.id' = '" + group + "', 'scan.startup.mode' = 'earliest-offset',"
                + " 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')";
    }

    static String outputTable(String name, String bootstrap, String topic, String txPrefix) {
        return "CREATE TEMPORARY TABLE " + name + " (id STRING, top_label STRING, action STRING, classified BOOLEAN)"
                + " WITH ('connector' = 'kafka', 'topic' = '" + topic + "', 'properties.bootstrap.servers' = '"
                + bootstrap + "', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once',"
                + " 'sink.transactional-id-prefix' = '" + txPrefix + "', 'properties.transaction.timeout.ms' = '600000')";
    }

    static String model(String name, Map<String, String> options) {
        String with = new TreeMap<>(options).entrySet().stream()
                .map(e -> ", '" + e.getKey() + "' = '" + e.getValue().replace("'", "''") + "'")
                .collect(Collectors.joining());
        return "CREATE TEMPORARY MODEL " + name + " INPUT (text STRING) OUTPUT (top_label STRING, action STRING,"
                + " classified BOOLEAN) WITH ('provider' = '" + LabelstreamModelProviderFactory.IDENTIFIER + "'"
                + with + ")";
    }

    /** When (System.nanoTime) each committed record of {@code topic} was received, until {@code n} or timeout. */
    private static long[] committedTimes(String bootstrap, String topic, long n, Duration timeout) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "bench-sql-reader-" + UUID.randomUUID());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        List<Long> times = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            while (times.size() < n && System.nanoTime() < deadline) {
                int got = c.poll(Duration.ofMillis(100)).count();
                long now = System.nanoTime();
                for (int i = 0; i < got; i++) {
                    times.add(now);
                }
            }
        }
        if (times.isEmpty()) {
            throw new IllegalStateException("no committed output in " + topic + " within " + timeout);
        }
        return times.stream().mapToLong(Long::longValue).toArray();
    }
}
