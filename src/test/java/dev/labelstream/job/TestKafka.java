package dev.labelstream.job;

import dev.labelstream.demo.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One in-JVM Kafka broker for the whole test run (it starts in ~5 s; surefire runs all classes in one JVM),
 * plus small producer and consumer helpers. Tests use their own topics, so they never see each other's data.
 */
public final class TestKafka {
    private static EmbeddedKafka broker;

    private TestKafka() {}

    public static synchronized EmbeddedKafka broker() throws Exception {
        if (broker == null) {
            broker = EmbeddedKafka.start(Map.of());
            EmbeddedKafka b = broker;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    b.close();
                } catch (Exception e) {
                    // shutting down
                }
            }));
        }
        return broker;
    }

    /** Topic names unique to one test: input, output, dead letters, drift. */
    record Topics(String input, String output, String deadLetters, String drift) {
        static Topics create(int inputPartitions) throws Exception {
            return create(broker(), inputPartitions);
        }

        /** On {@code broker}: the input with {@code inputPartitions} partitions, the others with one. */
        static Topics create(EmbeddedKafka broker, int inputPartitions) throws Exception {
            String id = UUID.randomUUID().toString().substring(0, 8);
            Topics t = new Topics("in-" + id, "out-" + id, "dlq-" + id, "drift-" + id);
            broker.createTopics(inputPartitions, t.input());
            broker.createTopics(1, t.output(), t.deadLetters(), t.drift());
            return t;
        }
    }

    /** A record to produce. */
    record Input(byte[] key, byte[] value, Map<String, byte[]> headers) {
        static Input of(String key, byte[] value) {
            return new Input(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, Map.of());
        }
    }

    static void produce(String topic, List<Input> records) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker().bootstrapServers());
        p.put("max.request.size", Integer.toString(8 << 20));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (Input r : records) {
                ProducerRecord<byte[], byte[]> pr = new ProducerRecord<>(topic, r.key(), r.value());
                r.headers().forEach((k, v) -> pr.headers().add(k, v));
                producer.send(pr);
            }
            producer.flush();
        }
    }

    /**
     * Reads {@code topics} of the test broker with read_committed from the beginning until {@code done} holds for
     * what was read, or {@code timeout} passes; returns everything read.
     */
    static List<ConsumerRecord<byte[], byte[]>> consumeUntil(List<String> topics, Duration timeout,
            Predicate<List<ConsumerRecord<byte[], byte[]>>> done) throws Exception {
        Properties client = new Properties();
        client.put("bootstrap.servers", broker().bootstrapServers());
        return consumeUntil(client, topics, timeout, done);
    }

    /**
     * The same with the client settings {@code client} (bootstrap servers, security) of another broker; fetch sizes
     * are raised so that records up to 16 MiB (the hostile-input tests' largest) come back.
     */
    static List<ConsumerRecord<byte[], byte[]>> consumeUntil(Properties client, List<String> topics, Duration timeout,
            Predicate<List<ConsumerRecord<byte[], byte[]>>> done) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("group.id", "test-reader-" + UUID.randomUUID());
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        p.put("max.partition.fetch.bytes", Integer.toString(16 << 20));
        p.put("fetch.max.bytes", Integer.toString(64 << 20));
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(topics);
            while (!done.test(out) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
