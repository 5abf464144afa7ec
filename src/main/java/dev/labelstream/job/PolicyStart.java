package dev.labelstream.job;

import dev.labelstream.settings.JobSettings;
import dev.labelstream.io.KafkaIo;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyTopic;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy topic's part of the pre-flight, for {@code run} and the demo: the topic passes the same checks as
 * every other topic ({@link PolicyTopic#preflight}: exists, readable, not an output), then the newest valid
 * version of the followed policy is read ({@link PolicyTopic#readNewest}) and the job starts with it, so records
 * never wait for a policy and the first decisions are already the published policy's. Without a version on the
 * topic the job starts with the bundle's thresholds (the built-in policy) and the first published version
 * replaces them.
 */
public final class PolicyStart {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyStart.class);

    private PolicyStart() {}

    /**
     * Checks the policy topic and returns {@code settings} starting with its newest valid version; {@code
     * settings} unchanged when no policy topic is set.
     *
     * @param warn receives warnings for the user (a topic that is not compacted)
     * @throws IllegalArgumentException naming {@code kafka.policy-topic} and what to do
     */
    public static JobSettings prepare(JobSettings settings, Duration timeout, Consumer<String> warn)
            throws InterruptedException {
        Optional<String> topic = settings.policyTopic();
        if (topic.isEmpty()) {
            return settings;
        }
        Properties p = KafkaIo.clientProperties(settings.configuration());
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaIo.bootstrapServers(settings.configuration()));
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "labelstream-preflight");
        try (Admin admin = Admin.create(p)) {
            List<String> warnings = PolicyTopic.preflight(admin, topic.get(), settings.writtenTopics().keySet(),
                    timeout);
            warnings.forEach(warn);
        }
        PolicyDocument fallback = settings.startingPolicy();
        Optional<PolicyDocument> newest = PolicyTopic.readNewest(p, topic.get(), fallback.id(),
                settings.model().labels(), timeout);
        if (newest.isEmpty()) {
            LOG.info("No valid version of policy {} on {}: starting with {}", fallback.id(), topic.get(), fallback);
            return settings;
        }
        LOG.info("Starting with policy {} (newest valid version on {})", newest.get(), topic.get());
        return settings.withStartingPolicy(newest.get());
    }
}
