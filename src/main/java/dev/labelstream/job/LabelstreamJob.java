package dev.labelstream.job;

import dev.labelstream.settings.AsyncBudget;
import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.batching.MicroBatcher;
import dev.labelstream.batching.TokenEstimator;
import dev.labelstream.drift.DeadLetterObservations;
import dev.labelstream.drift.DriftMonitor;
import dev.labelstream.drift.DriftObservation;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.DriftSettings;
import dev.labelstream.classify.Classifier;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.io.DecodeFunction;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.KafkaIo;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.io.Reports;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.policy.PolicyBatch;
import dev.labelstream.policy.PolicyBatcher;
import dev.labelstream.policy.PolicyEvent;
import dev.labelstream.policy.PolicyOptions;
import dev.labelstream.policy.PolicyTopic;
import dev.labelstream.shadow.AgreementMonitor;
import dev.labelstream.shadow.AgreementObservation;
import dev.labelstream.shadow.ShadowInput;
import dev.labelstream.shadow.ShadowOptions;
import dev.labelstream.shadow.ShadowSample;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.AsyncFunction;
import org.apache.flink.util.Collector;

/**
 * The labelstream topology:
 *
 * <pre>
 * Kafka source -> decode + validate --------------------------------------> (dead letters)
 *              -> micro-batch (records | tokens | linger | before every barrier)
 *              -> async classify (bounded in flight, deadline, retries) -> outcomes
 *                   -> records: classified events | dead letters ------------------------> sink
 *                   -> drift observations (+ one per decoder dead letter)
 *                        -> keyBy model version -> tumbling window, incremental aggregate
 *                        -> drift report against the reference profile -----------------> sink
 *              -> one transactional Kafka sink (output, dead-letter, drift and shadow topics)
 * </pre>
 *
 * <p>With {@code shadow.model.dir}, the classify stage hands the records of the shadow's sample on with its outcomes
 * ("shadow-inputs"); they are batched again ("shadow-micro-batch") and scored by the shadow's own async stage
 * ("shadow-classify"), whose decisions go to the shadow topic and whose comparisons go into the agreement windows
 * ("agreement-monitor", the drift windows' clock) and so to the report topic. The branch never backpressures the
 * primary: its stage sheds what it cannot take.
 *
 * <p>With {@code kafka.policy-topic}, the policy topic is a second source ("policy-source"), broadcast into the
 * batcher ({@code policy.PolicyBatcher}, uid "micro-batch-policy", in place of the MicroBatcher): each batch
 * carries the policy in force when it was batched, the async stage decides it under that policy, and accepted or
 * rejected policy documents go to the report topic as {@code policy_event} reports. That batcher has two inputs,
 * so it starts a second chain (decoded records are serialized once into it).
 *
 * <p>Batcher and async operator chain with the source into one task, so records cross no serializer until
 * the sink. Every operator has a stable uid, so savepoints restore across versions of the job.
 */
public final class LabelstreamJob {
    /** The output-buffer flush interval when Flink's execution.buffer-timeout options are unset (Flink: 100 ms). */
    static final Duration DEFAULT_BUFFER_TIMEOUT = Duration.ofMillis(10);
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LabelstreamJob.class);

    private LabelstreamJob() {}

    /** Adds the topology to {@code env}, configured by {@code conf}. */
    public static void build(StreamExecutionEnvironment env, Configuration options) {
        JobSettings settings = JobSettings.of(options);
        build(env, settings);
    }

    /**
     * Adds the topology to {@code env}, from settings already checked. The model in force (name, version,
     * labels) was read once by the settings; every operator that names the model is given that value instead of
     * reading the bundle again.
     */
    public static void build(StreamExecutionEnvironment env, JobSettings settings) {
        build(env, settings, null);
    }

    /** The same, with another way to open the classifier in the classify stage (null: the real core): for tests. */
    static void build(StreamExecutionEnvironment env, JobSettings settings,
            ClassifyBatchFunction.ClassifierFactory classifierFactory) {
        build(env, settings, classifierFactory, null);
    }

    /** The same, with another way to open the shadow's classifier too (null: the real core): for tests. */
    static void build(StreamExecutionEnvironment env, JobSettings settings,
            ClassifyBatchFunction.ClassifierFactory classifierFactory,
            ClassifyBatchFunction.ClassifierFactory shadowFactory) {
        Configuration conf = settings.configuration();
        ModelIdentity model = settings.model();
        env.enableCheckpointing(settings.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // Set, not left to Flink's default (10 min): the transaction timeout is derived from it.
        env.getCheckpointConfig().setCheckpointTimeout(settings.checkpointTimeout().toMillis());
        conf.getOptional(JobOptions.PARALLELISM).ifPresent(env::setParallelism);
        bufferTimeout(env, conf);
        objectReuse(env, conf);
        memoryCheckpointWarning(env, conf).ifPresent(LOG::warn);

        DriftSettings drift = settings.drift();
        DataStream<SourceRecord> records = env
                .fromSource(KafkaIo.source(conf), watermarks(drift, settings.shadowModel().isPresent()), "kafka-source")
                .uid("kafka-source");
        SingleOutputStreamOperator<InputEvent> events = records
                .process(new DecodeFunction(conf.get(KafkaOptions.INPUT_FORMAT), conf.get(KafkaOptions.INPUT_MAX_BYTES)))
                .name("decode")
                .uid("decode");
        DataStream<OutboundRecord> rejected = events.getSideOutput(DecodeFunction.DEAD_LETTERS);

        ClassifyBatchFunction classify = classifierFactory == null ? new ClassifyBatchFunction(conf, model)
                : new ClassifyBatchFunction(conf, model, classifierFactory);
        if (settings.shadowModel().isPresent()) {
            classify.withShadow(new ShadowSample(conf.get(ShadowOptions.SAMPLE_RATE)));
        }
        DataStream<OutboundRecord> policyEvents = null;
        SingleOutputStreamOperator<Outcome> outcomes;
        if (settings.policyTopic().isEmpty()) {
            SingleOutputStreamOperator<List<InputEvent>> batches = MicroBatcher.apply(events,
                    settings.batching(), tokenEstimator(settings.maxLength()));
            batches.uid("micro-batch");
            outcomes = classifyStage(batches, classify, conf);
        } else {
            // Only with a policy topic: its broadcast input starts a new chain at the batcher (records, not
            // outcomes, cross it), so the job without one keeps its single chain and its savepoints.
            DataStream<SourceRecord> policies = env
                    .fromSource(PolicyTopic.source(KafkaIo.bootstrapServers(conf), settings.policyTopic().get(),
                            KafkaIo.clientProperties(conf)), WatermarkStrategy.noWatermarks(), "policy-source")
                    .uid("policy-source")
                    .setParallelism(1);
            SingleOutputStreamOperator<PolicyBatch<InputEvent>> batches = PolicyBatcher.apply(events, policies,
                    settings.batching(), tokenEstimator(settings.maxLength()), conf.get(PolicyOptions.POLICY_ID),
                    model.labels(), settings.startingPolicy(), new PromotionCheck(conf, model), model.key());
            batches.uid("micro-batch-policy");
            outcomes = classifyStage(batches, new PolicyClassifyFunction(classify,
                    conf.get(PolicyOptions.TENANT_ATTRIBUTE)), conf);
            policyEvents = batches.getSideOutput(PolicyBatcher.EVENTS)
                    .map(new PolicyEventRecord(conf.get(KafkaOptions.OUTPUT_FORMAT)))
                    .returns(TypeInformation.of(OutboundRecord.class))
                    .name("policy-events")
                    .uid("policy-events");
        }

        DataStream<OutboundRecord> outputs = outcomes
                .map(new RecordOf())
                .returns(TypeInformation.of(OutboundRecord.class))
                .name("outcome-records")
                .uid("outcome-records")
                .union(rejected);
        if (policyEvents != null) {
            outputs = outputs.union(policyEvents);
        }
        if (settings.shadowModel().isPresent()) {
            outputs = outputs.union(shadowStage(outcomes, settings, shadowFactory));
        }
        if (drift.enabled()) {
            DataStream<DriftObservation> observed = outcomes
                    .flatMap(new ObservationOf())
                    .returns(TypeInformation.of(DriftObservation.class))
                    .name("outcome-observations")
                    .uid("outcome-observations");
            DataStream<DriftObservation> rejectedObserved = rejected
                    .map(new DeadLetterObservations(model))
                    .name("dead-letter-observations")
                    .uid("dead-letter-observations");
            outputs = outputs.union(DriftMonitor.reports(observed.union(rejectedObserved), conf, model));
        }
        outputs
                .sinkTo(KafkaIo.sink(conf))
                .name("kafka-sink")
                .uid("kafka-sink");
    }

    /**
     * The shadow branch: the sampled records of the primary's outcomes, batched again, scored by the shadow's own
     * async stage (which sheds rather than backpressures, see {@link ShadowClassifyFunction}), its decisions to the
     * shadow topic and its comparisons into the agreement windows. Only with shadow.model.dir.
     */
    private static DataStream<OutboundRecord> shadowStage(DataStream<Outcome> outcomes, JobSettings settings,
            ClassifyBatchFunction.ClassifierFactory shadowFactory) {
        Configuration conf = settings.configuration();
        ModelIdentity shadowModel = settings.shadowModel().orElseThrow();
        DataStream<ShadowInput> sampled = outcomes
                .flatMap(new ShadowInputOf())
                .returns(TypeInformation.of(ShadowInput.class))
                .name("shadow-inputs")
                .uid("shadow-inputs");
        TokenEstimator<InputEvent> tokens = tokenEstimator(settings.maxLength());
        SingleOutputStreamOperator<List<ShadowInput>> batches = MicroBatcher.apply(sampled, settings.batching(),
                s -> tokens.estimate(s.input()));
        batches.uid("shadow-micro-batch").name("shadow-micro-batch");
        ShadowClassifyFunction shadow = shadowFactory == null ? new ShadowClassifyFunction(conf, shadowModel)
                : new ShadowClassifyFunction(conf, shadowModel, shadowFactory);
        SingleOutputStreamOperator<ShadowOutcome> scored = AsyncDataStream.unorderedWait(batches, shadow,
                ShadowClassifyFunction.operatorTimeout(conf).toMillis(), TimeUnit.MILLISECONDS,
                ShadowClassifyFunction.capacity(conf))
                .name("shadow-classify")
                .uid("shadow-classify");
        DataStream<OutboundRecord> decisions = scored
                .flatMap(new ShadowRecordOf())
                .returns(TypeInformation.of(OutboundRecord.class))
                .name("shadow-records")
                .uid("shadow-records");
        DataStream<AgreementObservation> compared = scored
                .map(ShadowOutcome::observation)
                .returns(TypeInformation.of(AgreementObservation.class))
                .name("shadow-observations")
                .uid("shadow-observations");
        return decisions.union(AgreementMonitor.reports(compared, conf));
    }

    /** The shadow's input of an outcome, if the record is in the shadow's sample. */
    static final class ShadowInputOf implements FlatMapFunction<Outcome, ShadowInput> {
        private static final long serialVersionUID = 1L;

        @Override
        public void flatMap(Outcome o, Collector<ShadowInput> out) {
            if (o.shadow() != null) {
                out.collect(o.shadow());
            }
        }
    }

    /** The shadow-topic record of a shadow outcome, if the shadow scored the record. */
    static final class ShadowRecordOf implements FlatMapFunction<ShadowOutcome, OutboundRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void flatMap(ShadowOutcome o, Collector<OutboundRecord> out) {
            if (o.record() != null) {
                out.collect(o.record());
            }
        }
    }

    /** The async classify stage over {@code batches}; one uid for both batch types, as it is one stage. */
    private static <B> SingleOutputStreamOperator<Outcome> classifyStage(DataStream<B> batches,
            AsyncFunction<B, Outcome> classify, Configuration conf) {
        long timeout = AsyncBudget.operatorTimeout(conf).toMillis();
        int capacity = conf.get(JobOptions.ASYNC_CAPACITY);
        SingleOutputStreamOperator<Outcome> outcomes = conf.get(JobOptions.ASYNC_ORDERED)
                ? AsyncDataStream.orderedWait(batches, classify, timeout, TimeUnit.MILLISECONDS, capacity)
                : AsyncDataStream.unorderedWait(batches, classify, timeout, TimeUnit.MILLISECONDS, capacity);
        return outcomes.name("classify").uid("classify");
    }

    /**
     * A policy event as a report-topic record: the envelope's {@value Reports#POLICY_EVENT} kind, keyed by the
     * policy id, so operators can alert on rejections next to the drift reports.
     */
    static final class PolicyEventRecord implements MapFunction<PolicyEvent, OutboundRecord> {
        private static final long serialVersionUID = 1L;
        private final KafkaOptions.OutputFormat format;

        PolicyEventRecord(KafkaOptions.OutputFormat format) {
            this.format = format;
        }

        @Override
        public OutboundRecord map(PolicyEvent e) {
            dev.labelstream.avro.PolicyEvent body = dev.labelstream.avro.PolicyEvent.newBuilder()
                    .setKind(e.kind().name())
                    .setPolicyId(e.policyId())
                    .setVersion(e.version())
                    .setReason(e.reason() == null ? "" : e.reason())
                    .setTime(Instant.ofEpochMilli(e.time()))
                    .setSubtask(e.subtask())
                    .setModel(e.model())
                    .build();
            byte[] key = e.policyId() == null ? null : e.policyId().getBytes(StandardCharsets.UTF_8);
            return Reports.toRecord(Reports.POLICY_EVENT, 1, e.time(), body, key, List.of(), format);
        }
    }

    /**
     * Event-time drift (or shadow agreement) windows need the source's watermarks, generated per Kafka partition from the records'
     * timestamps; otherwise the job runs without watermarks.
     */
    static WatermarkStrategy<SourceRecord> watermarks(DriftSettings drift, boolean shadow) {
        if (!(drift.enabled() || shadow) || drift.windowTime() != DriftOptions.WindowTime.EVENT) {
            return WatermarkStrategy.noWatermarks();
        }
        return WatermarkStrategy.<SourceRecord>forBoundedOutOfOrderness(drift.maxOutOfOrderness())
                .withIdleness(drift.idleTimeout());
    }

    /** The output record of an outcome. */
    static final class RecordOf implements MapFunction<Outcome, OutboundRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public OutboundRecord map(Outcome o) {
            return o.record();
        }
    }

    /** The drift observation of an outcome, if it has one. */
    static final class ObservationOf implements FlatMapFunction<Outcome, DriftObservation> {
        private static final long serialVersionUID = 1L;

        @Override
        public void flatMap(Outcome o, Collector<DriftObservation> out) {
            if (o.observation() != null) {
                out.collect(o.observation());
            }
        }
    }

    /**
     * A cheap token estimate from UTF-8 size, before tokenization: English WordPiece/BPE averages about four
     * bytes per token; a text is never fed with more than max length tokens. The classifier's own
     * token-budget split corrects what the estimate gets wrong.
     */
    static TokenEstimator<InputEvent> tokenEstimator(int maxLength) {
        return e -> Math.min(maxLength, e.textBytes() / 4 + 2);
    }

    /**
     * Sets the output-buffer flush interval to {@link #DEFAULT_BUFFER_TIMEOUT} unless Flink's own {@code
     * execution.buffer-timeout.interval} or {@code execution.buffer-timeout.enabled} is set, in the job's options or
     * the environment's: an explicit setting wins (enabled false: flush only when a buffer is full).
     *
     * <p>Why: the sink has several inputs (a union), so it is not chained with the classify chain; every
     * classified record crosses a local exchange whose buffer Flink flushes when full or after the buffer timeout
     * (100 ms by default). At tens of records per second that added about 50 ms on average, up to 100 ms, to every
     * record's latency on top of {@code batching.linger}; 10 ms costs a few more small flushes.
     */
    static void bufferTimeout(StreamExecutionEnvironment env, ReadableConfig conf) {
        for (ReadableConfig c : List.of(conf, env.getConfiguration())) {
            if (!c.getOptional(ExecutionOptions.BUFFER_TIMEOUT_ENABLED).orElse(true)) {
                env.setBufferTimeout(ExecutionOptions.DISABLED_NETWORK_BUFFER_TIMEOUT);
                return;
            }
            var interval = c.getOptional(ExecutionOptions.BUFFER_TIMEOUT);
            if (interval.isPresent()) {
                env.setBufferTimeout(interval.get().toMillis());
                return;
            }
        }
        env.setBufferTimeout(DEFAULT_BUFFER_TIMEOUT.toMillis());
    }

    /**
     * Enables Flink's object reuse unless {@code pipeline.object-reuse} is set, in the job's options or the
     * environment's (an explicit setting wins).
     *
     * <p>Why: without it every record is copied with its serializer between chained operators: the Kafka record's
     * bytes into decode, every outcome (its output record and its 384-float drift embedding) once for each operator
     * it fans out to. That was about a tenth of the CPU side's allocation per record.
     *
     * <p>Why it is safe here: reuse only changes what chained operators hand each other (network inputs always
     * deserialize new instances). Every function of this topology emits new objects and never changes its input
     * after emitting, or an input it was handed; the operators that keep inputs beyond one call copy them under
     * reuse: the batchers ({@code AbstractMicroBatcher}, with the input serializer) and Flink's
     * {@code AsyncWaitOperator} (its in-flight queue).
     */
    static void objectReuse(StreamExecutionEnvironment env, ReadableConfig conf) {
        boolean reuse = conf.getOptional(PipelineOptions.OBJECT_REUSE)
                .or(() -> env.getConfiguration().getOptional(PipelineOptions.OBJECT_REUSE))
                .orElse(true);
        if (reuse) {
            env.getConfig().enableObjectReuse();
        } else {
            env.getConfig().disableObjectReuse();
        }
    }

    /**
     * A warning when checkpoints would go to the JobManager's memory (neither {@code execution.checkpointing.dir}
     * nor another {@code execution.checkpointing.storage} is set, in the job's options or the environment's):
     * Flink caps that storage at 5 MB of state per operator, and the classify chain's state holds the texts in
     * flight. A few long texts then fail every checkpoint, and the job restarts in a loop without an output. Empty
     * otherwise.
     */
    static java.util.Optional<String> memoryCheckpointWarning(StreamExecutionEnvironment env, ReadableConfig conf) {
        for (ReadableConfig c : List.of(conf, env.getConfiguration())) {
            if (c.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isPresent()
                    || c.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).filter(
                            s -> !s.equalsIgnoreCase("jobmanager")).isPresent()) {
                return java.util.Optional.empty();
            }
        }
        long inFlight = (long) (conf.get(JobOptions.ASYNC_CAPACITY) + 1) * conf.get(BatchingOptions.MAX_RECORDS)
                * conf.get(KafkaOptions.INPUT_MAX_BYTES);
        return java.util.Optional.of(String.format(java.util.Locale.ROOT, "%s is unset: checkpoints are kept in the"
                + " JobManager's memory, which Flink caps at 5 MB of state per operator. The classify stage's state holds"
                + " the records in flight, up to (%s + 1) x %s x %s = %d MB of text, so a few long texts fail every"
                + " checkpoint and the job restarts in a loop. Set %s to a file system or object store path (deploy/"
                + " sets it).", CheckpointingOptions.CHECKPOINTS_DIRECTORY.key(), JobOptions.ASYNC_CAPACITY.key(),
                BatchingOptions.MAX_RECORDS.key(), KafkaOptions.INPUT_MAX_BYTES.key(), inFlight >> 20,
                CheckpointingOptions.CHECKPOINTS_DIRECTORY.key()));
    }

    /** Runs the job and blocks until it ends (it runs until cancelled: the source is unbounded). */
    public static void run(Configuration conf) throws Exception {
        run(JobSettings.of(conf));
    }

    /** {@link #run(Configuration)} with settings already checked. */
    public static void run(JobSettings settings) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings.configuration());
        build(env, settings);
        env.execute(settings.configuration().get(JobOptions.JOB_NAME));
    }
}
