package dev.labelstream.settings;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.DriftSettings;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.InvalidModelBundleException;
import dev.labelstream.classify.Classifier;
import dev.labelstream.inference.InferenceSettings;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.moderation.ModerationOptions;
import dev.labelstream.moderation.PolicySettings;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyOptions;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.shadow.ShadowOptions;
import dev.labelstream.shadow.ShadowSample;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.moderation.Thresholds;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;

/**
 * Every option of the job, checked in one pass before anything is submitted, and the values derived from them.
 *
 * <p>Contract: {@link #of} either returns settings from which the job graph builds and whose operators open for
 * any reason the options can show, or throws an {@link IllegalArgumentException} whose message names the key
 * (or topic, or file) and what it accepts. {@code labelstream run}, {@code demo} and {@code bench} (through
 * {@code config.Options.validate}) and {@code job.LabelstreamJob.build} all call it, so a configuration that would
 * only fail in {@code open()} on a TaskManager (and then again on every restart) fails here, on the client,
 * within seconds.
 *
 * <p>It also owns the per-job defaults that must not be shared by two jobs on one cluster or broker: the
 * consumer group and the transactional-id prefix (derived from {@code job.name} and the topics), and the
 * producer's {@code transaction.timeout.ms} (derived from the checkpoint interval, checkpoint timeout and
 * restart delay). {@link #configuration()} is the input with those filled in: the job is built from it.
 */
public final class JobSettings {
    /**
     * The classes whose public static {@link ConfigOption} fields are labelstream's options. One list for the
     * type pass here, the {@code run --help} table and the reflection test that gives each option a bad value.
     */
    public static final List<Class<?>> OPTION_CLASSES = List.of(KafkaOptions.class, InferenceOptions.class,
            BatchingOptions.class, JobOptions.class, ModerationOptions.class, PolicyOptions.class, DriftOptions.class,
            ShadowOptions.class);

    /** Flink refuses checkpoint intervals and timeouts below this (CheckpointConfig's minimum). */
    static final Duration MINIMAL_CHECKPOINT_TIME = Duration.ofMillis(10);
    /** The producer setting the transaction timeout is derived for. */
    public static final String TRANSACTION_TIMEOUT_MS = "transaction.timeout.ms";
    /** A record (key + value + headers) larger than this cannot be produced to Kafka at all. */
    static final int LARGEST_INPUT_BYTES = Integer.MAX_VALUE - DeadLetters.ENVELOPE_BYTES;

    /** The input with the derived defaults filled in (group id, transactional-id prefix, transaction timeout). */
    private final Configuration configuration;
    private final BatchingSettings batching;
    private final DriftSettings drift;
    private final Duration checkpointInterval;
    private final Duration checkpointTimeout;
    /** Longest wait between a failure and the restart, as the job's restart strategy is configured. */
    private final Duration restartDelay;
    /** The transaction timeout the sink's producers use (EXACTLY_ONCE only). */
    private final Duration transactionTimeout;
    /** The model in force: the bundle's identity (name, version, labels, family, effective max length). */
    private final ModelIdentity model;
    /**
     * With {@code kafka.policy-topic}: the policy in force until the topic (or restored state) gives a newer one;
     * the pre-flight's newest version ({@link #withStartingPolicy}), else the bundle's thresholds. Null without.
     */
    private final PolicyDocument startingPolicy;
    /** With {@code shadow.model.dir}: the candidate model, checked as the primary is; null without. */
    private final ModelIdentity shadowModel;

    /**
     * Where the pre-flight's starting policy travels in the configuration (its JSON), so that {@link
     * LabelstreamJob#build(org.apache.flink.streaming.api.environment.StreamExecutionEnvironment, Configuration)}
     * and a job built from the configuration alone start with it too. Internal: not an option users set.
     */
    public static final String STARTING_POLICY = "labelstream.internal.starting-policy";

    private JobSettings(Configuration configuration, BatchingSettings batching, DriftSettings drift,
            Duration checkpointInterval, Duration checkpointTimeout, Duration restartDelay,
            Duration transactionTimeout, ModelIdentity model, PolicyDocument startingPolicy,
            ModelIdentity shadowModel) {
        this.configuration = configuration;
        this.batching = batching;
        this.drift = drift;
        this.checkpointInterval = checkpointInterval;
        this.checkpointTimeout = checkpointTimeout;
        this.restartDelay = restartDelay;
        this.transactionTimeout = transactionTimeout;
        this.model = model;
        this.startingPolicy = startingPolicy;
        this.shadowModel = shadowModel;
    }

    /**
     * Checks every option of {@code conf} and derives the per-job defaults. Reads the model bundle's metadata
     * (config.json, labelstream.json; no ONNX session), since the token budget and the thresholds are checked
     * against it.
     *
     * @throws IllegalArgumentException naming the key, topic or file that is wrong and what it accepts
     */
    public static JobSettings of(Configuration conf) {
        checkTypes(conf);
        checkKafka(conf);
        checkJob(conf);
        // CPU: small batches unless set (one row per model call; ThreadBudget#withCpuBatching says why).
        Configuration batched = ThreadBudget.resolveBatching(conf);
        BatchingSettings batching = BatchingSettings.fromConfig(batched);
        DriftSettings drift = DriftSettings.of(conf);
        conf.getOptional(DriftOptions.REFERENCE_PROFILE).ifPresent(p -> {
            if (!Files.isRegularFile(Path.of(p))) {
                throw new IllegalArgumentException(DriftOptions.REFERENCE_PROFILE.key() + ": no file " + p
                        + " (write one with 'labelstream profile', or leave the option unset to use the bundle's)");
            }
        });
        checkPolicyTopic(conf);
        ModelBundle bundle = checkInference(conf);
        ModelIdentity model = checkModel(bundle, conf);
        PolicyDocument startingPolicy = startingPolicy(conf, bundle, model);
        ModelIdentity shadowModel = checkShadow(conf);

        Duration interval = conf.get(JobOptions.CHECKPOINT_INTERVAL);
        Duration timeout = conf.get(JobOptions.CHECKPOINT_TIMEOUT);
        Duration restart = restartDelay(conf);
        Configuration resolved = new Configuration(batched);
        String perJob = perJobName(conf);
        if (conf.getOptional(KafkaOptions.GROUP_ID).isEmpty()) {
            resolved.set(KafkaOptions.GROUP_ID, perJob);
        }
        if (conf.getOptional(KafkaOptions.TRANSACTIONAL_ID_PREFIX).isEmpty()) {
            resolved.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, perJob);
        }
        Duration transactionTimeout = transactionTimeout(conf, resolved, interval.plus(timeout).plus(restart));
        return new JobSettings(resolved, batching, drift, interval, timeout, restart, transactionTimeout, model,
                startingPolicy, shadowModel);
    }

    /**
     * These settings starting with {@code policy} (the newest valid version the pre-flight read from the policy
     * topic) instead of the bundle's thresholds; it travels in {@link #configuration()} as JSON.
     *
     * @throws IllegalArgumentException when there is no policy topic, or the policy is not the followed id's or
     *     does not fit the model
     */
    public JobSettings withStartingPolicy(PolicyDocument policy) {
        Configuration c = new Configuration(configuration);
        c.setString(STARTING_POLICY, policy.toJson());
        checkStarting(policy, c, model);
        return new JobSettings(c, batching, drift, checkpointInterval, checkpointTimeout, restartDelay,
                transactionTimeout, model, policy, shadowModel);
    }

    /**
     * The default consumer group and transactional-id prefix: {@code <job.name>.<input>.<output>}. Two jobs
     * with different names or topics get different ones, so they neither fence each other's producers nor share
     * committed offsets.
     */
    static String perJobName(Configuration conf) {
        return conf.get(JobOptions.JOB_NAME) + "." + conf.get(KafkaOptions.INPUT_TOPIC) + "."
                + conf.get(KafkaOptions.OUTPUT_TOPIC);
    }

    // ------------------------------------------------------------------------------------------------ types

    /**
     * Parses every option once, so that a value of the wrong type fails here with a message naming the key and
     * the values it takes, not in whichever operator reads it first.
     */
    private static void checkTypes(Configuration conf) {
        for (Map.Entry<ConfigOption<?>, Type> e : optionTypes().entrySet()) {
            ConfigOption<?> o = e.getKey();
            try {
                conf.getOptional(o);
            } catch (IllegalArgumentException ex) {
                boolean secret = o.key().equals(KafkaOptions.PROPERTIES.key());
                String value = secret ? "" : " '" + conf.toMap().getOrDefault(o.key(), "") + "'";
                throw new IllegalArgumentException(o.key() + ":" + value + " is not " + accepted(e.getValue()));
            }
        }
    }

    /** Every option with its value type, from the generic type of its field. */
    public static Map<ConfigOption<?>, Type> optionTypes() {
        Map<ConfigOption<?>, Type> out = new LinkedHashMap<>();
        for (Class<?> c : OPTION_CLASSES) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        out.put((ConfigOption<?>) f.get(null),
                                ((ParameterizedType) f.getGenericType()).getActualTypeArguments()[0]);
                    } catch (IllegalAccessException ex) {
                        throw new IllegalStateException(ex);
                    }
                }
            }
        }
        return out;
    }

    /** What a value of {@code type} looks like, for messages. */
    static String accepted(Type type) {
        if (type instanceof Class<?> c && c.isEnum()) {
            return "one of " + Arrays.stream(c.getEnumConstants()).map(String::valueOf).toList();
        }
        if (type == Integer.class) {
            return "a whole number";
        }
        if (type == Double.class) {
            return "a number";
        }
        if (type == Boolean.class) {
            return "true or false";
        }
        if (type == Duration.class) {
            return "a duration such as 500 ms, 30 s or 5 min";
        }
        if (type == MemorySize.class) {
            return "a size such as 512mb or 4gb";
        }
        if (type instanceof ParameterizedType p && p.getRawType() == Map.class) {
            return "a list of key:value pairs separated by commas (or one key each, <option>.<name>=<value>)";
        }
        return "a valid value";
    }

    // ------------------------------------------------------------------------------------------------ kafka

    private static void checkKafka(Configuration conf) {
        String bootstrap = conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).orElseThrow(() ->
                new IllegalArgumentException(KafkaOptions.BOOTSTRAP_SERVERS.key() + " is not set: give the Kafka"
                        + " brokers as host:port[,host:port] in the YAML file or with --set"));
        // host:port itself is checked by the Kafka client in the pre-flight (a value may still be a placeholder).
        if (bootstrap.isBlank() || Arrays.stream(bootstrap.split(",", -1)).anyMatch(String::isBlank)) {
            throw new IllegalArgumentException(KafkaOptions.BOOTSTRAP_SERVERS.key() + ": '" + bootstrap + "' has an"
                    + " empty entry; give the Kafka brokers as host:port[,host:port]");
        }
        ConfigOption<String> input = KafkaOptions.INPUT_TOPIC;
        for (ConfigOption<String> topic : List.of(input, KafkaOptions.OUTPUT_TOPIC, KafkaOptions.DEAD_LETTER_TOPIC,
                KafkaOptions.DRIFT_TOPIC)) {
            String name = conf.get(topic);
            if (name.isBlank() || !name.matches("[A-Za-z0-9._-]{1,249}")) {
                throw new IllegalArgumentException(topic.key() + ": '" + name + "' is not a Kafka topic name (1 to"
                        + " 249 of the characters a-z A-Z 0-9 . _ -)");
            }
            if (topic != input && name.equals(conf.get(input))) {
                throw new IllegalArgumentException(input.key() + " and " + topic.key() + " are the same topic ("
                        + name + "): the job would read what it writes and loop forever; give "
                        + topic.key() + " a topic of its own");
            }
        }
        for (ConfigOption<String> id : List.of(KafkaOptions.GROUP_ID, KafkaOptions.TRANSACTIONAL_ID_PREFIX)) {
            if (conf.getOptional(id).map(String::isBlank).orElse(false)) {
                throw new IllegalArgumentException(id.key() + " is blank: leave it unset for the per-job default"
                        + " (<job.name>.<input topic>.<output topic>) or give a name");
            }
        }
        int maxBytes = conf.get(KafkaOptions.INPUT_MAX_BYTES);
        if (maxBytes < 1 || maxBytes > LARGEST_INPUT_BYTES) {
            throw new IllegalArgumentException(KafkaOptions.INPUT_MAX_BYTES.key() + " must be in 1.."
                    + LARGEST_INPUT_BYTES + " bytes, got " + maxBytes);
        }
    }

    // ------------------------------------------------------------------------------------------------ job

    private static void checkJob(Configuration conf) {
        if (conf.get(JobOptions.JOB_NAME).isBlank()) {
            throw new IllegalArgumentException(JobOptions.JOB_NAME.key() + " is blank: give the job a name (it names"
                    + " the default consumer group and transactional ids too)");
        }
        conf.getOptional(JobOptions.PARALLELISM).ifPresent(p -> atLeast(JobOptions.PARALLELISM, p, 1));
        for (ConfigOption<Duration> d : List.of(JobOptions.CHECKPOINT_INTERVAL, JobOptions.CHECKPOINT_TIMEOUT)) {
            if (conf.get(d).compareTo(MINIMAL_CHECKPOINT_TIME) < 0) {
                throw new IllegalArgumentException(d.key() + " must be at least " + MINIMAL_CHECKPOINT_TIME.toMillis()
                        + " ms (Flink's minimum), got " + conf.get(d));
            }
        }
        atLeast(JobOptions.ASYNC_CAPACITY, conf.get(JobOptions.ASYNC_CAPACITY), 1);
        atLeast(JobOptions.ASYNC_THREADS, conf.get(JobOptions.ASYNC_THREADS), 1);
        int retries = conf.get(JobOptions.ASYNC_MAX_RETRIES);
        // The operator's timeout doubles the backoff per retry: beyond 20 retries it is days, and the shift overflows.
        if (retries < 0 || retries > 20) {
            throw new IllegalArgumentException(JobOptions.ASYNC_MAX_RETRIES.key() + " must be in 0..20, got " + retries);
        }
        if (conf.get(JobOptions.ASYNC_TIMEOUT).isNegative() || conf.get(JobOptions.ASYNC_TIMEOUT).isZero()) {
            throw new IllegalArgumentException(JobOptions.ASYNC_TIMEOUT.key() + " must be positive, got "
                    + conf.get(JobOptions.ASYNC_TIMEOUT));
        }
        if (conf.get(JobOptions.ASYNC_RETRY_BACKOFF).isNegative()) {
            throw new IllegalArgumentException(JobOptions.ASYNC_RETRY_BACKOFF.key() + " must be 0 ms or more, got "
                    + conf.get(JobOptions.ASYNC_RETRY_BACKOFF));
        }
        checkAsyncBudget(conf);
    }

    /**
     * Flink's async timeout is derived from the classify stage's budget for one batch (ClassifyBatchFunction's
     * batchBudget and operatorTimeout), so that neither cuts the other short: the worker's own budget always ends
     * first. A derived timeout beyond {@link AsyncBudget#MAX_OPERATOR_TIMEOUT} would let a hung batch
     * hold its slot for longer than anyone would wait, or overflow.
     */
    private static void checkAsyncBudget(Configuration conf) {
        String keys = JobOptions.ASYNC_TIMEOUT.key() + " x (" + BatchingOptions.MAX_RECORDS.key() + " + 2 x ("
                + JobOptions.ASYNC_MAX_RETRIES.key() + " + 1) + log2 " + BatchingOptions.MAX_RECORDS.key() + ") + "
                + JobOptions.ASYNC_RETRY_BACKOFF.key() + ", times " + JobOptions.ASYNC_CAPACITY.key() + " / "
                + JobOptions.ASYNC_THREADS.key();
        Duration derived;
        try {
            derived = AsyncBudget.operatorTimeout(conf);
            derived.toMillis();
        } catch (ArithmeticException e) {
            derived = null;
        }
        Duration max = AsyncBudget.MAX_OPERATOR_TIMEOUT;
        if (derived == null || derived.compareTo(max) > 0) {
            throw new IllegalArgumentException("the async operator's timeout, derived as " + keys + ", is "
                    + (derived == null ? "too large to represent" : derived.toMinutes() + " min") + ", more than "
                    + max.toHours() + " h: lower " + JobOptions.ASYNC_TIMEOUT.key() + " (now "
                    + conf.get(JobOptions.ASYNC_TIMEOUT) + "), " + JobOptions.ASYNC_MAX_RETRIES.key() + " or "
                    + BatchingOptions.MAX_RECORDS.key() + ", or raise " + JobOptions.ASYNC_THREADS.key());
        }
    }

    // ------------------------------------------------------------------------------------------------ inference

    /**
     * The inference and policy options, checked by the same builders the operators use when they open
     * ({@link InferenceSettings#of}, {@link PolicySettings#of}), then against the bundle ({@link
     * Classifier#check}: token budget against its max length, threshold labels against its labels). Returns the
     * model in force: the bundle's identity, read once here and handed to every operator that names the model.
     */
    private static ModelBundle checkInference(Configuration conf) {
        InferenceSettings.of(conf);
        PolicySettings.of(conf);
        try {
            return ModelBundle.load(conf);
        } catch (InvalidModelBundleException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(InferenceOptions.MODEL_DIR.key() + ": " + e.getMessage(), e);
        }
    }

    private static ModelIdentity checkModel(ModelBundle bundle, Configuration conf) {
        try {
            return Classifier.check(bundle, conf);
        } catch (InvalidModelBundleException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ shadow

    /**
     * The shadow options, checked whether or not a shadow is set (a value that could never work is a mistake
     * whenever it is given), and the shadow bundle with the same checks as the primary's, its errors naming
     * {@code shadow.model.dir}. Returns the shadow model, or null without one.
     */
    private static ModelIdentity checkShadow(Configuration conf) {
        new ShadowSample(conf.get(ShadowOptions.SAMPLE_RATE));
        atLeast(ShadowOptions.MAX_IN_FLIGHT, conf.get(ShadowOptions.MAX_IN_FLIGHT), 1);
        atLeast(ShadowOptions.THREADS, conf.get(ShadowOptions.THREADS), 1);
        atLeast(ShadowOptions.MIN_RECORDS, conf.get(ShadowOptions.MIN_RECORDS), 1);
        atLeast(ShadowOptions.EXAMPLES, conf.get(ShadowOptions.EXAMPLES), 0);
        double warn = conf.get(ShadowOptions.AGREEMENT_WARN);
        double alert = conf.get(ShadowOptions.AGREEMENT_ALERT);
        if (!(warn >= 0 && warn <= 1 && alert >= 0 && alert <= warn)) {
            throw new IllegalArgumentException(ShadowOptions.AGREEMENT_ALERT.key() + " (" + alert + ") and "
                    + ShadowOptions.AGREEMENT_WARN.key() + " (" + warn + ") must satisfy 0 <= alert <= warn <= 1");
        }
        String topic = conf.get(KafkaOptions.SHADOW_TOPIC);
        String key = KafkaOptions.SHADOW_TOPIC.key();
        if (!topic.matches("[A-Za-z0-9._-]{1,249}")) {
            throw new IllegalArgumentException(key + ": '" + topic + "' is not a Kafka topic name (1 to 249 of the"
                    + " characters a-z A-Z 0-9 . _ -)");
        }
        String dir = conf.getOptional(ShadowOptions.MODEL_DIR).orElse(null);
        if (dir == null) {
            return null;
        }
        for (ConfigOption<String> other : List.of(KafkaOptions.INPUT_TOPIC, KafkaOptions.OUTPUT_TOPIC,
                KafkaOptions.DEAD_LETTER_TOPIC, KafkaOptions.DRIFT_TOPIC, PolicyOptions.POLICY_TOPIC)) {
            // get, not getOptional: a topic left at its default is the job's topic all the same
            if (topic.equals(conf.get(other))) {
                throw new IllegalArgumentException(key + " and " + other.key() + " are the same topic (" + topic
                        + "): shadow decisions must never mix with the job's other records; give them a topic of"
                        + " their own");
            }
        }
        Configuration shadow = shadowConfiguration(conf);
        try {
            return Classifier.check(ModelBundle.load(shadow), shadow);
        } catch (InvalidModelBundleException | java.io.UncheckedIOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(ShadowOptions.MODEL_DIR.key() + ": " + e.getMessage()
                    + " (the shadow bundle is checked as inference.model.dir is, with the same inference and"
                    + " moderation options)", e);
        }
    }

    /**
     * The configuration the shadow's classifier opens with: the job's, with the shadow bundle as the model
     * ({@link #withModel}), so it runs with the same inference and moderation options.
     */
    public static Configuration shadowConfiguration(Configuration conf) {
        return withModel(conf, conf.get(ShadowOptions.MODEL_DIR));
    }

    /**
     * A copy of {@code conf} whose model is the bundle at {@code dir} (the built-in model choice dropped), every other
     * option kept: what a shadow or a promoted model opens and is checked with.
     */
    public static Configuration withModel(Configuration conf, String dir) {
        Configuration c = new Configuration(conf);
        c.removeConfig(InferenceOptions.MODEL_BUILTIN);
        c.set(InferenceOptions.MODEL_DIR, dir);
        return c;
    }

    // ------------------------------------------------------------------------------------------------ policy

    /**
     * The policy topic, when set: a topic name, none of the topics the job reads or writes (the policy must never
     * be overwritten by output, nor classified as input), and the policy id to follow on it.
     */
    private static void checkPolicyTopic(Configuration conf) {
        // Checked even without a topic: a value that could never work is a mistake whenever it is given.
        String id = conf.getOptional(PolicyOptions.POLICY_ID).orElse("");
        if (!id.isEmpty() && !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException(PolicyOptions.POLICY_ID.key() + ": '" + id + "' is not a policy id:"
                    + " use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (conf.get(PolicyOptions.TENANT_ATTRIBUTE).isBlank()) {
            throw new IllegalArgumentException(PolicyOptions.TENANT_ATTRIBUTE.key() + " is blank: name the input"
                    + " attribute that selects a tenant (default tenant)");
        }
        String topic = conf.getOptional(PolicyOptions.POLICY_TOPIC).orElse(null);
        if (topic == null) {
            return;
        }
        String key = PolicyOptions.POLICY_TOPIC.key();
        if (!topic.matches("[A-Za-z0-9._-]{1,249}")) {
            throw new IllegalArgumentException(key + ": '" + topic + "' is not a Kafka topic name (1 to 249 of the"
                    + " characters a-z A-Z 0-9 . _ -)");
        }
        for (ConfigOption<String> other : List.of(KafkaOptions.INPUT_TOPIC, KafkaOptions.OUTPUT_TOPIC,
                KafkaOptions.DEAD_LETTER_TOPIC, KafkaOptions.DRIFT_TOPIC)) {
            if (topic.equals(conf.get(other))) {
                throw new IllegalArgumentException(key + " and " + other.key() + " are the same topic (" + topic
                        + "): give the policies a compacted topic of their own");
            }
        }
        if (id.isEmpty()) {
            throw new IllegalArgumentException(PolicyOptions.POLICY_ID.key() + " is not set: with " + key
                    + " it must name the policy this job follows (the key its versions are published under)");
        }
    }

    /**
     * The policy a job with a policy topic starts with: the pre-flight's, if it put one in the configuration,
     * else the built-in policy (the bundle's thresholds, or moderation.thresholds) under the followed id.
     */
    private static PolicyDocument startingPolicy(Configuration conf, ModelBundle bundle, ModelIdentity model) {
        if (conf.getOptional(PolicyOptions.POLICY_TOPIC).isEmpty()) {
            return null;
        }
        String json = conf.getString(STARTING_POLICY, null);
        if (json == null) {
            ModerationPolicy thresholds = PolicySettings.of(conf).policy(bundle);
            return PolicyDocument.builtIn(conf.get(PolicyOptions.POLICY_ID), thresholds.thresholds(),
                    thresholds.version());
        }
        PolicyDocument p;
        try {
            p = PolicyDocument.parse(json);
        } catch (PolicyRejectedException e) {
            throw new IllegalArgumentException(STARTING_POLICY + ": " + e.getMessage(), e);
        }
        checkStarting(p, conf, model);
        return p;
    }

    private static void checkStarting(PolicyDocument p, Configuration conf, ModelIdentity model) {
        String id = conf.getOptional(PolicyOptions.POLICY_ID).orElse(null);
        if (conf.getOptional(PolicyOptions.POLICY_TOPIC).isEmpty() || !p.id().equals(id)) {
            throw new IllegalArgumentException("the starting policy " + p + " is not " + PolicyOptions.POLICY_ID.key()
                    + " '" + id + "' of a " + PolicyOptions.POLICY_TOPIC.key() + ". This is a bug.");
        }
        try {
            p.checkFits(model.labels());
        } catch (PolicyRejectedException e) {
            throw new IllegalArgumentException("the starting policy " + p + " does not fit the model: "
                    + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ timeouts

    /**
     * The longest wait between a failure and the restart, as the restart strategy in {@code conf} is set (Flink's
     * default for a checkpointed job is exponential-delay, whose longest wait is its max backoff). A strategy set
     * only in the cluster's own configuration is not seen here: set it in the job's options too.
     */
    static Duration restartDelay(Configuration conf) {
        String type = conf.getOptional(RestartStrategyOptions.RESTART_STRATEGY).orElse("exponential-delay")
                .toLowerCase(Locale.ROOT);
        return switch (type) {
            case "none", "off", "disable" -> Duration.ZERO;
            case "fixed-delay", "fixeddelay" -> conf.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY);
            case "failure-rate", "failurerate" -> conf.get(RestartStrategyOptions.RESTART_STRATEGY_FAILURE_RATE_DELAY);
            default -> conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF);
        };
    }

    /**
     * With EXACTLY_ONCE, a transaction opened after one checkpoint is committed after the next completes, which
     * can take the interval, the checkpoint timeout and, after a failure between the two, the restart delay. The
     * broker aborts a transaction older than {@code transaction.timeout.ms}, and that checkpoint's output is
     * lost: the timeout must cover all three. Default: that sum x 1.5, rounded up to a second.
     */
    private static Duration transactionTimeout(Configuration conf, Configuration resolved, Duration needed) {
        String key = KafkaOptions.PROPERTIES.key() + "." + TRANSACTION_TIMEOUT_MS;
        Map<String, String> props = conf.get(KafkaOptions.PROPERTIES);
        String given = props.get(TRANSACTION_TIMEOUT_MS);
        if (given == null) {
            long ms = (needed.toMillis() * 3 / 2 + 999) / 1000 * 1000;
            if (conf.containsKey(KafkaOptions.PROPERTIES.key())) {
                // given as one map value: keep it one value (a second form would shadow it)
                Map<String, String> merged = new LinkedHashMap<>(props);
                merged.put(TRANSACTION_TIMEOUT_MS, Long.toString(ms));
                resolved.set(KafkaOptions.PROPERTIES, merged);
            } else {
                resolved.setString(key, Long.toString(ms));
            }
            return Duration.ofMillis(ms);
        }
        long ms;
        try {
            ms = Long.parseLong(given.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": '" + given + "' is not a whole number of milliseconds");
        }
        if (conf.get(KafkaOptions.DELIVERY_GUARANTEE) == KafkaOptions.Guarantee.EXACTLY_ONCE
                && ms < needed.toMillis()) {
            throw new IllegalArgumentException(key + " is " + ms + " ms, less than " + JobOptions.CHECKPOINT_INTERVAL
                    .key() + " + " + JobOptions.CHECKPOINT_TIMEOUT.key() + " + the restart delay (" + needed.toMillis()
                    + " ms): the broker could abort a transaction before its checkpoint commits it, losing that"
                    + " checkpoint's output. Raise it (or leave it unset for the derived default), or lower "
                    + JobOptions.CHECKPOINT_TIMEOUT.key() + ".");
        }
        return Duration.ofMillis(ms);
    }

    private static void atLeast(ConfigOption<Integer> option, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(option.key() + " must be >= " + min + ", got " + value);
        }
    }

    // ------------------------------------------------------------------------------------------------ values

    /** The input configuration with the derived defaults filled in: what the job is built from. */
    public Configuration configuration() {
        return configuration;
    }

    public BatchingSettings batching() {
        return batching;
    }

    public DriftSettings drift() {
        return drift;
    }

    public Duration checkpointInterval() {
        return checkpointInterval;
    }

    public Duration checkpointTimeout() {
        return checkpointTimeout;
    }

    public Duration restartDelay() {
        return restartDelay;
    }

    /** The producers' transaction.timeout.ms (used with EXACTLY_ONCE). */
    public Duration transactionTimeout() {
        return transactionTimeout;
    }

    /** The model in force, read once from the bundle: every operator that names the model is given it. */
    public ModelIdentity model() {
        return model;
    }

    /** The followed policy topic, when {@code kafka.policy-topic} is set. */
    public java.util.Optional<String> policyTopic() {
        return configuration.getOptional(PolicyOptions.POLICY_TOPIC);
    }

    /**
     * With a policy topic, the policy in force until the topic or restored state gives a newer one (see {@link
     * #withStartingPolicy}); null without a policy topic.
     */
    public PolicyDocument startingPolicy() {
        return startingPolicy;
    }

    /** With {@code shadow.model.dir}: the candidate model the shadow stage scores with. */
    public java.util.Optional<ModelIdentity> shadowModel() {
        return java.util.Optional.ofNullable(shadowModel);
    }

    /** The model's effective max length (the bundle's, or inference.max-length). */
    public int maxLength() {
        return model.maxLength();
    }

    /** The consumer group the source commits to. */
    public String groupId() {
        return configuration.get(KafkaOptions.GROUP_ID);
    }

    /** The prefix of the sink's transactional ids. */
    public String transactionalIdPrefix() {
        return configuration.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
    }

    /**
     * Every topic the job writes, with the option that names it: output and dead letters, the report (drift)
     * topic when drift is on, a policy topic is set (policy events go there) or a shadow model is (its agreement
     * reports), and the shadow topic with a shadow model. Two options may name one topic; the first keeps it.
     */
    public Map<String, String> writtenTopics() {
        Map<String, String> out = new LinkedHashMap<>();
        List<ConfigOption<String>> options = new java.util.ArrayList<>(
                List.of(KafkaOptions.OUTPUT_TOPIC, KafkaOptions.DEAD_LETTER_TOPIC));
        if (drift.enabled() || policyTopic().isPresent() || shadowModel != null) {
            options.add(KafkaOptions.DRIFT_TOPIC);
        }
        if (shadowModel != null) {
            options.add(KafkaOptions.SHADOW_TOPIC);
        }
        for (ConfigOption<String> o : options) {
            out.putIfAbsent(configuration.get(o), o.key());
        }
        return out;
    }
}
