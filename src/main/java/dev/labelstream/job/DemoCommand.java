package dev.labelstream.job;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.KafkaOptions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The whole pipeline on one machine: a Kafka broker and a Flink MiniCluster in this JVM, the real default
 * model, real spam and ham messages plus malformed records, live progress and a summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run labelstream end to end in this JVM: an embedded Kafka broker (KRaft), a Flink"
                + " MiniCluster, the real default model, a stream of real SpamAssassin messages and malformed"
                + " records. Prints live progress and a summary, then exits (or runs until Ctrl-C with --follow)."})
final class DemoCommand implements Callable<Integer> {
    static final String INPUT = "texts";
    static final String OUTPUT = "texts-classified";
    static final String DEAD_LETTERS = "texts-dead-letters";
    static final String DRIFT = "texts-drift";
    private static final int MAX_BYTES = 64 * 1024;

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--records", defaultValue = "400", paramLabel = "N",
            description = "Messages to send (default: ${DEFAULT-VALUE}, the whole sample; more repeat it).")
    int records;

    @Option(names = "--rate", defaultValue = "200", paramLabel = "PER_SECOND",
            description = "Messages produced per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--parallelism", defaultValue = "1", description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--follow", description = "Keep producing and classifying until Ctrl-C.")
    boolean follow;

    @Option(names = "--timeout", defaultValue = "PT3M", description = "Give up after this long (default: 3 minutes).")
    Duration timeout;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        out.println("labelstream demo: starting an embedded Kafka broker (KRaft) ...");
        out.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of())) {
            kafka.createTopics(2, INPUT);
            kafka.createTopics(1, OUTPUT, DEAD_LETTERS, DRIFT);
            out.printf("  broker %s, topics %s (2 partitions), %s, %s, %s%n", kafka.bootstrapServers(), INPUT, OUTPUT,
                    DEAD_LETTERS, DRIFT);
            Configuration conf = jobConfiguration(kafka.bootstrapServers());
            InProcessMetrics.clear();
            InProcessMetrics.configure(conf);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            LabelstreamJob.build(env, conf);
            out.printf("  starting the Flink job (MiniCluster, parallelism %d, model %s) ...%n", parallelism,
                    conf.getOptional(InferenceOptions.MODEL_DIR).orElse("default"));
            out.flush();
            JobClient job = env.executeAsync("labelstream-demo");
            // Ctrl-C (--follow): cancel the job so its transactions abort instead of lingering.
            Thread onCtrlC = new Thread(() -> cancelQuietly(job));
            Runtime.getRuntime().addShutdownHook(onCtrlC);
            try {
                return stream(out, kafka, job, t0);
            } finally {
                cancelQuietly(job);
                Runtime.getRuntime().removeShutdownHook(onCtrlC);
            }
        }
    }

    private static void cancelQuietly(JobClient job) {
        try {
            job.cancel().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // already finished, or the cluster is shutting down
        }
    }

    private Configuration jobConfiguration(String bootstrap) {
        Configuration conf = modelArgs.toConfiguration();
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
        conf.set(KafkaOptions.INPUT_TOPIC, INPUT);
        conf.set(KafkaOptions.OUTPUT_TOPIC, OUTPUT);
        conf.set(KafkaOptions.DEAD_LETTER_TOPIC, DEAD_LETTERS);
        conf.set(KafkaOptions.DRIFT_TOPIC, DRIFT);
        conf.set(KafkaOptions.INPUT_FORMAT, dev.labelstream.io.InputFormat.JSON);
        conf.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.JSON);
        conf.set(KafkaOptions.INPUT_MAX_BYTES, MAX_BYTES);
        conf.set(KafkaOptions.STARTING_OFFSETS, KafkaOptions.StartingOffsets.EARLIEST);
        conf.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "labelstream-demo");
        conf.set(JobOptions.PARALLELISM, parallelism);
        // Outputs become visible to read_committed consumers at each checkpoint: short, for a live demo.
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
        conf.set(RestOptions.PORT, 0);
        return conf;
    }

    private int stream(PrintWriter out, EmbeddedKafka kafka, JobClient job, long t0) throws Exception {
        List<DemoData.Message> messages = DemoData.messages();
        Map<String, String> truth = new HashMap<>();
        Map<String, String> subjects = new HashMap<>();
        AtomicInteger produced = new AtomicInteger();
        AtomicBoolean producing = new AtomicBoolean(true);
        List<DemoData.Produced> malformed = DemoData.malformed(MAX_BYTES);
        List<DemoData.Produced> plan = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            DemoData.Message m = messages.get(i % messages.size());
            String suffix = i < messages.size() ? "" : "#" + (i / messages.size());
            plan.add(DemoData.event(m, suffix));
            truth.put(m.id() + suffix, m.label());
            subjects.put(m.id() + suffix, firstLine(m.text()));
        }
        // Malformed records spread evenly through the stream, as they would arrive in real traffic.
        for (int k = malformed.size() - 1; k >= 0; k--) {
            plan.add((int) ((long) (k + 1) * records / (malformed.size() + 1)), malformed.get(k));
        }
        long total = follow ? Long.MAX_VALUE : plan.size();
        Thread producer = new Thread(() -> produce(kafka, plan, produced, producing), "demo-producer");
        producer.setDaemon(true);
        producer.start();

        Stats s = new Stats();
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastPrint = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka.bootstrapServers())) {
            consumer.subscribe(List.of(OUTPUT, DEAD_LETTERS));
            while (follow || s.classified + s.deadLetters < total) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    s.add(r, truth, subjects);
                }
                long now = System.nanoTime();
                if (now - lastPrint > 1_000_000_000L) {
                    lastPrint = now;
                    progress(out, s, produced.get(), (now - t0) / 1e9);
                }
                if (now > deadline && !follow) {
                    out.printf("demo: gave up after %s with %d of %d records out; check the log above%n", timeout,
                            s.classified + s.deadLetters, total);
                    return 1;
                }
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    out.println("demo: the job ended unexpectedly: " + job.getJobStatus().get());
                    return 1;
                }
            }
        } finally {
            producing.set(false);
        }
        progress(out, s, produced.get(), (System.nanoTime() - t0) / 1e9);
        summary(out, s);
        return 0;
    }

    private void produce(EmbeddedKafka kafka, List<DemoData.Produced> plan, AtomicInteger produced,
            AtomicBoolean producing) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            long start = System.nanoTime();
            int round = 0;
            do {
                for (DemoData.Produced r : plan) {
                    if (!producing.get()) {
                        return;
                    }
                    byte[] key = round == 0 || r.key() == null ? r.key()
                            : (new String(r.key(), StandardCharsets.UTF_8) + "@" + round).getBytes(StandardCharsets.UTF_8);
                    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(INPUT, key, r.value());
                    rec.headers().add("producer", "labelstream-demo".getBytes(StandardCharsets.UTF_8));
                    producer.send(rec);
                    int n = produced.incrementAndGet();
                    long due = start + (long) (n * 1e9 / rate);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                round++;
            } while (follow && producing.get());
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "labelstream-demo-reader");
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** What the demo has read back from the output topics. */
    private static final class Stats {
        long classified;
        long deadLetters;
        long agree;
        long labeled;
        long firstOut;
        long lastOut;
        final Map<String, Long> actions = new TreeMap<>();
        final Map<String, Long> reasons = new TreeMap<>();
        final Map<String, ClassifiedEvent> examples = new TreeMap<>();
        final Map<String, String> exampleSubjects = new HashMap<>();

        void add(ConsumerRecord<byte[], byte[]> r, Map<String, String> truth, Map<String, String> subjects) {
            long now = System.nanoTime();
            if (firstOut == 0) {
                firstOut = now;
            }
            lastOut = now;
            if (r.topic().equals(DEAD_LETTERS)) {
                deadLetters++;
                DeadLetter d = DeadLetters.decode(r.value());
                reasons.merge(d.getErrorKind(), 1L, Long::sum);
                return;
            }
            classified++;
            ClassifiedEvent e = ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.JSON);
            actions.merge(e.getAction().name(), 1L, Long::sum);
            String expected = truth.get(e.getInputId());
            if (expected != null) {
                labeled++;
                if (expected.equals(e.getTopLabel())) {
                    agree++;
                }
            }
            String key = e.getAction().name() + "/" + e.getTopLabel();
            if (!examples.containsKey(key)) {
                examples.put(key, e);
                exampleSubjects.put(key, subjects.getOrDefault(e.getInputId(), ""));
            }
        }
    }

    private static void progress(PrintWriter out, Stats s, int produced, double seconds) {
        Histogram batch = InProcessMetrics.histogram(".labelstream.batchSize");
        Histogram latency = InProcessMetrics.histogram(".labelstream.inferenceLatencyMs");
        double throughput = s.lastOut > s.firstOut ? s.classified / ((s.lastOut - s.firstOut) / 1e9) : 0;
        out.printf(Locale.ROOT, "[%5.1fs] produced %4d | classified %4d  dead letters %3d | batches %4d, mean size"
                        + " %5.1f, p50 inference %4.0f ms | in flight %.0f | %5.1f records/s%n",
                seconds, produced, s.classified, s.deadLetters,
                batch == null ? 0 : batch.getCount(), batch == null ? 0 : batch.getStatistics().getMean(),
                latency == null ? 0 : latency.getStatistics().getQuantile(0.5),
                InProcessMetrics.gauge(".labelstream.inFlightBatches"), throughput);
        out.flush();
    }

    private static void summary(PrintWriter out, Stats s) {
        double seconds = (s.lastOut - s.firstOut) / 1e9;
        out.println();
        out.println("Summary");
        out.printf(Locale.ROOT, "  classified %d records in %.1f s (%.1f records/s from first to last output)%n",
                s.classified, seconds, seconds > 0 ? s.classified / seconds : 0);
        out.printf(Locale.ROOT, "  agreement with the corpus labels (ham/spam): %.1f%% of %d%n",
                100.0 * s.agree / Math.max(1, s.labeled), s.labeled);
        out.println("  actions: " + s.actions);
        out.println("  dead letters: " + s.deadLetters + " " + s.reasons);
        Histogram batch = InProcessMetrics.histogram(".labelstream.batchSize");
        if (batch != null) {
            out.printf(Locale.ROOT, "  batches: %d, size mean %.1f, p50 %.0f, max %d; padding efficiency (last) %.2f%n",
                    batch.getCount(), batch.getStatistics().getMean(), batch.getStatistics().getQuantile(0.5),
                    batch.getStatistics().getMax(), InProcessMetrics.gauge(".labelstream.paddingEfficiency"));
        }
        out.println("  examples:");
        for (Map.Entry<String, ClassifiedEvent> e : s.examples.entrySet()) {
            ClassifiedEvent c = e.getValue();
            out.printf(Locale.ROOT, "    %-6s %-4s %.3f  %s  \"%s\"%n", c.getAction(), c.getTopLabel(), c.getTopScore(),
                    c.getActionReason(), abbreviate(s.exampleSubjects.get(e.getKey()), 60));
        }
        s.examples.values().stream().filter(c -> c.getAction().name().equals("BLOCK")).findFirst().ifPresent(c ->
                out.println("  one decision as written to " + OUTPUT + ":\n    "
                        + new String(ClassifiedEvents.encode(c, KafkaOptions.OutputFormat.JSON), StandardCharsets.UTF_8)));
        out.flush();
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    private static String abbreviate(String s, int n) {
        return s == null ? "" : s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }
}
