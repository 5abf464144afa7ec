package dev.labelstream.job;

import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.inference.FaultBundles;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.KafkaOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Helpers shared by the fault, overload and security tests: clients for any broker (the shared one or a
 * dedicated one), outputs counted per input id, the faulty model bundle, in-memory log capture, and one line
 * of figures per test appended to target/fault-figures.txt (and stdout) for the README's table.
 */
final class FaultTestSupport {
    private FaultTestSupport() {}

    private static Path faultyModel;

    /** The bundle with a poison word and a slow word ({@link FaultBundles}), written once per test JVM. */
    static synchronized Path faultyModel() throws IOException {
        if (faultyModel == null) {
            faultyModel = FaultBundles.write(Path.of("target", "test-cache", "faulty").toAbsolutePath());
        }
        return faultyModel;
    }

    /**
     * The faulty bundle under another version in {@code dir}: model.onnx and tokenizer.json linked, labelstream.json
     * with {@code version}; with {@code thirdLabel}, config.json has a third label ("threat"). A promotion candidate.
     */
    static Path faultyVariant(Path dir, String version, boolean thirdLabel) throws IOException {
        Path base = faultyModel();
        Files.createDirectories(dir);
        for (String f : List.of("model.onnx", "tokenizer.json")) {
            Files.createSymbolicLink(dir.resolve(f), base.resolve(f).toAbsolutePath());
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode meta =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(base.resolve("labelstream.json").toFile());
        meta.put("version", version);
        json.writeValue(dir.resolve("labelstream.json").toFile(), meta);
        com.fasterxml.jackson.databind.node.ObjectNode config =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(base.resolve("config.json").toFile());
        if (thirdLabel) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) config.get("id2label")).put("2", "threat");
        }
        json.writeValue(dir.resolve("config.json").toFile(), config);
        return dir.toAbsolutePath();
    }

    /** MiniCluster configuration with the in-JVM metric reporter, so tests can read the job's metrics. */
    static org.apache.flink.configuration.Configuration clusterConf() {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        InProcessMetrics.configure(c);
        return c;
    }

    /** {@link JobTestSupport#jobConf} for a broker of the test's own. */
    static org.apache.flink.configuration.Configuration jobConf(String bootstrap, TestKafka.Topics t,
            dev.labelstream.io.InputFormat format) {
        return JobTestSupport.jobConf(bootstrap, t, format);
    }

    /** Topics with unique names on {@code broker}: input with {@code partitions} partitions, the rest with 1. */
    static TestKafka.Topics topics(EmbeddedKafka broker, int partitions) throws Exception {
        return TestKafka.Topics.create(broker, partitions);
    }

    /** The live metrics the in-JVM reporter ({@link InProcessMetrics}) holds, by identifier. */
    @SuppressWarnings("unchecked")
    static Map<String, org.apache.flink.metrics.Metric> metrics() {
        try {
            java.lang.reflect.Field f = InProcessMetrics.class.getDeclaredField("METRICS");
            f.setAccessible(true);
            return new TreeMap<>((Map<String, org.apache.flink.metrics.Metric>) f.get(null));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Largest numeric gauge value among identifiers containing {@code part} and ending with {@code suffix}. */
    static double maxGauge(String part, String suffix) {
        double max = Double.NaN;
        for (Map.Entry<String, org.apache.flink.metrics.Metric> e : metrics().entrySet()) {
            if (e.getKey().contains(part) && e.getKey().endsWith(suffix)
                    && e.getValue() instanceof org.apache.flink.metrics.Gauge<?> g) {
                Object v;
                try {
                    v = g.getValue();
                } catch (RuntimeException ex) {
                    continue;
                }
                if (v instanceof Number n) {
                    max = Double.isNaN(max) ? n.doubleValue() : Math.max(max, n.doubleValue());
                } else if (v instanceof Boolean b) {
                    max = Double.isNaN(max) ? (b ? 1 : 0) : Math.max(max, b ? 1 : 0);
                }
            }
        }
        return max;
    }

    // ---------------------------------------------------------------------------------------------- Kafka

    static Properties clientProps(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    /** Produces and waits for every acknowledgement (a record the broker refused fails the test here). */
    static void produce(Properties client, String topic, List<TestKafka.Input> records) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("max.request.size", Integer.toString(16 << 20));
        p.put("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
            for (TestKafka.Input r : records) {
                ProducerRecord<byte[], byte[]> pr = new ProducerRecord<>(topic, r.key(), r.value());
                r.headers().forEach((k, v) -> pr.headers().add(k, v));
                acks.add(producer.send(pr));
            }
            for (java.util.concurrent.Future<RecordMetadata> a : acks) {
                a.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("producing to " + topic + " failed", e);
        }
    }

    /** Outputs (classified events and dead letters) read back and counted per input id. */
    record Outputs(List<ClassifiedEvent> classified, List<DeadLetter> deadLetters) {
        /** Copies per input id, over both topics (ids of dead letters without an id are not counted). */
        Map<String, Integer> copiesById() {
            Map<String, Integer> m = new TreeMap<>();
            classified.forEach(e -> m.merge(e.getInputId(), 1, Integer::sum));
            deadLetters.forEach(d -> m.merge(String.valueOf(d.getInputId()), 1, Integer::sum));
            return m;
        }

        int count() {
            return classified.size() + deadLetters.size();
        }

        /** Records with more than one copy (duplicates). */
        int duplicates() {
            return copiesById().values().stream().mapToInt(n -> n - 1).sum();
        }

        Map<String, Long> deadLettersByKind() {
            Map<String, Long> m = new TreeMap<>();
            deadLetters.forEach(d -> m.merge(d.getErrorKind(), 1L, Long::sum));
            return m;
        }
    }

    static Outputs read(Properties client, TestKafka.Topics t, int expected, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(client, List.of(t.output(), t.deadLetters()), timeout,
                got -> got.size() >= expected);
        return decode(t, rs);
    }

    static Outputs decode(TestKafka.Topics t, List<ConsumerRecord<byte[], byte[]>> rs) {
        List<ClassifiedEvent> classified = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            if (r.topic().equals(t.deadLetters())) {
                dead.add(DeadLetters.decode(r.value()));
            } else {
                classified.add(ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.AVRO));
            }
        }
        return new Outputs(classified, dead);
    }

    /**
     * Like {@link #read}, but waits for {@code distinctKeys} distinct record keys (the tests key every input by
     * its id, and outputs keep the key): for runs that may legitimately repeat records.
     */
    static Outputs readDistinct(Properties client, TestKafka.Topics t, int distinctKeys, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(client, List.of(t.output(), t.deadLetters()), timeout,
                got -> got.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).distinct().count()
                        >= distinctKeys);
        return decode(t, rs);
    }

    /**
     * The policy events on {@code t}'s report topic, each mapped by {@code map} (null: left out), read until {@code
     * done} holds for them or 60 s pass; asserts that it holds.
     */
    static <E> List<E> policyEvents(Properties client, TestKafka.Topics t,
            java.util.function.Function<dev.labelstream.avro.PolicyEvent, E> map,
            java.util.function.Predicate<List<E>> done) {
        List<E> events = new ArrayList<>();
        TestKafka.consumeUntil(client, List.of(t.drift()), Duration.ofSeconds(60), rs -> {
            events.clear();
            for (ConsumerRecord<byte[], byte[]> r : rs) {
                dev.labelstream.avro.Report envelope = dev.labelstream.io.Reports.decode(r.value(),
                        KafkaOptions.OutputFormat.AVRO);
                if (dev.labelstream.io.Reports.POLICY_EVENT.equals(envelope.getKind())) {
                    E e = map.apply(dev.labelstream.io.Reports.body(envelope, dev.labelstream.avro.PolicyEvent.class,
                            KafkaOptions.OutputFormat.AVRO));
                    if (e != null) {
                        events.add(e);
                    }
                }
            }
            return done.test(events);
        });
        org.assertj.core.api.Assertions.assertThat(done.test(events)).as("policy events on the report topic: %s",
                events).isTrue();
        return events;
    }

    static byte[] json(String id, String text) {
        return JobTestSupport.json(id, text);
    }

    /** Whether the job went through RESTARTING at least once. */
    static boolean restarted(MiniCluster cluster, JobID job) throws Exception {
        return cluster.getExecutionGraph(job).get().getStatusTimestamp(JobStatus.RESTARTING) > 0;
    }

    // -------------------------------------------------------------------------------------- figures

    /** Appends one line of figures for the README's table to target/fault-figures.txt and prints it. */
    static synchronized void figures(String fault, String line) {
        String row = fault + " | " + line;
        System.out.println("FIGURES " + row);
        try {
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "fault-figures.txt"), row + System.lineSeparator(),
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------ log capture

    /** One captured log event: level, logger, the formatted message and the stack trace of its throwable. */
    record Captured(Level level, String logger, String text) {}

    /**
     * Captures every log4j2 event of this JVM at {@code level} and above while open (all loggers: the job's,
     * Flink's, Kafka's clients and the in-JVM broker), by lowering the root and every configured logger to
     * {@code level} and attaching an in-memory appender to the root.
     */
    static final class LogCapture extends AbstractAppender implements AutoCloseable {
        private final List<Captured> events = Collections.synchronizedList(new ArrayList<>());
        private final Map<String, Level> previous = new TreeMap<>();
        private final LoggerContext ctx;

        private LogCapture(Level level) {
            super("capture-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY);
            ctx = (LoggerContext) LogManager.getContext(false);
            Configuration config = ctx.getConfiguration();
            start();
            config.addAppender(this);
            for (Map.Entry<String, LoggerConfig> e : config.getLoggers().entrySet()) {
                LoggerConfig lc = e.getValue();
                previous.put(e.getKey(), lc.getLevel());
                if (lc.getLevel().isLessSpecificThan(level)) {
                    continue; // already at least as verbose
                }
                lc.setLevel(level);
            }
            LoggerConfig root = config.getRootLogger();
            root.addAppender(this, level, null);
            ctx.updateLoggers();
        }

        static LogCapture start(Level level) {
            return new LogCapture(level);
        }

        @Override
        public void append(LogEvent event) {
            StringBuilder sb = new StringBuilder(event.getMessage().getFormattedMessage());
            if (event.getThrown() != null) {
                StringWriter w = new StringWriter();
                event.getThrown().printStackTrace(new PrintWriter(w));
                sb.append('\n').append(w);
            }
            events.add(new Captured(event.getLevel(), event.getLoggerName(), sb.toString()));
        }

        List<Captured> events() {
            synchronized (events) {
                return new ArrayList<>(events);
            }
        }

        /** Events at {@code level} or more severe whose text contains {@code needle}. */
        List<Captured> containing(String needle, Level level) {
            return events().stream().filter(e -> e.level().isMoreSpecificThan(level) && e.text().contains(needle))
                    .toList();
        }

        @Override
        public void close() {
            Configuration config = ctx.getConfiguration();
            config.getRootLogger().removeAppender(getName());
            previous.forEach((name, level) -> {
                LoggerConfig lc = config.getLoggers().get(name);
                if (lc != null) {
                    lc.setLevel(level);
                }
            });
            ctx.updateLoggers();
            stop();
        }
    }
}
