package dev.labelstream.policy;

import dev.labelstream.io.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy topic: its pre-flight check, the newest valid version of a policy on it (for a fresh start), and the
 * broadcast source the job reads it with. Policies are published keyed by policy id (the key is the id's UTF-8
 * bytes, the value the document's JSON), so a compacted topic keeps the newest version of each id.
 */
public final class PolicyTopic {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyTopic.class);

    private PolicyTopic() {}

    /**
     * Checks the policy topic before the job starts: it exists, this client may read it, and it is none of the
     * job's output topics (a policy must never be overwritten by output).
     *
     * @param outputTopics the topics the job writes (output, dead letters, reports, shadow)
     * @return warnings to log: a topic whose cleanup.policy is not compact keeps every version and eventually
     *     loses the newest to retention
     * @throws IllegalArgumentException naming kafka.policy-topic, the topic and what to do
     */
    public static List<String> preflight(Admin admin, String topic, Collection<String> outputTopics, Duration timeout)
            throws InterruptedException {
        String key = PolicyOptions.POLICY_TOPIC.key();
        if (outputTopics.contains(topic)) {
            throw new IllegalArgumentException(key + " \"" + topic + "\" is also an output topic of the job: give"
                    + " the policies their own topic");
        }
        long ms = timeout.toMillis();
        TopicDescription d;
        try {
            d = admin.describeTopics(List.of(topic), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .allTopicNames().get(ms, TimeUnit.MILLISECONDS).get(topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException(key + " \"" + topic + "\" does not exist: create it compacted"
                        + " (cleanup.policy=compact), e.g. kafka-topics.sh --create --topic " + topic
                        + " --partitions 1 --config cleanup.policy=compact", e);
            }
            throw new IllegalArgumentException(key + " \"" + topic + "\" cannot be described: "
                    + e.getCause().getMessage(), e);
        } catch (TimeoutException e) {
            throw new IllegalArgumentException(key + " \"" + topic + "\": no answer from Kafka within " + timeout, e);
        }
        Set<AclOperation> ops = d.authorizedOperations();
        if (ops != null && !ops.contains(AclOperation.READ) && !ops.contains(AclOperation.ALL)) {
            throw new IllegalArgumentException(key + " \"" + topic + "\" is not readable by this client (its ACLs"
                    + " allow " + ops + "): grant READ on the topic");
        }
        List<String> warnings = new ArrayList<>();
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            Config c = admin.describeConfigs(List.of(res)).all().get(ms, TimeUnit.MILLISECONDS).get(res);
            ConfigEntry cleanup = c == null ? null : c.get("cleanup.policy");
            if (cleanup == null || cleanup.value() == null || !cleanup.value().contains("compact")) {
                warnings.add(key + " \"" + topic + "\" has cleanup.policy=" + (cleanup == null ? "?" : cleanup.value())
                        + ", not compact: retention may delete the policy in force from the topic (a fresh start"
                        + " then falls back to the bundle's thresholds); set cleanup.policy=compact");
            }
        } catch (ExecutionException | TimeoutException e) {
            warnings.add(key + " \"" + topic + "\": its cleanup.policy could not be read ("
                    + e.getMessage() + "); it should be compact");
        }
        if (d.partitions().size() > 1) {
            // Each id lives in one partition, so order per policy holds; noted because it is unusual.
            LOG.debug("Policy topic {} has {} partitions", topic, d.partitions().size());
        }
        return warnings;
    }

    /**
     * Reads {@code topic} from the beginning to its current end and returns the newest version of {@code policyId}
     * that parses and fits {@code labels} (null: any labels); invalid versions are logged and skipped. For {@code run}'s fresh start:
     * the job then starts with it instead of the bundle's thresholds.
     *
     * @param consumerProperties bootstrap.servers and security settings; deserializers, group and commits are
     *     set here
     */
    public static Optional<PolicyDocument> readNewest(Properties consumerProperties, String topic, String policyId,
            List<String> labels, Duration timeout) {
        PolicyGate gate = new PolicyGate(policyId, labels);
        Properties p = new Properties();
        p.putAll(consumerProperties);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        long deadline = System.nanoTime() + timeout.toNanos();
        PolicyDocument none = PolicyDocument.builtIn(policyId, Map.of(), "none");
        PolicyDocument newest = none;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, timeout).forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, timeout));
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), timeout) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(PolicyOptions.POLICY_TOPIC.key() + " \"" + topic + "\": not read"
                            + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    PolicyGate.Verdict v = gate.offer(newest, r.key(), r.value());
                    if (v instanceof PolicyGate.Accept a) {
                        newest = a.policy();
                    } else if (v instanceof PolicyGate.Reject j && !j.reason().startsWith("$.version:")) {
                        LOG.warn("Skipping the policy document at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
                                j.reason());
                    }
                }
            }
        }
        return newest == none ? Optional.empty() : Optional.of(newest);
    }

    /**
     * The broadcast source of the policy topic: every partition from the beginning on a fresh start (the offsets
     * are in checkpoints after that), read_committed, no consumer group commits.
     *
     * @param clientProperties security and other client settings (kafka.properties)
     */
    public static KafkaSource<SourceRecord> source(String bootstrapServers, String topic, Properties clientProperties) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put("commit.offsets.on.checkpoint", "false");
        props.putIfAbsent("isolation.level", "read_committed");
        props.putIfAbsent("partition.discovery.interval.ms", "60000");
        return KafkaSource.<SourceRecord>builder()
                .setBootstrapServers(bootstrapServers)
                .setTopics(topic)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new Records())
                .setProperties(props)
                .build();
    }

    /** Keeps key, value and position of a policy record; policies have no headers that matter. */
    static final class Records implements KafkaRecordDeserializationSchema<SourceRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<SourceRecord> out) {
            out.collect(new SourceRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(),
                    List.of()));
        }

        @Override
        public TypeInformation<SourceRecord> getProducedType() {
            return TypeInformation.of(SourceRecord.class);
        }
    }

    /** The record key a policy is published under. */
    public static byte[] key(PolicyDocument policy) {
        return policy.id().getBytes(StandardCharsets.UTF_8);
    }
}
