package dev.labelstream.cli;

import dev.labelstream.demo.DemoData;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Sample traffic for a running deployment: the demo's real SpamAssassin messages as JSON TextEvents (and, if
 * asked, the demo's malformed records) produced to a topic at a steady rate. The Compose stack runs it as its
 * load generator.
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true,
        description = {"Produce sample texts (real spam and ham messages as JSON TextEvents) to a Kafka topic at a"
                + " steady rate, for trying out and load-testing a deployment.",
                "Example: java -jar target/labelstream.jar loadgen --bootstrap-servers localhost:9092 --rate 100"})
public final class LoadgenCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers.")
    public String bootstrapServers;

    @Option(names = "--topic", defaultValue = "texts", description = "Topic to produce to (default: ${DEFAULT-VALUE}).")
    public String topic;

    @Option(names = "--rate", defaultValue = "50", paramLabel = "PER_SECOND",
            description = "Records per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--records", defaultValue = "0", paramLabel = "N",
            description = "Records to produce; 0 (default) runs until stopped.")
    long records;

    @Option(names = "--malformed-every", defaultValue = "0", paramLabel = "N",
            description = "Make every Nth record a malformed one (bad JSON, missing fields, invalid UTF-8, ...),"
                    + " so the dead-letter path carries traffic too; 0 (default): never.")
    int malformedEvery;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "A Kafka producer property, e.g. security.protocol=SASL_SSL (repeatable).")
    Map<String, String> properties = new LinkedHashMap<>();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rate <= 0) {
            throw new IllegalArgumentException("--rate must be > 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<DemoData.Message> messages = DemoData.messages();
        List<DemoData.Produced> malformed = DemoData.malformed(64 * 1024);
        Properties p = new Properties();
        p.putAll(properties);
        p.put("bootstrap.servers", bootstrapServers);
        p.putIfAbsent("linger.ms", "20");
        p.putIfAbsent("max.request.size", Integer.toString(2 << 20));
        AtomicLong failed = new AtomicLong();
        out.printf("loadgen: producing to %s at %s records/s%s%n", topic, rate,
                records > 0 ? " (" + records + " records)" : " until stopped");
        out.flush();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            long start = System.nanoTime();
            long lastReport = start;
            for (long n = 0; records == 0 || n < records; n++) {
                DemoData.Produced r = malformedEvery > 0 && (n + 1) % malformedEvery == 0
                        ? malformed.get((int) ((n / malformedEvery) % malformed.size()))
                        : DemoData.event(messages.get((int) (n % messages.size())), "#" + n);
                ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, r.key(), r.value());
                rec.headers().add("producer", "labelstream-loadgen".getBytes(StandardCharsets.UTF_8));
                producer.send(rec, (meta, e) -> {
                    if (e != null && failed.getAndIncrement() % 1000 == 0) {
                        spec.commandLine().getErr().println("loadgen: send failed: " + e);
                    }
                });
                long due = start + (long) ((n + 1) * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                if (System.nanoTime() - lastReport > Duration.ofSeconds(30).toNanos()) {
                    lastReport = System.nanoTime();
                    out.printf("loadgen: %d records sent, %d failed%n", n + 1, failed.get());
                    out.flush();
                }
            }
            producer.flush();
        }
        out.printf("loadgen: done, %d failed%n", failed.get());
        return failed.get() == 0 ? 0 : 1;
    }
}
