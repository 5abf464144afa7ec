package dev.labelstream.io;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the job is submitted, that Kafka accepts the job's client settings: connect, authenticate
 * (SASL, TLS) and describe the input topic, with exactly the properties the source and sink will use
 * ({@link KafkaOptions#BOOTSTRAP_SERVERS} and the {@link KafkaOptions#PROPERTIES} pass-through).
 *
 * <p>Why: inside the job, a rejected login fails the Kafka source's split enumerator, and the restart strategy
 * restarts the job, forever with Flink's default for checkpointed jobs. Checked first, a wrong password or
 * truststore stops {@code labelstream run} at once with a message that names the settings to fix. Messages
 * carry the broker's reason and the non-secret settings only (security.protocol, sasl.mechanism), never a
 * password or a JAAS configuration.
 *
 * <p>With the topics the job writes, it also checks what would otherwise fail late: a missing output or
 * dead-letter topic on a broker that does not create topics (the first dead letter, maybe days later, would block
 * the sink and restart the job forever on that record), a dead-letter topic too small for the largest input, a
 * transaction timeout above the broker's maximum (the sink fails at start), and it warns about open transactions
 * under the job's transactional-id prefix (another job with the same prefix would fence this one's producers).
 */
public final class KafkaPreflight {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPreflight.class);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    static final String AUTO_CREATE_TOPICS = "auto.create.topics.enable";
    static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    static final String TOPIC_MAX_MESSAGE_BYTES = "max.message.bytes";

    private KafkaPreflight() {}

    /**
     * The connection check alone: connect, log in, describe the input topic.
     *
     * @throws IllegalStateException when Kafka cannot be reached, rejects the credentials or denies access to
     *     the input topic; the message says which settings to check
     */
    public static List<String> check(ReadableConfig conf, Duration timeout) {
        return check(conf, Map.of(), timeout);
    }

    /**
     * The connection check, then every topic the job writes ({@code written}: topic name -> the option that
     * names it) and the broker settings the sink depends on: each topic exists or the broker creates it
     * (auto.create.topics.enable), the job may write it (where the broker says, through
     * {@code includeAuthorizedOperations}), the dead-letter topic holds {@code input.max-bytes} plus the
     * envelope ({@code max.message.bytes}), and with EXACTLY_ONCE the producers' {@code transaction.timeout.ms}
     * is within the broker's {@code transaction.max.timeout.ms}. What the broker does not let the job see
     * (DESCRIBE_CONFIGS, DESCRIBE on transactional ids denied) is a warning, not a failure.
     *
     * @param conf the job's options with the per-job values derived (group id, transactional-id prefix,
     *     transaction timeout)
     * @return warnings for the user (also logged): open transactions under the prefix, checks the broker denied
     * @throws IllegalStateException naming the setting, topic and side (job or broker) to change
     */
    public static List<String> check(ReadableConfig conf, Map<String, String> written, Duration timeout) {
        Properties p = KafkaIo.clientProperties(conf);
        String bootstrap = KafkaIo.bootstrapServers(conf);
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        String ms = Long.toString(timeout.toMillis());
        p.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        p.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "labelstream-preflight");
        String where = "Kafka at " + bootstrap + " (security.protocol=" + p.getProperty("security.protocol",
                "PLAINTEXT") + (p.containsKey("sasl.mechanism") ? ", sasl.mechanism=" + p.getProperty("sasl.mechanism")
                : "") + ")";
        String topic = conf.get(KafkaOptions.INPUT_TOPIC);
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (KafkaException e) {
            throw new IllegalStateException("cannot create a Kafka client for " + where + " from "
                    + KafkaOptions.PROPERTIES.key() + ": " + rootMessage(e), e);
        }
        List<String> warnings = new ArrayList<>();
        try (admin) {
            Collection<Node> nodes;
            try {
                admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                nodes = admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof UnknownTopicOrPartitionException) {
                    warn(warnings, "Input topic " + topic + " does not exist on " + where + " (yet): the job will"
                            + " wait for it");
                    nodes = admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } else {
                    throw connectionFailure(conf, where, topic, c);
                }
            }
            if (!written.isEmpty()) {
                Map<String, String> broker = brokerConfigs(admin, nodes, timeout, warnings, where);
                checkTransactionTimeout(conf, broker, where);
                checkWrittenTopics(admin, conf, written, broker, timeout, where);
                openTransactions(admin, conf, timeout, warnings, where);
            }
        } catch (ExecutionException e) {
            throw connectionFailure(conf, where, topic, e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from " + where + " within " + timeout + ": check "
                    + KafkaOptions.BOOTSTRAP_SERVERS.key() + ", and that security.protocol in "
                    + KafkaOptions.PROPERTIES.key() + " is the listener's (TLS spoken to a plaintext listener, or"
                    + " the reverse, looks like this)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + where, e);
        }
        LOG.info("{} accepted the job's client settings; input topic {} checked, written topics {}", where, topic,
                written.keySet());
        return warnings;
    }

    private static IllegalStateException connectionFailure(ReadableConfig conf, String where, String topic,
            Throwable c) {
        if (c instanceof AuthenticationException) {
            return new IllegalStateException(where + " rejected the job's login: " + c.getClass().getSimpleName()
                    + ": " + c.getMessage() + ". Check " + KafkaOptions.PROPERTIES.key() + ": sasl.mechanism,"
                    + " the user name and password in sasl.jaas.config, and ssl.truststore.location /"
                    + " ssl.truststore.password for the broker's certificate.", c);
        }
        if (c instanceof AuthorizationException) {
            return new IllegalStateException(where + " denied access: " + c.getClass().getSimpleName() + ": "
                    + c.getMessage() + ". Grant the job's user DESCRIBE and READ on topic " + topic + ", READ on"
                    + " group " + conf.get(KafkaOptions.GROUP_ID) + ", WRITE on the output topics and on"
                    + " transactional ids " + conf.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX) + "*.", c);
        }
        return new IllegalStateException(where + " failed the connection check: " + c, c);
    }

    /** Broker defaults where the broker does not say (Kafka's own defaults). */
    private static final Map<String, String> BROKER_DEFAULTS = Map.of(
            TRANSACTION_MAX_TIMEOUT_MS, "900000",
            AUTO_CREATE_TOPICS, "true",
            MESSAGE_MAX_BYTES, "1048588");

    /** The broker settings the checks read, from one broker; Kafka's defaults where DESCRIBE_CONFIGS is denied. */
    private static Map<String, String> brokerConfigs(Admin admin, Collection<Node> nodes, Duration timeout,
            List<String> warnings, String where) throws InterruptedException, TimeoutException, ExecutionException {
        Map<String, String> out = new HashMap<>();
        if (nodes.isEmpty()) {
            return out;
        }
        ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(nodes.iterator().next().id()));
        try {
            Config c = admin.describeConfigs(List.of(r)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(r);
            for (String key : BROKER_DEFAULTS.keySet()) {
                ConfigEntry e = c.get(key);
                if (e != null && e.value() != null) {
                    out.put(key, e.value());
                }
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof AuthorizationException)) {
                throw e;
            }
            warn(warnings, where + " denied DESCRIBE_CONFIGS on the cluster: " + TRANSACTION_MAX_TIMEOUT_MS + ", "
                    + AUTO_CREATE_TOPICS + " and " + MESSAGE_MAX_BYTES + " were not checked (Kafka's defaults"
                    + " assumed: " + BROKER_DEFAULTS + "). Grant DESCRIBE_CONFIGS on the cluster to check them.");
        }
        return out;
    }

    private static String broker(Map<String, String> broker, String key) {
        return broker.getOrDefault(key, BROKER_DEFAULTS.get(key));
    }

    /** With EXACTLY_ONCE, a producer whose transaction.timeout.ms is above the broker's maximum fails at once. */
    private static void checkTransactionTimeout(ReadableConfig conf, Map<String, String> broker, String where) {
        if (conf.get(KafkaOptions.DELIVERY_GUARANTEE) != KafkaOptions.Guarantee.EXACTLY_ONCE) {
            return;
        }
        String given = conf.get(KafkaOptions.PROPERTIES).get("transaction.timeout.ms");
        if (given == null) {
            return;
        }
        long timeout = Long.parseLong(given.trim());
        long max = Long.parseLong(broker(broker, TRANSACTION_MAX_TIMEOUT_MS));
        if (timeout > max) {
            throw new IllegalStateException(where + " allows transactions of at most " + max + " ms ("
                    + TRANSACTION_MAX_TIMEOUT_MS + "), less than the job's transaction.timeout.ms of " + timeout
                    + " ms: the sink would fail when it starts. On the job's side, lower job.checkpoint-timeout (or"
                    + " job.checkpoint-interval, or the restart strategy's delay), from which the timeout is derived"
                    + " (their sum x 1.5), or set " + KafkaOptions.PROPERTIES.key() + ".transaction.timeout.ms to at"
                    + " most " + max + " ms and no less than that sum; or, on the brokers' side, raise "
                    + TRANSACTION_MAX_TIMEOUT_MS + " to at least " + timeout + " ms.");
        }
    }

    private static void checkWrittenTopics(Admin admin, ReadableConfig conf, Map<String, String> written,
            Map<String, String> broker, Duration timeout, String where)
            throws InterruptedException, TimeoutException, ExecutionException {
        boolean autoCreate = Boolean.parseBoolean(broker(broker, AUTO_CREATE_TOPICS));
        Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(written.keySet(),
                new DescribeTopicsOptions().includeAuthorizedOperations(true)).topicNameValues();
        String deadLetters = conf.get(KafkaOptions.DEAD_LETTER_TOPIC);
        long needed = (long) conf.get(KafkaOptions.INPUT_MAX_BYTES) + DeadLetters.ENVELOPE_BYTES;
        for (Map.Entry<String, String> w : written.entrySet()) {
            String name = w.getKey();
            String option = w.getValue();
            TopicDescription d;
            try {
                d = described.get(name).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    if (!autoCreate) {
                        throw new IllegalStateException("topic " + name + " (" + option + ") does not exist on "
                                + where + ", and the broker does not create topics (" + AUTO_CREATE_TOPICS
                                + "=false): the first record for it would block the sink and fail the job. Create"
                                + " the topic, or point " + option + " at one that exists.");
                    }
                    if (name.equals(deadLetters) && needed > Long.parseLong(broker(broker, MESSAGE_MAX_BYTES))) {
                        throw tooSmall(name, option, "the broker's " + MESSAGE_MAX_BYTES + ", which a topic it"
                                + " creates gets,", Long.parseLong(broker(broker, MESSAGE_MAX_BYTES)), needed, conf);
                    }
                    LOG.info("Topic {} ({}) does not exist yet; the broker creates it on first write", name, option);
                    continue;
                }
                if (e.getCause() instanceof AuthorizationException) {
                    throw new IllegalStateException(where + " denied DESCRIBE on topic " + name + " (" + option
                            + "): grant the job's user WRITE and DESCRIBE on it.", e.getCause());
                }
                throw e;
            }
            Set<AclOperation> ops = d.authorizedOperations();
            if (ops != null && !ops.contains(AclOperation.WRITE) && !ops.contains(AclOperation.ALL)) {
                throw new IllegalStateException(where + " does not let the job's user write topic " + name + " ("
                        + option + "; it may " + ops + "): grant it WRITE on the topic.");
            }
            if (name.equals(deadLetters)) {
                ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, name);
                try {
                    ConfigEntry e = admin.describeConfigs(List.of(r)).all()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(r).get(TOPIC_MAX_MESSAGE_BYTES);
                    if (e != null && e.value() != null && Long.parseLong(e.value()) < needed) {
                        throw tooSmall(name, option, "its " + TOPIC_MAX_MESSAGE_BYTES, Long.parseLong(e.value()),
                                needed, conf);
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof AuthorizationException)) {
                        throw e;
                    }
                    LOG.warn("{} denied DESCRIBE_CONFIGS on topic {}: its {} was not checked", where, name,
                            TOPIC_MAX_MESSAGE_BYTES);
                }
            }
        }
    }

    private static IllegalStateException tooSmall(String topic, String option, String what, long limit, long needed,
            ReadableConfig conf) {
        return new IllegalStateException("topic " + topic + " (" + option + ") takes messages of at most " + limit
                + " bytes (" + what + "), less than " + KafkaOptions.INPUT_MAX_BYTES.key() + " ("
                + conf.get(KafkaOptions.INPUT_MAX_BYTES) + ") + the dead-letter envelope (" + DeadLetters.ENVELOPE_BYTES
                + ") = " + needed + " bytes: a dead letter of a large input could not be written, and the job would"
                + " restart forever on it. Raise the topic's " + TOPIC_MAX_MESSAGE_BYTES + " to at least " + needed
                + " (kafka-configs --alter --entity-type topics --entity-name " + topic + " --add-config "
                + TOPIC_MAX_MESSAGE_BYTES + "=" + needed + "), or lower " + KafkaOptions.INPUT_MAX_BYTES.key() + ".");
    }

    /**
     * Open transactions under the job's prefix: another job using the same prefix (they would fence each other),
     * or this job's own, left by a crash (harmless: the sink aborts them). The broker cannot tell which: warn.
     */
    private static void openTransactions(Admin admin, ReadableConfig conf, Duration timeout, List<String> warnings,
            String where) throws InterruptedException, TimeoutException {
        if (conf.get(KafkaOptions.DELIVERY_GUARANTEE) != KafkaOptions.Guarantee.EXACTLY_ONCE) {
            return;
        }
        String prefix = conf.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
        Set<TransactionState> open = EnumSet.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT,
                TransactionState.PREPARE_ABORT);
        Collection<TransactionListing> listed;
        try {
            try {
                listed = admin.listTransactions(new ListTransactionsOptions().filterStates(open)
                        .filterOnTransactionalIdPattern(Pattern.quote(prefix + "-") + ".*"))
                        .all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnsupportedVersionException)) {
                    throw e;
                }
                // Brokers before 4.1 filter by state only.
                listed = admin.listTransactions(new ListTransactionsOptions().filterStates(open))
                        .all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException e) {
            LOG.info("{} did not list transactions ({}): open transactions under {} not checked", where,
                    e.getCause().toString(), prefix);
            return;
        }
        List<String> ids = listed.stream().map(TransactionListing::transactionalId)
                .filter(id -> id.startsWith(prefix + "-")).sorted().toList();
        if (!ids.isEmpty()) {
            warn(warnings, where + " has " + ids.size() + " open transaction(s) under the transactional-id prefix '"
                    + prefix + "' (" + String.join(", ", ids.subList(0, Math.min(5, ids.size())))
                    + (ids.size() > 5 ? ", ..." : "") + "). If another job runs with the same "
                    + KafkaOptions.TRANSACTIONAL_ID_PREFIX.key() + " (or the same " + KafkaOptions.GROUP_ID.key()
                    + " '" + conf.get(KafkaOptions.GROUP_ID) + "'), the two fence each other's producers and share"
                    + " offsets: give each job its own values of both (the defaults derive them from job.name and"
                    + " the topics). If they are this job's own, left by a crash, the sink aborts them.");
        }
    }

    private static void warn(List<String> warnings, String message) {
        LOG.warn(message);
        warnings.add(message);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getClass().getSimpleName() + ": "
                + t.getMessage() + ")";
    }
}
