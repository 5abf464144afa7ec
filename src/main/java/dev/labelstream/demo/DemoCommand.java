package dev.labelstream.demo;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.job.LabelstreamJob;
import dev.labelstream.job.PolicyStart;
import dev.labelstream.policy.PolicyOptions;
import dev.labelstream.config.ModelArgs;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.shadow.AgreementMonitor;
import dev.labelstream.policy.ModelControl;
import dev.labelstream.shadow.ShadowOptions;
import dev.labelstream.inference.ModelBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.avro.PolicyEvent;
import dev.labelstream.avro.Report;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.DriftReports;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.Reports;
import dev.labelstream.metrics.Metrics;
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
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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
                + " records that shifts part-way (a spam wave, then chat messages). Half-way it publishes a"
                + " stricter moderation policy to the policy topic, which the running job puts in force. Prints"
                + " live progress, drift reports and a summary (actions before and after the policy, and the time"
                + " from publishing it to its first decision), then exits (or runs until Ctrl-C with --follow)."})
public final class DemoCommand implements Callable<Integer> {
    static final String INPUT = "texts";
    static final String OUTPUT = "texts-classified";
    static final String DEAD_LETTERS = "texts-dead-letters";
    static final String DRIFT = "texts-drift";
    static final String POLICIES = "texts-policies";
    static final String SHADOW = "texts-shadow";
    /** Messages the candidate model's head is trained on: few, so that it disagrees with the default model. */
    static final int CANDIDATE_MESSAGES = 16;
    /** The policy the demo's job follows on {@link #POLICIES}. */
    static final String POLICY_ID = "demo-community";
    /**
     * The stricter policy published part-way: spam is reviewed from 0.3 and blocked from 0.6 (the bundle's
     * thresholds: 0.5 and 0.9).
     */
    static final String STRICTER = "{\"id\":\"" + POLICY_ID + "\",\"version\":1,\"description\":\"the demo's"
            + " stricter spam policy\",\"rules\":{\"spam\":{\"review\":0.3,\"block\":0.6}}}";
    private static final int MAX_BYTES = 64 * 1024;
    /** The demo's drift windows: short, so a one-minute demo shows several. */
    static final Duration WINDOW = Duration.ofSeconds(5);
    /** How long to wait for the last drift reports after the last record came out. */
    private static final Duration DRIFT_GRACE = Duration.ofSeconds(20);

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--records", defaultValue = "0", paramLabel = "N",
            description = "Records to send (default: the drift scenario once, 433 records: e-mail like the"
                    + " reference, a spam wave, chat messages, 13 malformed records; more repeat it, later).")
    int records;

    @Option(names = "--rate", defaultValue = "200", paramLabel = "PER_SECOND",
            description = "Messages produced per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--parallelism", defaultValue = "1", description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--shadow-sample-rate", defaultValue = "0.5", paramLabel = "RATE",
            description = "Share of records a candidate model (the default encoder with a head trained on only "
                    + CANDIDATE_MESSAGES + " messages) scores in shadow, with its agreement report per window; 0 for"
                    + " no shadow (default: ${DEFAULT-VALUE}: on a 2-core machine the shadow takes one core).")
    double shadowSampleRate;

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
        if (shadowSampleRate > 0) {
            candidate = Files.createTempDirectory("labelstream-demo-candidate");
            CandidateModel.write(ModelBundle.load(modelArgs.toConfiguration()), modelArgs.toConfiguration(),
                    DemoData.messages(), CANDIDATE_MESSAGES, candidate.resolve("model"));
        }
        try {
            return demo(out, t0);
        } finally {
            if (candidate != null) {
                deleteQuietly(candidate);
            }
        }
    }

    /** Prints the agreement reports that arrived since the last call, one line each. */
    private static void printAgreement(PrintWriter out, Stats s, long t0) {
        while (s.agreementPrinted < s.agreement.size()) {
            out.printf(Locale.ROOT, "[%5.1fs] shadow: %s%n", (System.nanoTime() - t0) / 1e9,
                    AgreementMonitor.headline(s.agreement.get(s.agreementPrinted++)));
        }
    }

    /** The candidate model's directory (a temporary one), or null without a shadow. */
    private Path candidate;

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            // a temporary directory: the system cleans it up
        }
    }

    private int demo(PrintWriter out, long t0) throws Exception {
        // The options first (the pass 'run' uses), before a broker is started for them: the address is a stand-in.
        dev.labelstream.config.Options.validate(jobConfiguration("localhost:9092"));
        out.println("labelstream demo: starting an embedded Kafka broker (KRaft) ...");
        out.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of())) {
            kafka.createTopics(2, INPUT);
            kafka.createTopics(1, OUTPUT, DEAD_LETTERS, DRIFT, SHADOW);
            createCompacted(kafka, POLICIES);
            out.printf("  broker %s, topics %s (2 partitions), %s, %s, %s, %s (compacted)%n", kafka.bootstrapServers(),
                    INPUT, OUTPUT, DEAD_LETTERS, DRIFT, POLICIES);
            Configuration conf = jobConfiguration(kafka.bootstrapServers());
            LocalCheckpoints.inTemporaryDirectory(conf, "labelstream-demo-checkpoints");
            InProcessMetrics.clear();
            InProcessMetrics.configure(conf);
            // The policy topic's pre-flight, as 'run' does: empty here, so the bundle's thresholds start.
            JobSettings settings = PolicyStart.prepare(JobSettings.of(conf), Duration.ofSeconds(30),
                    w -> out.println("  warning: " + w));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings.configuration());
            LabelstreamJob.build(env, settings);
            out.printf("  starting the Flink job (MiniCluster, parallelism %d, model %s) ...%n", parallelism,
                    conf.getOptional(InferenceOptions.MODEL_DIR)
                            .orElse("built-in " + dev.labelstream.inference.DefaultModel.builtin(conf)));
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

    private static void createCompacted(EmbeddedKafka kafka, String topic) throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get();
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
        conf.set(PolicyOptions.POLICY_TOPIC, POLICIES);
        conf.set(PolicyOptions.POLICY_ID, POLICY_ID);
        conf.set(JobOptions.PARALLELISM, parallelism);
        // Outputs become visible to read_committed consumers at each checkpoint: short, for a live demo.
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
        // Drift: windows of 5 s of event time (the demo stamps its records), so each part of the scenario fills
        // its own window whatever the speed of this machine; the demo injects ~3% malformed records on purpose,
        // so the dead-letter thresholds are raised above that.
        conf.set(DriftOptions.WINDOW_TIME, DriftOptions.WindowTime.EVENT);
        conf.set(DriftOptions.WINDOW, WINDOW);
        conf.set(DriftOptions.MAX_OUT_OF_ORDERNESS, Duration.ofSeconds(1));
        conf.set(DriftOptions.IDLE_TIMEOUT, Duration.ofSeconds(60));
        conf.set(DriftOptions.MIN_WINDOW_RECORDS, 50);
        conf.set(DriftOptions.DEAD_LETTER_RATE_WARN, 0.05);
        conf.set(DriftOptions.DEAD_LETTER_RATE_ALERT, 0.1);
        conf.set(RestOptions.PORT, 0);
        if (candidate != null) {
            conf.set(ShadowOptions.MODEL_DIR, candidate.resolve("model").toString());
            conf.set(ShadowOptions.SAMPLE_RATE, shadowSampleRate);
            conf.set(KafkaOptions.SHADOW_TOPIC, SHADOW);
        }
        return conf;
    }

    private int stream(PrintWriter out, EmbeddedKafka kafka, JobClient job, long t0) throws Exception {
        List<DemoData.Planned> scenario = DemoData.driftScenario(DemoData.messages(), DemoData.malformed(MAX_BYTES),
                WINDOW.toMillis());
        int count = records > 0 ? records : scenario.size();
        // The stream starts at a window boundary (in the recent past), so the scenario's parts fill whole windows.
        long start = System.currentTimeMillis() / WINDOW.toMillis() * WINDOW.toMillis();
        long span = 5 * WINDOW.toMillis();
        Map<String, String> truth = new HashMap<>();
        Map<String, String> subjects = new HashMap<>();
        List<Timed> plan = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int round = i / scenario.size();
            DemoData.Planned p = scenario.get(i % scenario.size());
            long time = start + round * span + p.offsetMillis();
            DemoData.Produced r = DemoData.at(p.produced(), time, round == 0 ? "" : "#" + round);
            plan.add(new Timed(r, time));
            if (r.key() != null) {
                String id = new String(r.key(), StandardCharsets.UTF_8);
                if (r.expectedLabel() != null) {
                    truth.put(id, r.expectedLabel());
                }
                subjects.put(id, p.subject());
            }
        }
        int rounds = (count + scenario.size() - 1) / scenario.size();
        // Every window but the last tail's closes (the tail moves the watermark past the window before it).
        long expectedReports = follow ? Long.MAX_VALUE : (long) rounds * 5 - 1;
        AtomicInteger produced = new AtomicInteger();
        AtomicBoolean producing = new AtomicBoolean(true);
        // records/s counts from the first record produced: the job's whole latency is in it, and before the first
        // output the rate is 0, not the spread of a few receive times (which read 2272 records/s after 48).
        AtomicLong firstProduced = new AtomicLong();
        long total = follow ? Long.MAX_VALUE : plan.size();
        // The stricter policy goes out half-way through the first round: the producer pauses there until what it
        // produced is out, then the policy is published and the rest produced. So the first half is decided by the
        // bundle's thresholds, the second by the policy, and the time to its first decision is the policy's way
        // through the job, not a backlog (the producer otherwise runs far ahead of a CPU model).
        int policyAt = Math.max(1, Math.min(plan.size(), scenario.size()) / 2);
        AtomicLong policyPublishedAt = new AtomicLong();
        // The candidate is promoted once three quarters of the first round are out (the producer waits there, as
        // for the policy): the last quarter is decided by it.
        int promoteAt = candidate == null ? 0 : Math.max(policyAt + 1, Math.min(plan.size(), scenario.size()) * 3 / 4);
        AtomicLong promotedAt = new AtomicLong();
        Thread producer = new Thread(() -> produce(kafka, plan, span * rounds, produced, firstProduced, producing,
                policyAt, policyPublishedAt, promoteAt, promotedAt), "demo-producer");
        producer.setDaemon(true);
        producer.start();

        Stats s = new Stats();
        s.policyPublishedAt = policyPublishedAt;
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastPrint = 0;
        long outputsDoneAt = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka.bootstrapServers());
                KafkaProducer<byte[], byte[]> policyProducer = policyProducer(kafka.bootstrapServers())) {
            consumer.subscribe(List.of(OUTPUT, DEAD_LETTERS, DRIFT));
            while (follow || s.classified + s.deadLetters < total || s.drift.size() < expectedReports) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    DriftReport d = s.add(r, truth, subjects);
                    if (s.firstUnderPolicy != null && !s.policyAnnounced) {
                        s.policyAnnounced = true;
                        out.printf(Locale.ROOT, "[%5.1fs] policy: first decision under %s v1 read back; decided %d ms"
                                + " after publishing%n", (System.nanoTime() - t0) / 1e9, POLICY_ID,
                                s.publishToDecisionMs());
                    }
                    if (d != null) {
                        out.printf(Locale.ROOT, "[%5.1fs] drift: %s%n", (System.nanoTime() - t0) / 1e9,
                                DriftReports.headline(d));
                    }
                    printAgreement(out, s, t0);
                }
                if (candidate != null && promotedAt.get() == 0 && s.classified + s.deadLetters >= promoteAt) {
                    s.promotedAt = publish(policyProducer, ModelControl.key(POLICY_ID),
                            new ModelControl(null, null).toJson());
                    promotedAt.set(s.promotedAt);
                    out.printf(Locale.ROOT, "[%5.1fs] model: published {\"promote\": \"shadow\"} after %d records"
                            + " out; the candidate decides every record batched after it arrives%n",
                            (System.nanoTime() - t0) / 1e9, s.classified + s.deadLetters);
                }
                if (policyPublishedAt.get() == 0 && s.classified + s.deadLetters >= policyAt) {
                    publishPolicy(policyProducer, policyPublishedAt);
                    out.printf(Locale.ROOT, "[%5.1fs] policy: published %s v1 (stricter: spam review 0.3, block 0.6)"
                            + " after %d records out%n", (System.nanoTime() - t0) / 1e9, POLICY_ID,
                            s.classified + s.deadLetters);
                }
                long now = System.nanoTime();
                if (now - lastPrint > 1_000_000_000L) {
                    lastPrint = now;
                    progress(out, s, produced.get(), (now - t0) / 1e9, throughput(s.classified, firstProduced.get(), now));
                }
                if (outputsDoneAt == 0 && s.classified + s.deadLetters >= total) {
                    outputsDoneAt = now;
                }
                if (outputsDoneAt != 0 && now - outputsDoneAt > DRIFT_GRACE.toNanos()) {
                    out.printf("demo: %d of %d drift reports arrived within %s of the last record%n", s.drift.size(),
                            expectedReports, DRIFT_GRACE);
                    break;
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
            // The shadow's windows close with the drift windows, its reports a moment later: a few seconds more.
            long agreementDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (candidate != null && s.agreement.size() < s.drift.size() && System.nanoTime() < agreementDeadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    s.add(r, truth, subjects);
                }
                printAgreement(out, s, t0);
            }
        } finally {
            producing.set(false);
        }
        long end = System.nanoTime();
        progress(out, s, produced.get(), (end - t0) / 1e9, throughput(s.classified, firstProduced.get(), end));
        summary(out, s, firstProduced.get(), start, span);
        return 0;
    }

    /** A record to produce and its Kafka timestamp (the event time of the drift windows). */
    private record Timed(DemoData.Produced record, long timestamp) {}

    private void produce(EmbeddedKafka kafka, List<Timed> plan, long span, AtomicInteger produced,
            AtomicLong firstProduced, AtomicBoolean producing, int policyAt, AtomicLong policyPublishedAt,
            int promoteAt, AtomicLong promotedAt) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            long start = System.nanoTime();
            int round = 0;
            do {
                for (Timed t : plan) {
                    if (!producing.get()) {
                        return;
                    }
                    DemoData.Produced r = round == 0 ? t.record() : DemoData.at(t.record(), t.timestamp()
                            + round * span, "@" + round);
                    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(INPUT, null,
                            t.timestamp() + round * span, r.key(), r.value());
                    rec.headers().add("producer", "labelstream-demo".getBytes(StandardCharsets.UTF_8));
                    producer.send(rec);
                    firstProduced.compareAndSet(0, System.nanoTime());
                    int n = produced.incrementAndGet();
                    AtomicLong pauseFor = round != 0 ? null : n == policyAt ? policyPublishedAt
                            : n == promoteAt ? promotedAt : null;
                    if (pauseFor != null) {
                        producer.flush();
                        while (pauseFor.get() == 0 && producing.get()) {
                            Thread.sleep(20);
                        }
                        // the pacing goes on from now, not catching up for the pause
                        start = System.nanoTime() - (long) (n * 1e9 / rate);
                    }
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

    /**
     * Publishes {@link #STRICTER} keyed by its id, as {@code labelstream policy publish} does, and records when the
     * broker acknowledged it (wall clock, the clock of the decisions' decision_time: one JVM).
     */
    private static void publishPolicy(KafkaProducer<byte[], byte[]> producer, AtomicLong publishedAt) {
        publishedAt.set(publish(producer, POLICY_ID, STRICTER.getBytes(StandardCharsets.UTF_8)));
    }

    /** Publishes one control record to the policy topic; returns when the broker acknowledged it (ms). */
    private static long publish(KafkaProducer<byte[], byte[]> producer, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(POLICIES, key.getBytes(StandardCharsets.UTF_8), value)).get();
            return System.currentTimeMillis();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return System.currentTimeMillis();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("publishing to the demo's policy topic failed", e);
        }
    }

    private static KafkaProducer<byte[], byte[]> policyProducer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
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
        long lastOut;
        final Map<String, Long> actions = new TreeMap<>();
        final Map<String, Long> reasons = new TreeMap<>();
        final Map<String, ClassifiedEvent> examples = new TreeMap<>();
        final Map<String, String> exampleSubjects = new HashMap<>();
        final List<DriftReport> drift = new ArrayList<>();
        /** The shadow's agreement reports, in arrival order. */
        final List<AgreementReport> agreement = new ArrayList<>();
        int agreementPrinted;
        /** Actions per policy version that decided them (the bundle's thresholds, then the published policy). */
        final Map<String, Map<String, Long>> actionsByPolicy = new java.util.LinkedHashMap<>();
        /** When the stricter policy was acknowledged by the broker (ms, wall clock); 0 before. */
        AtomicLong policyPublishedAt;
        /** The first decision under the published policy, in decision time. */
        ClassifiedEvent firstUnderPolicy;
        /** When that decision was read back (ms): it is visible once its checkpoint commits. */
        long firstUnderPolicyReadAt;
        boolean policyAnnounced;
        /** When the last subtask put the published policy in force (its policy_event), ms; 0 before. */
        long policyInForceAt;
        final List<String> policyRejections = new ArrayList<>();
        /** Decisions per model version (the candidate's after its promotion). */
        final Map<String, Long> byModel = new java.util.LinkedHashMap<>();
        /** When the promotion was acknowledged (ms); 0 before. */
        long promotedAt;
        /** The earliest decision time by the promoted candidate (ms); 0 before. */
        long firstByCandidate;
        final List<String> modelEvents = new ArrayList<>();

        /** From the broker's acknowledgement of the policy to the decision_time of its first decision. */
        long publishToDecisionMs() {
            return firstUnderPolicy.getDecisionTime().toEpochMilli() - policyPublishedAt.get();
        }

        /** Counts {@code r}; returns it if it is a drift report. */
        DriftReport add(ConsumerRecord<byte[], byte[]> r, Map<String, String> truth, Map<String, String> subjects) {
            if (r.topic().equals(DRIFT)) {
                // The report topic's envelope: other kinds (policy events, shadow agreement) are not the demo's.
                Report envelope = Reports.decode(r.value(), KafkaOptions.OutputFormat.JSON);
                if (Reports.AGREEMENT_REPORT.equals(envelope.getKind())) {
                    agreement.add(Reports.body(envelope, AgreementReport.class, KafkaOptions.OutputFormat.JSON));
                    return null;
                }
                if (Reports.POLICY_EVENT.equals(envelope.getKind())) {
                    PolicyEvent p = Reports.body(envelope, PolicyEvent.class, KafkaOptions.OutputFormat.JSON);
                    // One event per subtask: the policy is in force everywhere at the last one.
                    if (p.getKind().startsWith("MODEL_") && modelEvents.stream().noneMatch(
                            m -> m.startsWith(p.getKind()))) {
                        modelEvents.add(p.getKind() + " " + p.getModel() + " (" + p.getReason() + ")");
                    }
                    if ("ACCEPTED".equals(p.getKind()) && p.getVersion() == 1) {
                        policyInForceAt = Math.max(policyInForceAt, p.getTime().toEpochMilli());
                    } else if ("REJECTED".equals(p.getKind())) {
                        policyRejections.add("v" + p.getVersion() + ": " + p.getReason());
                    }
                    return null;
                }
                DriftReport d = DriftReports.of(envelope, KafkaOptions.OutputFormat.JSON);
                if (d != null) {
                    drift.add(d);
                }
                return d;
            }
            lastOut = System.nanoTime();
            if (r.topic().equals(DEAD_LETTERS)) {
                deadLetters++;
                DeadLetter d = DeadLetters.decode(r.value());
                reasons.merge(d.getErrorKind(), 1L, Long::sum);
                return null;
            }
            classified++;
            ClassifiedEvent e = ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.JSON);
            actions.merge(e.getAction().name(), 1L, Long::sum);
            byModel.merge(e.getModelName() + "@" + e.getModelVersion(), 1L, Long::sum);
            if (promotedAt != 0 && e.getModelVersion().endsWith("-few" + CANDIDATE_MESSAGES)) {
                long t = e.getDecisionTime().toEpochMilli();
                firstByCandidate = firstByCandidate == 0 ? t : Math.min(firstByCandidate, t);
            }
            String policy = POLICY_ID.equals(e.getPolicyId()) && !"1".equals(e.getPolicyVersion())
                    ? "built-in thresholds (" + e.getPolicyVersion() + ")" : e.getPolicyId() + " v" + e.getPolicyVersion();
            actionsByPolicy.computeIfAbsent(policy, k -> new TreeMap<>()).merge(e.getAction().name(), 1L, Long::sum);
            // Outputs of two partitions interleave: the earliest decision time, not the first read, is the first.
            if ("1".equals(e.getPolicyVersion()) && (firstUnderPolicy == null
                    || e.getDecisionTime().isBefore(firstUnderPolicy.getDecisionTime()))) {
                firstUnderPolicy = e;
                firstUnderPolicyReadAt = System.currentTimeMillis();
            }
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
            return null;
        }
    }

    /**
     * Records classified per second since the first record was produced ({@code firstProducedNanos}, 0 while none
     * has been): 0 before the first record.
     */
    static double throughput(long classified, long firstProducedNanos, long nowNanos) {
        return firstProducedNanos == 0 || nowNanos <= firstProducedNanos ? 0
                : classified / ((nowNanos - firstProducedNanos) / 1e9);
    }

    private static void progress(PrintWriter out, Stats s, int produced, double seconds, double throughput) {
        Histogram batch = InProcessMetrics.histogram(InProcessMetrics.suffix(Metrics.BATCH_SIZE));
        Histogram latency = InProcessMetrics.histogram(InProcessMetrics.suffix(Metrics.INFERENCE_LATENCY_MS));
        out.printf(Locale.ROOT, "[%5.1fs] produced %4d | classified %4d  dead letters %3d | batches %4d, mean size"
                        + " %5.1f, p50 inference %4.0f ms | in flight %.0f | %5.1f records/s%n",
                seconds, produced, s.classified, s.deadLetters,
                batch == null ? 0 : batch.getCount(), batch == null || batch.getCount() == 0 ? 0 : batch.getStatistics().getMean(),
                latency == null || latency.getCount() == 0 ? 0 : latency.getStatistics().getQuantile(0.5),
                InProcessMetrics.gauge(InProcessMetrics.suffix(Metrics.IN_FLIGHT_BATCHES)), throughput);
        out.flush();
    }

    private static void summary(PrintWriter out, Stats s, long firstProduced, long start, long span) {
        double seconds = firstProduced == 0 || s.lastOut < firstProduced ? 0 : (s.lastOut - firstProduced) / 1e9;
        out.println();
        out.println("Summary");
        out.printf(Locale.ROOT, "  classified %d records in %.1f s (%.1f records/s from the first record produced to"
                + " the last output)%n", s.classified, seconds, throughput(s.classified, firstProduced, s.lastOut));
        out.printf(Locale.ROOT, "  agreement with the corpus labels (ham/spam): %.1f%% of %d%n",
                100.0 * s.agree / Math.max(1, s.labeled), s.labeled);
        out.println("  actions: " + s.actions);
        out.println("  actions by the policy that decided them (the stream itself shifts too, so compare with care):");
        s.actionsByPolicy.forEach((policy, a) -> out.printf("    %-48s %s%n", policy, a));
        if (s.firstUnderPolicy != null) {
            out.printf(Locale.ROOT, "  policy %s v1, from publishing (broker ack): in force in every batcher after %s,"
                    + " first decision under it after %d ms (its decision_time; records batched before it arrived"
                    + " are decided by the old one), visible to read_committed consumers after %d ms (its"
                    + " checkpoint)%n", POLICY_ID, s.policyInForceAt == 0 ? "? (no policy_event read)"
                            : (s.policyInForceAt - s.policyPublishedAt.get()) + " ms",
                    s.publishToDecisionMs(), s.firstUnderPolicyReadAt - s.policyPublishedAt.get());
            s.policyRejections.forEach(r -> out.println("  policy rejected: " + r));
        } else if (s.policyPublishedAt.get() != 0) {
            out.println("  policy " + POLICY_ID + " v1 was published, but no decision under it was read back");
        }
        out.println("  dead letters: " + s.deadLetters + " " + s.reasons);
        Histogram batch = InProcessMetrics.histogram(InProcessMetrics.suffix(Metrics.BATCH_SIZE));
        if (batch != null) {
            out.printf(Locale.ROOT, "  batches: %d, size mean %.1f, p50 %.0f, max %d; padding efficiency (last) %.2f%n",
                    batch.getCount(), batch.getStatistics().getMean(), batch.getStatistics().getQuantile(0.5),
                    batch.getStatistics().getMax(), InProcessMetrics.gauge(InProcessMetrics.suffix(Metrics.PADDING_EFFICIENCY)));
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
        drift(out, s.drift, start, span);
        agreement(out, s.agreement);
        if (s.promotedAt != 0) {
            out.println("  decisions by model: " + s.byModel);
            s.modelEvents.forEach(m -> out.println("    " + m));
            out.println(s.firstByCandidate == 0 ? "  promotion: no decision by the candidate was read back"
                    : String.format(Locale.ROOT, "  promotion: first decision by the candidate %d ms after publishing"
                            + " (its decision_time); the job did not restart", s.firstByCandidate - s.promotedAt));
        }
        out.flush();
    }

    /**
     * The shadow's agreement over the whole stream (its windows' figures added up: counts and cells add; agreement
     * is agreed / compared) and the largest disagreements of the window that had the most.
     */
    private static void agreement(PrintWriter out, List<AgreementReport> all) {
        // After the promotion the candidate is also the primary: those windows compare it with itself.
        List<AgreementReport> reports = all.stream().filter(r -> !(r.getPrimaryModelName() + "@"
                + r.getPrimaryModelVersion()).equals(r.getShadowModelName() + "@" + r.getShadowModelVersion()))
                .toList();
        if (reports.isEmpty()) {
            return;
        }
        AgreementReport first = reports.get(0);
        long sampled = 0;
        long compared = 0;
        long shed = 0;
        long failed = 0;
        double agreed = 0;
        Map<String, Long> confusion = new TreeMap<>();
        Map<String, Long> actions = new TreeMap<>();
        for (AgreementReport r : reports) {
            sampled += r.getSampled();
            compared += r.getCompared();
            shed += r.getShed();
            failed += r.getFailed();
            agreed += r.getAgreement() == null ? 0 : r.getAgreement() * r.getCompared();
            r.getConfusion().forEach(c -> confusion.merge(c.getPrimary() + " -> " + c.getShadow(), c.getCount(),
                    Long::sum));
            r.getActions().forEach(a -> actions.merge(a.getPrimary() + " -> " + a.getShadow(), a.getCount(),
                    Long::sum));
        }
        out.printf(Locale.ROOT, "  shadow: %s@%s (head trained on %d messages) beside %s@%s, %d reports written to"
                        + " %s (and %d after the promotion, comparing it with itself), decisions to %s%n",
                first.getShadowModelName(), first.getShadowModelVersion(), CANDIDATE_MESSAGES,
                first.getPrimaryModelName(), first.getPrimaryModelVersion(), reports.size(), DRIFT,
                all.size() - reports.size(), SHADOW);
        out.printf(Locale.ROOT, "    %d sampled (rate %.2f), %d compared, %d shed, %d failed; top-label agreement"
                + " %.3f%n", sampled, first.getSampleRate(), compared, shed, failed, compared == 0 ? Double.NaN
                        : Math.round(agreed) / (double) compared);
        out.println("    top labels, primary -> shadow: " + confusion);
        out.println("    actions, primary -> shadow:    " + actions);
        reports.stream().max(java.util.Comparator.comparingInt(r -> r.getLargestDisagreements().size()))
                .filter(r -> !r.getLargestDisagreements().isEmpty()).ifPresent(r -> {
                    out.println("    largest disagreements (ids only) in the window from " + r.getWindowStart() + ":");
                    r.getLargestDisagreements().forEach(d -> out.printf(Locale.ROOT, "      %-12s %s -> %s  %.3f%n",
                            d.getInputId(), d.getPrimaryLabel(), d.getShadowLabel(), d.getDistance()));
                });
    }

    /** The drift reports, window by window, each with the part of the stream it holds. */
    private static void drift(PrintWriter out, List<DriftReport> reports, long start, long span) {
        if (reports.isEmpty()) {
            out.println("  drift: no report arrived");
            return;
        }
        List<DriftReport> sorted = new ArrayList<>(reports);
        sorted.sort(java.util.Comparator.comparing(DriftReport::getWindowStart));
        out.printf("  drift: one report per %d s window of event time (the records' Kafka timestamps), against %s;"
                + " written to %s%n", WINDOW.toSeconds(), sorted.get(0).getReference(), DRIFT);
        String[] parts = {DemoData.BASELINE, DemoData.BASELINE, DemoData.SPAM_WAVE, DemoData.CHAT, DemoData.TAIL};
        for (DriftReport r : sorted) {
            long offset = Math.floorMod(r.getWindowStart().toEpochMilli() - start, span);
            out.println("    [" + parts[(int) Math.min(parts.length - 1, offset / WINDOW.toMillis())] + "]");
            out.print(DriftReports.render(r, "    "));
        }
        DriftReport last = sorted.get(sorted.size() - 1);
        out.println("  " + driftGauges(DriftReports.modelKey(last)));
        sorted.stream().filter(r -> r.getStatus() == DriftStatus.ALERT).findFirst().ifPresent(r -> {
            DriftStatistic first = DriftReports.statistic(r, r.getTripped().get(0));
            out.printf(Locale.ROOT, "  first alert: window from %s: %s = %.3f, alert threshold %s (%s)%n",
                    r.getWindowStart(), first.getName(), first.getValue(), first.getAlertThreshold(),
                    DriftReports.describe(first.getName()));
        });
    }

    /**
     * The drift monitor's gauges of model version {@code modelKey} (name@version), found through the group's
     * {@value Metrics#MODEL} variable (the metric identifier holds the value filtered: {@code @1_1_0}); NaN for a
     * gauge that is not there.
     */
    static String driftGauges(String modelKey) {
        Map<String, String> model = Map.of(Metrics.MODEL, modelKey);
        double windowEnd = InProcessMetrics.gauge(Metrics.DRIFT_WINDOW_END, model);
        return String.format(Locale.ROOT, "drift gauges (labelstream.drift, model=%s; the window ending %s): status %s,"
                        + " token_length_psi %.3f, embedding_cosine_distance %.3f, embedding_mmd %.4f", modelKey,
                Double.isNaN(windowEnd) ? "NaN" : java.time.Instant.ofEpochMilli((long) windowEnd),
                Metrics.driftStatusText(InProcessMetrics.gauge(Metrics.DRIFT_STATUS, model)),
                InProcessMetrics.gauge("token_length_psi", model),
                InProcessMetrics.gauge("embedding_cosine_distance", model),
                InProcessMetrics.gauge("embedding_mmd", model));
    }

    private static String abbreviate(String s, int n) {
        return s == null ? "" : s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }
}
