package dev.labelstream.bench;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.job.LabelstreamJob;
import dev.labelstream.job.PolicyStart;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyOptions;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.demo.LocalCheckpoints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.Reports;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.shadow.ShadowOptions;
import dev.labelstream.shadow.ShadowSample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One run of the real job ({@link LabelstreamJob#build}) on a Flink MiniCluster in this JVM against the embedded
 * broker, with exactly-once delivery, measured from outside the job the way a consumer sees it:
 *
 * <ol>
 *   <li>warm-up and measured records are produced into a fresh input topic before the job starts (pre-loaded),
 *       with ids {@code w<i>} and {@code m<i>};
 *   <li>the job starts; a {@code read_committed} consumer reads the output and dead-letter topics, so a record
 *       counts when its transaction has committed (at a checkpoint), and notes when it received each one;
 *   <li>optionally, once all of that is out, records {@code p<i>} are produced at a fixed rate for a fixed time
 *       (the latency phase), each with its send time as the Kafka timestamp.
 * </ol>
 *
 * <p>With a shadow model ({@link Extras#shadow}) the consumer also reads the shadow topic and the report topic, and
 * the run waits, after the last primary output, until the shadow has accounted for every record of its sample
 * (scored and committed, shed or failed; at most {@link #drainMs}), so that its figures are complete; the primary's
 * rates come from the primary's outputs only.
 *
 * <p>Clocks: receive times and record timestamps are this JVM's wall clock in milliseconds; the job copies the
 * input's Kafka timestamp into {@code ingest_time} and stamps {@code decision_time} when the batch is classified.
 */
final class BenchPipeline {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BenchPipeline.class);
    /** No new output for this long (after the first) means the run is stuck. */
    private static final long STALL_MS = 90_000;
    /** The job must produce its first output within this long (MiniCluster start, model load, first batch). */
    private static final long FIRST_OUTPUT_MS = 180_000;

    private BenchPipeline() {}

    /**
     * What one run sends: pre-loaded warm-up and measured records, then an optional paced phase at {@code
     * pacedRate} records/s, or (when that is 0) at {@code loadFraction} of the rate this run just measured
     * ({@link Result#peakRate()}).
     */
    record Plan(int warmup, int measured, double pacedRate, double loadFraction, Duration pacedDuration) {
        static Plan throughput(int warmup, int measured) {
            return new Plan(warmup, measured, 0, 0, Duration.ZERO);
        }

        boolean paced() {
            return (pacedRate > 0 || loadFraction > 0) && pacedDuration != null && !pacedDuration.isZero();
        }
    }

    /**
     * What a run adds to the job, each null for none: a policy topic carrying {@code policy} ({@link BenchPolicy}),
     * a shadow model ({@link BenchShadow}).
     */
    record Extras(BenchPolicy.Document policy, BenchShadow.Shadow shadow) {
        static final Extras NONE = new Extras(null, null);

        static Extras policy(BenchPolicy.Document policy) {
            return new Extras(policy, null);
        }

        static Extras shadow(BenchShadow.Shadow shadow) {
            return new Extras(null, shadow);
        }
    }

    /**
     * What the shadow did in a run with one: its decisions read from the shadow topic (committed, once per input
     * id), the job's shadow counters, and the agreement reports that reached the report topic.
     *
     * @param rate shadow.sample-rate
     * @param sampled classified records in the sample (by their keys, as the job samples them), all phases
     * @param compared shadow decisions on the shadow topic: records the shadow scored
     * @param marked of those, the ones with shadow = true and a primary_decision_id
     * @param linked of those, the ones whose primary_decision_id is the decision_id of the primary's output for the
     *     same input id
     * @param scored the job's shadowScored counter
     * @param shed the job's shadowShed counter: sampled records not scored because the shadow was behind
     * @param failed the job's shadowFailed counter
     * @param reports the agreement reports written during the run (only windows that closed: drift.window, on the
     *     drift windows' clock)
     * @param drained whether the shadow accounted for every sampled record (scored + shed + failed = sampled, and
     *     every scored one committed) before the run ended
     */
    record ShadowFigures(double rate, int sampled, int compared, int marked, int linked, long scored, long shed,
            long failed, List<AgreementReport> reports, boolean drained) {
        /** Sums of the agreement reports' counts: compared, shed, failed. */
        long[] reported() {
            long[] c = new long[3];
            for (AgreementReport r : reports) {
                c[0] += r.getCompared();
                c[1] += r.getShed();
                c[2] += r.getFailed();
            }
            return c;
        }
    }

    /** Outputs of one phase, in the order the consumer received them. */
    static final class Phase {
        final List<Long> receiveMs = new ArrayList<>();
        final List<Long> ingestMs = new ArrayList<>();
        final List<Long> decisionMs = new ArrayList<>();
        final List<String> batchKeys = new ArrayList<>();
        int deadLetters;

        void add(long receive, long ingest, long decision, String batchKey) {
            receiveMs.add(receive);
            ingestMs.add(ingest);
            decisionMs.add(decision);
            batchKeys.add(batchKey);
        }

        int classified() {
            return receiveMs.size();
        }

        int outputs() {
            return receiveMs.size() + deadLetters;
        }

        long[] receive() {
            return receiveMs.stream().mapToLong(Long::longValue).toArray();
        }

        long[] decision() {
            return decisionMs.stream().mapToLong(Long::longValue).toArray();
        }

        /** End-to-end latency of each record: receive (commit) time minus produce time. */
        long[] latencies() {
            long[] out = new long[receiveMs.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = receiveMs.get(i) - ingestMs.get(i);
            }
            return out;
        }

    }

    /** The job's own view, from the in-process metric reporter. */
    record JobMetrics(long batches, double meanBatch, double p50Batch, long maxBatch, double paddingEfficiency,
            double p50InferenceMs, double tokenizeMsSum, double inferenceMsSum, long recordsOut) {
        static final JobMetrics NONE = new JobMetrics(0, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, 0);
    }

    /**
     * What one run measured; {@code decidedBy}: classified records by the policy their decision names ({@link
     * #policyOf}), all phases together; {@code markedShadow}: output-topic (primary) decisions with shadow = true
     * (0 unless something is wrong); {@code shadow}: the shadow's figures, null in a run without one.
     */
    record Result(String name, Plan plan, Phase warmup, Phase measured, Phase paced, int pacedSent,
            double offeredRate, long startupMs, double cpuCores, JobMetrics metrics, String problem,
            Map<String, Long> cpuSplit, Map<String, Integer> decidedBy, int markedShadow, ShadowFigures shadow) {

        /**
         * Measured records per second as committed: all pre-loaded records' consumer receive times, from the
         * commit that completed the warm-up (the {@code warmup}-th record out) to the last commit, counting the
         * records received after the former.
         */
        double committedRate() {
            return BenchStats.rateAfter(warmup.classified(), concat(warmup.receive(), measured.receive()));
        }

        /** The same from the job's decision times (batch completion), free of checkpoint granularity. */
        double processedRate() {
            return BenchStats.rateAfter(warmup.classified(), concat(warmup.decision(), measured.decision()));
        }

        /**
         * The rate a fixed offered load is a fraction of: processed throughput (the job's capacity, measured at
         * batch rather than checkpoint granularity), or committed throughput when that is missing.
         */
        double peakRate() {
            double processed = processedRate();
            return Double.isNaN(processed) ? committedRate() : processed;
        }

        private static long[] concat(long[] a, long[] b) {
            long[] out = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }

        int deadLetters() {
            return warmup.deadLetters + measured.deadLetters + paced.deadLetters;
        }

        boolean ok() {
            return problem == null;
        }

        /** Classified records, all phases. */
        int classified() {
            return warmup.classified() + measured.classified() + paced.classified();
        }

        /** Primary outputs (decisions and dead letters), all phases. */
        int outputs() {
            return warmup.outputs() + measured.outputs() + paced.outputs();
        }

        /** Classified records whose decision names {@code policy} ("id vN", {@link PolicyDocument#toString}). */
        int decidedBy(String policy) {
            return decidedBy.getOrDefault(policy, 0);
        }
    }

    /**
     * The policy a decision names, as {@link PolicyDocument#toString} writes a published one ("id vN"); "no policy
     * id, &lt;version&gt;" when the bundle's thresholds decided without a policy topic.
     */
    static String policyOf(ClassifiedEvent e) {
        return e.getPolicyId() == null ? "no policy id, " + e.getPolicyVersion()
                : e.getPolicyId() + " v" + e.getPolicyVersion();
    }

    /** Runs the job on {@code kafka} with {@code base} (inference, batching, checkpoint settings) and {@code plan}. */
    static Result run(EmbeddedKafka kafka, Configuration base, String runId, BenchCorpus corpus, Plan plan)
            throws Exception {
        return run(kafka, base, runId, corpus, plan, Set.of());
    }

    /**
     * As above; {@code brokerThreads}: ids of the embedded broker's threads, so that their CPU time is reported
     * apart ({@link BenchCpu}).
     */
    static Result run(EmbeddedKafka kafka, Configuration base, String runId, BenchCorpus corpus, Plan plan,
            Set<Long> brokerThreads) throws Exception {
        return run(kafka, base, runId, corpus, plan, brokerThreads, Extras.NONE);
    }

    /**
     * As above, with {@code extras}. With a policy (null: none), the job has a policy topic: a fresh compacted one,
     * the policy published to it keyed by its id before the job starts, {@code moderation.policy-id} its id, and
     * the job is prepared as {@code run} prepares it ({@link PolicyStart#prepare}: pre-flight, then it starts with
     * the newest version on the topic). Its batcher is then the two-input broadcast operator. With a shadow (null:
     * none), the job has {@code shadow.model.dir} and {@code shadow.sample-rate} of it and a fresh shadow topic.
     */
    static Result run(EmbeddedKafka kafka, Configuration base, String runId, BenchCorpus corpus, Plan plan,
            Set<Long> brokerThreads, Extras extras) throws Exception {
        BenchPolicy.Document policy = extras.policy();
        BenchShadow.Shadow shadowModel = extras.shadow();
        String prefix = "bench-" + runId;
        String in = prefix + "-in";
        String out = prefix + "-out";
        String dead = prefix + "-dead-letters";
        String drift = prefix + "-drift";
        String shadowTopic = prefix + "-shadow";
        int parallelism = base.getOptional(JobOptions.PARALLELISM).orElse(1);
        kafka.createTopics(parallelism, in);
        kafka.createTopics(1, out, dead, drift);
        if (shadowModel != null) {
            kafka.createTopics(1, shadowTopic);
        }

        Configuration conf = new Configuration(base);
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(KafkaOptions.INPUT_TOPIC, in);
        conf.set(KafkaOptions.OUTPUT_TOPIC, out);
        conf.set(KafkaOptions.DEAD_LETTER_TOPIC, dead);
        conf.set(KafkaOptions.DRIFT_TOPIC, drift);
        conf.set(KafkaOptions.GROUP_ID, prefix);
        conf.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, prefix);
        conf.set(KafkaOptions.STARTING_OFFSETS, KafkaOptions.StartingOffsets.EARLIEST);
        // Exactly-once unless the run asks otherwise (the AT_LEAST_ONCE latency run).
        conf.set(KafkaOptions.DELIVERY_GUARANTEE, base.getOptional(KafkaOptions.DELIVERY_GUARANTEE)
                .orElse(KafkaOptions.Guarantee.EXACTLY_ONCE));
        conf.set(KafkaOptions.INPUT_FORMAT, InputFormat.JSON);
        conf.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.JSON);
        conf.set(JobOptions.PARALLELISM, parallelism);
        LocalCheckpoints.inTemporaryDirectory(conf, "labelstream-bench-checkpoints");
        if (policy != null) {
            String policies = prefix + "-policies";
            BenchPolicy.createCompacted(kafka, policies);
            BenchPolicy.publish(kafka, policies, policy);
            conf.set(PolicyOptions.POLICY_TOPIC, policies);
            conf.set(PolicyOptions.POLICY_ID, policy.policy().id());
        }
        if (shadowModel != null) {
            conf.set(ShadowOptions.MODEL_DIR, shadowModel.modelDir().toString());
            conf.set(ShadowOptions.SAMPLE_RATE, shadowModel.rate());
            conf.set(KafkaOptions.SHADOW_TOPIC, shadowTopic);
        }
        // The reporter is the shared cluster's (BenchCluster); this run's metrics start from nothing.
        InProcessMetrics.clear();

        // Pre-load: the job finds everything in the topic when it starts.
        try (KafkaProducer<byte[], byte[]> producer = producer(kafka, 20)) {
            long measuredFrom = 0;
            long warmupFrom = plan.measured();
            for (int i = 0; i < plan.warmup(); i++) {
                producer.send(record(in, "w" + i, corpus.text(warmupFrom + i)));
            }
            for (int i = 0; i < plan.measured(); i++) {
                producer.send(record(in, "m" + i, corpus.text(measuredFrom + i)));
            }
            producer.flush();
        }

        Phase warmup = new Phase();
        Phase measured = new Phase();
        Phase paced = new Phase();
        Map<String, Integer> decidedBy = new TreeMap<>();
        int markedShadow = 0;
        // The shadow's side: primary decision ids by input id, the shadow decisions' links by input id.
        ShadowSample sample = shadowModel == null ? null : new ShadowSample(shadowModel.rate());
        Map<String, String> primaryDecisions = new HashMap<>();
        Map<String, String> shadowLinks = new HashMap<>();
        int sampled = 0;
        int shadowMarked = 0;
        List<AgreementReport> agreement = new ArrayList<>();
        boolean shadowDrained = shadowModel == null;
        long primaryDone = 0;
        AtomicInteger pacedSent = new AtomicInteger();
        AtomicBoolean pacing = new AtomicBoolean();
        AtomicBoolean pacingDone = new AtomicBoolean(!plan.paced());
        Thread pacer = null;
        String problem = null;
        long startupMs = -1;
        double offeredRate = Double.NaN;
        long anchorWall = 0;
        long anchorCpu = cpuNanos();
        double cpuCores = Double.NaN;
        BenchCpu.Snapshot anchorThreads = null;
        Map<String, Long> cpuSplit = Map.of();

        StreamExecutionEnvironment env;
        if (policy == null) {
            env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            LabelstreamJob.build(env, conf);
        } else {
            JobSettings settings = PolicyStart.prepare(JobSettings.of(conf), Duration.ofSeconds(30),
                    w -> LOG.warn("{}", w));
            env = StreamExecutionEnvironment.getExecutionEnvironment(settings.configuration());
            LabelstreamJob.build(env, settings);
        }
        long started = System.currentTimeMillis();
        JobClient job = BenchCluster.execute(env, "labelstream-bench-" + runId, parallelism);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka, prefix)) {
            consumer.subscribe(shadowModel == null ? List.of(out, dead) : List.of(out, dead, shadowTopic, drift));
            Set<String> seen = new HashSet<>();
            long lastOutput = started;
            long lastStatusCheck = started;
            long pacingEnded = 0;
            int preloaded = plan.warmup() + plan.measured();
            while (true) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(100));
                long now = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : polled) {
                    lastOutput = now;
                    if (startupMs < 0) {
                        startupMs = now - started;
                    }
                    if (r.topic().equals(drift)) {
                        var envelope = Reports.decode(r.value(), KafkaOptions.OutputFormat.JSON);
                        if (Reports.AGREEMENT_REPORT.equals(envelope.getKind())) {
                            agreement.add(Reports.body(envelope, AgreementReport.class,
                                    KafkaOptions.OutputFormat.JSON));
                        }
                        continue;
                    }
                    if (r.topic().equals(shadowTopic)) {
                        ClassifiedEvent s = ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.JSON);
                        if (!shadowLinks.containsKey(s.getInputId())) {
                            shadowLinks.put(s.getInputId(), s.getPrimaryDecisionId());
                            if (s.getShadow() && s.getPrimaryDecisionId() != null) {
                                shadowMarked++;
                            }
                        }
                        continue;
                    }
                    if (r.topic().equals(dead)) {
                        DeadLetter d = DeadLetters.decode(r.value());
                        String id = d.getInputId() == null ? "?" + d.getSourceOffset() : d.getInputId();
                        if (seen.add(id)) {
                            phaseOf(id, warmup, measured, paced).deadLetters++;
                        }
                        continue;
                    }
                    ClassifiedEvent e = ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.JSON);
                    if (!seen.add(e.getInputId())) {
                        continue;
                    }
                    decidedBy.merge(policyOf(e), 1, Integer::sum);
                    if (e.getShadow()) {
                        markedShadow++;
                    }
                    if (sample != null) {
                        primaryDecisions.put(e.getInputId(), e.getDecisionId());
                        if (sample.sampled(keyed(in, r.key()))) {
                            sampled++;
                        }
                    }
                    long decision = e.getDecisionTime().toEpochMilli();
                    phaseOf(e.getInputId(), warmup, measured, paced).add(now, e.getIngestTime().toEpochMilli(),
                            decision, decision + "/" + Float.floatToIntBits(e.getInferenceLatencyMs()));
                }
                int preloadedOut = warmup.outputs() + measured.outputs();
                if (anchorWall == 0 && warmup.outputs() >= plan.warmup()) {
                    anchorWall = now;
                    anchorCpu = cpuNanos();
                    anchorThreads = BenchCpu.snapshot();
                }
                if (preloadedOut >= preloaded && Double.isNaN(cpuCores) && plan.measured() > 0 && now > anchorWall) {
                    cpuCores = (cpuNanos() - anchorCpu) / 1e6 / (now - anchorWall);
                    cpuSplit = BenchCpu.split(anchorThreads, BenchCpu.snapshot(), brokerThreads);
                }
                if (preloadedOut >= preloaded && plan.paced() && !pacing.get()) {
                    pacing.set(true);
                    offeredRate = plan.pacedRate() > 0 ? plan.pacedRate() : plan.loadFraction()
                            * new Result(runId, plan, warmup, measured, paced, 0, 0, 0, 0, null, null, Map.of(),
                                    Map.of(), 0, null)
                                    .peakRate();
                    if (Double.isNaN(offeredRate) || offeredRate <= 0) {
                        problem = "no rate measured to offer a fraction of";
                        break;
                    }
                    pacer = pacer(kafka, in, corpus, offeredRate, plan.pacedDuration(), preloaded, pacedSent,
                            pacingDone);
                }
                if (pacing.get() && pacingDone.get() && pacingEnded == 0) {
                    pacingEnded = now;
                }
                if (preloadedOut >= preloaded && pacingDone.get() && paced.outputs() >= pacedSent.get()) {
                    // The primary is done; a shadow may still be scoring its last batches.
                    shadowDrained = shadowDrained || (shadowScored() + shadowCounter(Metrics.SHADOW_SHED_RECORDS)
                            + shadowCounter(Metrics.SHADOW_FAILED_RECORDS) >= sampled
                            && shadowLinks.size() >= shadowScored());
                    primaryDone = primaryDone == 0 ? now : primaryDone;
                    if (shadowDrained || now - primaryDone > drainMs(conf)) {
                        break;
                    }
                }
                if (pacingEnded > 0 && now - pacingEnded > drainMs(conf)) {
                    problem = "paced records still missing " + drainMs(conf) / 1000 + " s after the last was"
                            + " sent: " + paced.outputs() + " of " + pacedSent.get() + " out (offered load above"
                            + " capacity?)";
                    break;
                }
                if (startupMs < 0 && now - started > FIRST_OUTPUT_MS) {
                    problem = "no output within " + FIRST_OUTPUT_MS / 1000 + " s of the job's start";
                    break;
                }
                if (startupMs >= 0 && !pacing.get() && now - lastOutput > STALL_MS) {
                    problem = "no output for " + STALL_MS / 1000 + " s: " + preloadedOut + " of " + preloaded + " out";
                    break;
                }
                if (now - lastStatusCheck > 1000) {
                    lastStatusCheck = now;
                    if (job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                        problem = "the job ended: " + job.getJobStatus().get();
                        break;
                    }
                }
            }
        } finally {
            pacingDone.set(true);
            if (pacer != null) {
                pacer.interrupt();
                pacer.join(10_000);
            }
        }
        JobMetrics metrics = metrics();
        ShadowFigures shadow = null;
        if (shadowModel != null) {
            int linked = 0;
            for (Map.Entry<String, String> e : shadowLinks.entrySet()) {
                if (e.getValue() != null && e.getValue().equals(primaryDecisions.get(e.getKey()))) {
                    linked++;
                }
            }
            shadow = new ShadowFigures(shadowModel.rate(), sampled, shadowLinks.size(), shadowMarked, linked,
                    shadowScored(), shadowCounter(Metrics.SHADOW_SHED_RECORDS),
                    shadowCounter(Metrics.SHADOW_FAILED_RECORDS), List.copyOf(agreement), shadowDrained);
        }
        cancel(job);
        return new Result(runId, plan, warmup, measured, paced, pacedSent.get(), offeredRate, startupMs, cpuCores,
                metrics, problem, cpuSplit, java.util.Collections.unmodifiableMap(decidedBy), markedShadow, shadow);
    }

    /** A source record with {@code key}, for {@link ShadowSample#sampled}: the bench's records all have a key. */
    private static SourceRecord keyed(String topic, byte[] key) {
        return new SourceRecord(topic, 0, 0, 0, key, null, List.of());
    }

    private static long shadowScored() {
        return shadowCounter(Metrics.SHADOW_SCORED);
    }

    /** One of the shadow stage's record counters, summed over subtasks (0 before the stage has opened). */
    private static long shadowCounter(String name) {
        return InProcessMetrics.counter(InProcessMetrics.suffix(name));
    }

    /** How long to wait for the last paced records: some checkpoints, and at least half a minute. */
    private static long drainMs(Configuration conf) {
        return Math.max(30_000, 5 * conf.get(JobOptions.CHECKPOINT_INTERVAL).toMillis());
    }

    private static Phase phaseOf(String id, Phase warmup, Phase measured, Phase paced) {
        return id.startsWith("w") ? warmup : id.startsWith("p") ? paced : measured;
    }

    /** Produces {@code p<i>} records at the plan's rate for its duration, each stamped with its send time. */
    private static Thread pacer(EmbeddedKafka kafka, String topic, BenchCorpus corpus, double rate, Duration duration,
            long corpusFrom, AtomicInteger sent, AtomicBoolean done) {
        Thread t = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> producer = producer(kafka, 0)) {
                long start = System.nanoTime();
                long end = start + duration.toNanos();
                for (int i = 0; ; i++) {
                    long due = start + (long) (i * 1e9 / rate);
                    if (due >= end) {
                        break;
                    }
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    producer.send(record(topic, "p" + i, corpus.text(corpusFrom + i)));
                    sent.incrementAndGet();
                }
                producer.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                done.set(true);
            }
        }, "bench-pacer");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** CPU time of this process (all threads: job, broker, consumer), or 0 where the JVM cannot tell. */
    static long cpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
    }

    static ProducerRecord<byte[], byte[]> record(String topic, String id, String text) {
        ObjectNode e = JSON.createObjectNode();
        e.put("id", id);
        e.put("text", text);
        try {
            // The send time is the record's timestamp: latency is measured from it.
            return new ProducerRecord<>(topic, null, System.currentTimeMillis(), id.getBytes(StandardCharsets.UTF_8),
                    JSON.writeValueAsBytes(e));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    static KafkaProducer<byte[], byte[]> producer(EmbeddedKafka kafka, int lingerMs) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put("linger.ms", Integer.toString(lingerMs));
        p.put("acks", "all");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> consumer(EmbeddedKafka kafka, String group) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put("group.id", group + "-reader");
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static JobMetrics metrics() {
        Histogram batch = primaryHistogram(".labelstream.batchSize");
        Histogram real = primaryHistogram(".labelstream.realTokens");
        Histogram padded = primaryHistogram(".labelstream.paddedTokens");
        Histogram inference = primaryHistogram(".labelstream.inferenceLatencyMs");
        if (batch == null) {
            return JobMetrics.NONE;
        }
        // Both token histograms hold the same last batches: the ratio of their means is the ratio of sums.
        double padding = real == null || padded == null || padded.getStatistics().getMean() == 0 ? Double.NaN
                : real.getStatistics().getMean() / padded.getStatistics().getMean();
        Histogram tokenize = primaryHistogram(".labelstream.tokenizeLatencyMs");
        return new JobMetrics(batch.getCount(), batch.getStatistics().getMean(), batch.getStatistics().getQuantile(0.5),
                batch.getStatistics().getMax(), padding,
                inference == null ? Double.NaN : inference.getStatistics().getQuantile(0.5), sum(tokenize),
                sum(inference), InProcessMetrics.counter(".labelstream.recordsOut"));
    }

    /**
     * The primary's histogram: not one of a shadow's operators (its "shadow-micro-batch" has batcher metrics of the
     * same names; Flink's operator scope puts the operator's name in the identifier).
     */
    private static Histogram primaryHistogram(String suffix) {
        return InProcessMetrics.histogram(suffix, id -> !id.contains(".shadow-"));
    }

    /** The sum of a histogram's values, while its window still holds all of them (NaN after). */
    private static double sum(Histogram h) {
        return h == null || h.getCount() > h.getStatistics().size() ? Double.NaN
                : h.getStatistics().getMean() * h.getStatistics().size();
    }

    private static void cancel(JobClient job) {
        try {
            job.cancel().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already ended
        }
    }
}
