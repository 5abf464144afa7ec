package dev.labelstream.io;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
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
 */
public final class KafkaPreflight {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPreflight.class);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private KafkaPreflight() {}

    /**
     * @throws IllegalStateException when Kafka cannot be reached, rejects the credentials or denies access to
     *     the input topic; the message says which settings to check
     */
    public static void check(ReadableConfig conf, Duration timeout) {
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
        try (admin) {
            admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AuthenticationException) {
                throw new IllegalStateException(where + " rejected the job's login: " + c.getClass().getSimpleName()
                        + ": " + c.getMessage() + ". Check " + KafkaOptions.PROPERTIES.key() + ": sasl.mechanism,"
                        + " the user name and password in sasl.jaas.config, and ssl.truststore.location /"
                        + " ssl.truststore.password for the broker's certificate.", c);
            }
            if (c instanceof AuthorizationException) {
                throw new IllegalStateException(where + " denied access: " + c.getClass().getSimpleName() + ": "
                        + c.getMessage() + ". Grant the job's user DESCRIBE and READ on topic " + topic + ", READ on"
                        + " group " + conf.get(KafkaOptions.GROUP_ID) + ", WRITE on the output topics and on"
                        + " transactional ids " + conf.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX) + "*.", c);
            }
            if (c instanceof UnknownTopicOrPartitionException) {
                LOG.warn("Input topic {} does not exist on {} (yet): the job will wait for it", topic, where);
                return;
            }
            throw new IllegalStateException(where + " failed the connection check: " + c, c);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from " + where + " within " + timeout + ": check "
                    + KafkaOptions.BOOTSTRAP_SERVERS.key() + ", and that security.protocol in "
                    + KafkaOptions.PROPERTIES.key() + " is the listener's (TLS spoken to a plaintext listener, or"
                    + " the reverse, looks like this)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + where, e);
        }
        LOG.info("{} accepted the job's client settings; input topic {} found", where, topic);
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
