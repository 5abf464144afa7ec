package dev.labelstream.sql;

import dev.labelstream.bench.SqlBenchmark;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.FaultBundles;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.job.JobTestSupport;
import dev.labelstream.job.TestKafka;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.PolicySettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labelstream model provider in Flink SQL on a MiniCluster, with the shared in-JVM broker and the real default
 * model: Kafka table in, ML_PREDICT, exactly-once Kafka table out; batching; error columns; planning failures.
 * One planner and one MiniCluster for the class; the bounded Kafka sources end each job by itself.
 */
class SqlModelProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Short sequences keep the real model cheap on a small CPU; the direct classifier gets the same options. */
    private static final Map<String, String> MODEL_OPTIONS = Map.of("inference.max-length", "128",
            "inference.intra-op-threads", "1", "batching.max-records", "16");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(reporter())
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static String bootstrap;
    private static StreamTableEnvironment tEnv;

    private static Configuration reporter() {
        Configuration c = new Configuration();
        InProcessMetrics.configure(c);
        return c;
    }

    @BeforeAll
    static void broker() throws Exception {
        bootstrap = TestKafka.broker().bootstrapServers();
        // model.dir unset means the built-in model in the cache: the tests' copy, written once per run.
        Path model = JobTestSupport.defaultModel();
        if (System.getProperty("labelstream.cache-dir") == null) {
            System.setProperty("labelstream.cache-dir", Path.of("target", "test-cache").toAbsolutePath().toString());
        }
        assertThat(dev.labelstream.inference.DefaultModel.directory().toAbsolutePath())
                .isEqualTo(model.toAbsolutePath());
    }

    @BeforeEach
    void tableEnvironment() {
        if (tEnv == null) {
            tEnv = StreamTableEnvironment.create(StreamExecutionEnvironment.getExecutionEnvironment());
            tEnv.getConfig().set("parallelism.default", "1");
            tEnv.getConfig().set("execution.checkpointing.interval", "300 ms");
            // A failing job fails its test at once instead of restarting until a timeout.
            tEnv.getConfig().set("restart-strategy.type", "none");
        }
    }

    @Test
    void kafkaTableThroughMlPredictIntoAnExactlyOnceKafkaTable() throws Exception {
        List<DemoData.Message> messages = DemoData.messages().subList(0, 40);
        String id = id();
        String in = "in-" + id;
        String out = "out-" + id;
        TestKafka.broker().createTopics(2, in);
        TestKafka.broker().createTopics(1, out);
        produce(in, messages.stream().map(m -> DemoData.event(m, "").value()).toList());

        tEnv.executeSql(SqlBenchmark.inputTable("src_" + id, bootstrap, in, "g-" + id));
        tEnv.executeSql("CREATE TEMPORARY TABLE dst_" + id + " (id STRING, top_label STRING, top_score DOUBLE,"
                + " scores MAP<STRING, DOUBLE>, action STRING, action_reason STRING, decision_id STRING,"
                + " classified BOOLEAN, model_name STRING, model_version STRING, policy_version STRING,"
                + " execution_provider STRING, truncated BOOLEAN, token_count INT, error_kind STRING) WITH ("
                + " 'connector' = 'kafka', 'topic' = '" + out + "', 'properties.bootstrap.servers' = '" + bootstrap
                + "', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once',"
                + " 'sink.transactional-id-prefix' = 'tx-" + id + "', 'properties.transaction.timeout.ms' = '60000')");
        tEnv.executeSql("CREATE TEMPORARY MODEL spam_" + id + " INPUT (text STRING) OUTPUT (top_label STRING,"
                + " top_score DOUBLE, scores MAP<STRING, DOUBLE>, action STRING, action_reason STRING,"
                + " decision_id STRING, classified BOOLEAN, model_name STRING, model_version STRING,"
                + " policy_version STRING, execution_provider STRING, truncated BOOLEAN, token_count INT,"
                + " error_kind STRING) WITH (" + with(MODEL_OPTIONS) + ")");
        long t0 = System.nanoTime();
        TableResult job = tEnv.executeSql("INSERT INTO dst_" + id + " SELECT id, top_label, top_score, scores, action,"
                + " action_reason, decision_id, classified, model_name, model_version, policy_version,"
                + " execution_provider, truncated, token_count, error_kind"
                + " FROM ML_PREDICT(TABLE src_" + id + ", MODEL spam_" + id + ", DESCRIPTOR(text))");
        job.await();
        List<JsonNode> rows = consume(out, messages.size(), Duration.ofSeconds(60));
        System.out.printf("SQL end to end: %d rows in %d ms%n", rows.size(), (System.nanoTime() - t0) / 1_000_000);

        assertThat(rows).hasSize(messages.size());
        Map<String, JsonNode> byId = rows.stream().collect(Collectors.toMap(r -> r.get("id").asText(), r -> r));
        assertThat(byId).hasSize(messages.size());
        Configuration conf = Configuration.fromMap(MODEL_OPTIONS);
        ModelBundle bundle = ModelBundle.load(conf);
        ModerationPolicy policy = PolicySettings.bundlePolicy(bundle);
        try (BatchClassifier direct = BatchClassifier.open(bundle, conf)) {
            List<Classification> expected = direct.classify(messages.stream().map(m -> TextInput.of(m.text())).toList())
                    .results();
            for (int i = 0; i < messages.size(); i++) {
                JsonNode r = byId.get(messages.get(i).id());
                Classification c = expected.get(i);
                assertThat(r.get("classified").asBoolean()).isTrue();
                assertThat(r.get("error_kind").isNull()).isTrue();
                assertThat(r.get("top_label").asText()).isEqualTo(bundle.labels().get(c.top()));
                assertThat(r.get("top_score").asDouble()).isCloseTo(c.topScore(), within(1e-5));
                for (int l = 0; l < bundle.labels().size(); l++) {
                    assertThat(r.get("scores").get(bundle.labels().get(l)).asDouble())
                            .isCloseTo(c.scores()[l], within(1e-5));
                }
                ModerationPolicy.Decision d = policy.decide(c.scores());
                assertThat(r.get("action").asText()).isEqualTo(d.action().name());
                assertThat(r.get("action_reason").asText()).isEqualTo(d.reason());
                assertThat(r.get("token_count").asInt()).isEqualTo(c.tokens());
                assertThat(r.get("truncated").asBoolean()).isEqualTo(c.truncated());
                assertThat(r.get("model_name").asText()).isEqualTo(bundle.name());
                assertThat(r.get("model_version").asText()).isEqualTo(bundle.version());
                assertThat(r.get("policy_version").asText()).isEqualTo(policy.version());
                assertThat(r.get("execution_provider").asText()).isEqualTo("CPU");
            }
        }
        assertThat(rows.stream().map(r -> r.get("decision_id").asText()).distinct()).hasSize(messages.size());
        // The spam in the sample is mostly caught: the model really ran.
        long spam = messages.stream().filter(m -> m.label().equals("spam")).count();
        assertThat(spam).isPositive();
    }

    @Test
    void rowsInFlightAreCoalescedIntoBatches() throws Exception {
        List<String> texts = DemoData.chatTexts(256, 11);
        String id = id();
        String in = "in-" + id;
        TestKafka.broker().createTopics(1, in);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            values.add(DemoData.event("c" + i, texts.get(i), null).value());
        }
        produce(in, values);
        tEnv.executeSql(SqlBenchmark.inputTable("chat_" + id, bootstrap, in, "g-" + id));
        tEnv.executeSql("CREATE TEMPORARY MODEL m_" + id + " INPUT (text STRING) OUTPUT (top_label STRING) WITH ("
                + with(Map.of("inference.max-length", "32", "inference.intra-op-threads", "1",
                        "batching.max-records", "64", "batching.linger", "200 ms")) + ")");
        InProcessMetrics.clear();
        List<Row> rows = collect("SELECT id, top_label FROM ML_PREDICT(TABLE chat_" + id + ", MODEL m_" + id
                + ", DESCRIPTOR(text), MAP['max-concurrent-operations', '64'])");
        assertThat(rows).hasSize(texts.size());
        Histogram h = InProcessMetrics.histogram(Metrics.GROUP + "." + Metrics.BATCH_SIZE);
        assertThat(h).isNotNull();
        System.out.printf("batches: %d, mean batch size %.1f, max %d%n", h.getCount(), h.getStatistics().getMean(),
                h.getStatistics().getMax());
        assertThat(h.getStatistics().getMean()).isGreaterThan(8);
        assertThat(h.getStatistics().getMax()).isLessThanOrEqualTo(64);
    }

    @Test
    void aPoisonRowGetsItsErrorColumnsAndTheOthersAreClassified(@TempDir Path tmp) throws Exception {
        Path faulty = FaultBundles.write(tmp.resolve("faulty"));
        String id = id();
        tEnv.executeSql("CREATE TEMPORARY VIEW texts_" + id + " AS SELECT * FROM (VALUES"
                + " ('a', 'the cat sat on the mat'), ('b', 'we met at " + FaultBundles.POISON_WORD + " today'),"
                + " ('c', 'see you at the game'), ('d', CAST(NULL AS STRING)), ('e', '   '),"
                + " ('f', 'good morning to you')) AS t(id, text)");
        tEnv.executeSql("CREATE TEMPORARY MODEL faulty_" + id + " INPUT (text STRING) OUTPUT (top_label STRING,"
                + " classified BOOLEAN, action STRING, error_kind STRING, error_message STRING) WITH ("
                + with(Map.of("model.dir", faulty.toString(), "async.max-retries", "1", "async.retry-backoff", "10 ms",
                        "batching.linger", "100 ms")) + ")");
        Map<String, Row> rows = collect("SELECT id, top_label, classified, action, error_kind, error_message"
                + " FROM ML_PREDICT(TABLE texts_" + id + ", MODEL faulty_" + id + ", DESCRIPTOR(text),"
                + " MAP['max-concurrent-operations', '8'])").stream()
                .collect(Collectors.toMap(r -> (String) r.getField(0), r -> r));
        System.out.println("poison: " + rows);
        assertThat(rows).hasSize(6);
        for (String good : List.of("a", "c", "f")) {
            assertThat(rows.get(good).getField(2)).as(good).isEqualTo(true);
            assertThat(FaultBundles.LABELS).contains((String) rows.get(good).getField(1));
            assertThat(rows.get(good).getField(4)).isNull();
        }
        Row poison = rows.get("b");
        assertThat(poison.getField(2)).isEqualTo(false);
        assertThat(poison.getField(1)).isNull();
        assertThat(poison.getField(3)).as("no action under DEAD_LETTER: SQL routes it").isNull();
        assertThat(poison.getField(4)).isEqualTo("INFERENCE_FAILED");
        assertThat((String) poison.getField(5)).contains("ONNX Runtime");
        assertThat(rows.get("d").getField(4)).isEqualTo("MISSING_FIELD");
        assertThat(rows.get("e").getField(4)).isEqualTo("EMPTY_TEXT");
    }

    @Test
    void aRowThatWouldTimeOutCompletesWithErrorColumnsFirst(@TempDir Path tmp) throws Exception {
        Path faulty = FaultBundles.write(tmp.resolve("faulty"));
        String id = id();
        tEnv.executeSql("CREATE TEMPORARY VIEW slow_" + id + " AS SELECT * FROM (VALUES"
                + " ('a', 'the cat sat on the mat'), ('b', 'a trip to " + FaultBundles.SLOW_WORD + "'))"
                + " AS t(id, text)");
        tEnv.executeSql("CREATE TEMPORARY MODEL slowm_" + id + " INPUT (text STRING) OUTPUT (classified BOOLEAN,"
                + " error_kind STRING) WITH (" + with(Map.of("model.dir", faulty.toString(), "async.max-retries",
                        "0", "async.timeout", "1 s", "batching.max-records", "1")) + ")");
        Map<String, Row> rows = collect("SELECT id, classified, error_kind FROM ML_PREDICT(TABLE slow_" + id
                + ", MODEL slowm_" + id + ", DESCRIPTOR(text), MAP['timeout', '3 s', 'max-concurrent-operations', '2'])").stream()
                .collect(Collectors.toMap(r -> (String) r.getField(0), r -> r));
        assertThat(rows.get("a").getField(1)).isEqualTo(true);
        assertThat(rows.get("b").getField(1)).isEqualTo(false);
        assertThat(rows.get("b").getField(2)).isEqualTo("INFERENCE_TIMEOUT");
    }

    @Test
    void syncAndPairInputClassifyAsTheCoreDoes() throws Exception {
        String id = id();
        tEnv.executeSql("CREATE TEMPORARY VIEW pairs_" + id + " AS SELECT * FROM (VALUES"
                + " ('a', 'WIN a FREE cruise!!! Click here now', 'claim your prize today'),"
                + " ('b', 'Lunch tomorrow at noon?', 'sure, see you there')) AS t(id, text, text_pair)");
        tEnv.executeSql("CREATE TEMPORARY MODEL pair_" + id + " INPUT (text STRING, text_pair STRING)"
                + " OUTPUT (top_score DOUBLE, scores MAP<STRING, DOUBLE>) WITH (" + with(MODEL_OPTIONS) + ")");
        tEnv.executeSql("CREATE TEMPORARY MODEL one_" + id + " INPUT (text STRING) OUTPUT (top_score DOUBLE)"
                + " WITH (" + with(MODEL_OPTIONS) + ")");
        List<Row> pairs = collect("SELECT id, top_score FROM ML_PREDICT(TABLE pairs_" + id + ", MODEL pair_" + id
                + ", DESCRIPTOR(text, text_pair))");
        List<Row> sync = collect("SELECT id, top_score FROM ML_PREDICT(TABLE pairs_" + id + ", MODEL one_" + id
                + ", DESCRIPTOR(text), MAP['async', 'false'])");
        Configuration conf = Configuration.fromMap(MODEL_OPTIONS);
        try (BatchClassifier direct = BatchClassifier.open(ModelBundle.load(conf), conf)) {
            List<Classification> p = direct.classify(List.of(new TextInput("WIN a FREE cruise!!! Click here now",
                    "claim your prize today"), new TextInput("Lunch tomorrow at noon?", "sure, see you there")))
                    .results();
            List<Classification> s = direct.classify(List.of(TextInput.of("WIN a FREE cruise!!! Click here now"),
                    TextInput.of("Lunch tomorrow at noon?"))).results();
            Map<String, Double> pairScores = scores(pairs);
            Map<String, Double> syncScores = scores(sync);
            assertThat(pairScores.get("a")).isCloseTo(p.get(0).topScore(), within(1e-5));
            assertThat(pairScores.get("b")).isCloseTo(p.get(1).topScore(), within(1e-5));
            assertThat(syncScores.get("a")).isCloseTo(s.get(0).topScore(), within(1e-5));
            assertThat(syncScores.get("b")).isCloseTo(s.get(1).topScore(), within(1e-5));
            assertThat(pairScores.get("a")).isNotCloseTo(syncScores.get("a"), within(1e-6));
        }
    }

    @Test
    void mistakesFailAtPlanningNamingTheOptionOrFile() {
        String id = id();
        tEnv.executeSql("CREATE TEMPORARY VIEW v_" + id + " AS SELECT * FROM (VALUES ('a', 'hello')) AS t(id, text)");
        String query = "SELECT id FROM ML_PREDICT(TABLE v_" + id + ", MODEL %s, DESCRIPTOR(text)%s)";

        // CREATE MODEL does not call the factory: the query that uses the model fails.
        model("typo_" + id, "top_label STRING", "'batching.max-record' = '8'");
        assertThatThrownBy(() -> tEnv.explainSql(String.format(query, "typo_" + id, "")))
                .hasStackTraceContaining("batching.max-record");

        model("baddir_" + id, "top_label STRING", "'model.dir' = '/nonexistent/spam-model'");
        assertThatThrownBy(() -> tEnv.explainSql(String.format(query, "baddir_" + id, "")))
                .hasStackTraceContaining("/nonexistent/spam-model").hasStackTraceContaining("does not exist");

        model("badvalue_" + id, "top_label STRING", "'batching.linger' = 'soon'");
        assertThatThrownBy(() -> tEnv.explainSql(String.format(query, "badvalue_" + id, "")))
                .hasStackTraceContaining("batching.linger");

        model("badcol_" + id, "label STRING", "'batching.max-records' = '8'");
        assertThatThrownBy(() -> tEnv.explainSql(String.format(query, "badcol_" + id, "")))
                .hasStackTraceContaining("'label'").hasStackTraceContaining("did you mean 'top_label'");

        model("ok_" + id, "top_label STRING", "'async.timeout' = '30 s'");
        assertThatThrownBy(() -> tEnv.executeSql(String.format(query, "ok_" + id,
                ", MAP['max-concurrent-operation', '64']")))
                .hasStackTraceContaining("max-concurrent-operation").hasStackTraceContaining("Supported keys");
        assertThatThrownBy(() -> tEnv.executeSql(String.format(query, "ok_" + id, ", MAP['timeout', '10 s']")))
                .hasStackTraceContaining("async.timeout").hasStackTraceContaining("ML_PREDICT's timeout is 10000 ms");
    }

    private static void model(String name, String output, String options) {
        tEnv.executeSql("CREATE TEMPORARY MODEL " + name + " INPUT (text STRING) OUTPUT (" + output + ") WITH ("
                + "'provider' = 'labelstream', " + options + ")");
    }

    private static Map<String, Double> scores(List<Row> rows) {
        Map<String, Double> out = new HashMap<>();
        for (Row r : rows) {
            out.put((String) r.getField(0), (Double) r.getField(1));
        }
        return out;
    }

    private static String with(Map<String, String> options) {
        StringBuilder sb = new StringBuilder("'provider' = 'labelstream'");
        options.forEach((k, v) -> sb.append(", '").append(k).append("' = '").append(v).append("'"));
        return sb.toString();
    }

    private static String id() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    private static List<Row> collect(String sql) throws Exception {
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = tEnv.executeSql(sql).collect()) {
            it.forEachRemaining(rows::add);
        }
        return rows;
    }

    private static void produce(String topic, List<byte[]> values) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (byte[] v : values) {
                producer.send(new ProducerRecord<>(topic, v));
            }
            producer.flush();
        }
    }

    private static List<JsonNode> consume(String topic, int n, Duration timeout) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "reader-" + UUID.randomUUID());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        List<JsonNode> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            while (out.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(JSON.readTree(new String(r.value(), StandardCharsets.UTF_8)));
                }
            }
            // Anything beyond n would be a duplicate: read a little longer to see it.
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                out.add(JSON.readTree(new String(r.value(), StandardCharsets.UTF_8)));
            }
        }
        return out;
    }
}
