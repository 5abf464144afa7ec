package dev.labelstream.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node Kafka cluster (KRaft, combined broker and controller) inside this JVM, from Kafka's own
 * server artifacts: what the demo, the benchmark and the tests run against instead of containers.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Starts a broker; {@code brokerProperties} add to or override the single-node defaults. */
    public static EmbeddedKafka start(Map<String, String> brokerProperties) throws Exception {
        return start(brokerProperties, null);
    }

    /** Starts a broker with its log directories under {@code baseDir} (null: a temporary directory). */
    public static EmbeddedKafka start(Map<String, String> brokerProperties, Path baseDir) throws Exception {
        TestKitNodes.Builder nodes = new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1);
        if (baseDir != null) {
            nodes.setBaseDirectory(baseDir);
        }
        KafkaClusterTestKit.Builder b = new KafkaClusterTestKit.Builder(nodes.build())
                // One broker: internal topics cannot have more replicas than that, or transactions never start.
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("num.partitions", "1")
                .setConfigProp("auto.create.topics.enable", "false");
        brokerProperties.forEach(b::setConfigProp);
        KafkaClusterTestKit cluster = b.build();
        java.io.PrintStream stdout = System.out;
        try {
            // Kafka's storage formatter prints its bootstrap metadata to stdout; the demo's output is for people.
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            cluster.format();
            System.setOut(stdout);
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            System.setOut(stdout);
            cluster.close();
            throw e;
        }
        return new EmbeddedKafka(cluster);
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Client properties that reach the broker (bootstrap servers and, for secured listeners, security). */
    public Properties clientProperties() {
        return cluster.clientProperties();
    }

    /** Creates topics with {@code partitions} partitions each, and waits until they exist. */
    public void createTopics(int partitions, String... topics) throws Exception {
        try (Admin admin = Admin.create(clientProperties())) {
            List<NewTopic> t = new ArrayList<>();
            for (String name : topics) {
                t.add(new NewTopic(name, partitions, (short) 1));
            }
            admin.createTopics(t).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** The underlying test kit, for tests that stop and restart the broker. */
    public KafkaClusterTestKit cluster() {
        return cluster;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
