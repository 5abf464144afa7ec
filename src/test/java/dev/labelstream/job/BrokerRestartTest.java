package dev.labelstream.job;

import dev.labelstream.demo.EmbeddedKafka;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import kafka.server.BrokerServer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Kafka broker stops mid-stream and comes back some seconds later, on the same port (the test kit binds
 * its listener sockets before the broker starts and reuses the port on restart). The job, with an exponential
 * backoff restart strategy, must recover on its own, and a read_committed consumer must see every input id
 * exactly once. The test has a broker of its own, so stopping it cannot disturb other tests. What it showed: the
 * Kafka clients' own retries bridge an outage of seconds (the transactional producer retries its sends, the
 * committer retries the commit, checkpoints during the outage are declined), so no restart was needed.
 */
@Tag("slow")
class BrokerRestartTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1);

    static final Duration DOWN = Duration.ofSeconds(8);

    @Test
    void theJobRecoversOnItsOwnAfterTheBrokerComesBackAndNothingIsLostOrDuplicated(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        try (EmbeddedKafka broker = EmbeddedKafka.start(Map.of())) {
            String bootstrap = broker.bootstrapServers();
            Properties client = FaultTestSupport.clientProps(bootstrap);
            TestKafka.Topics t = FaultTestSupport.topics(broker, 2);
            Configuration conf = FaultTestSupport.jobConf(bootstrap, t, InputFormat.JSON);
            conf.set(InferenceOptions.MODEL_DIR, FaultTestSupport.faultyModel().toString());
            conf.set(BatchingOptions.MAX_RECORDS, 8);
            conf.setString("restart-strategy.type", "exponential-delay");
            conf.setString("restart-strategy.exponential-delay.initial-backoff", "500 ms");
            conf.setString("restart-strategy.exponential-delay.max-backoff", "5 s");
            conf.setString("restart-strategy.exponential-delay.backoff-multiplier", "2.0");
            conf.setString("restart-strategy.exponential-delay.attempts-before-reset-backoff", "1000");
            JobClient job = JobTestSupport.start(conf);
            FaultTestSupport.Outputs out;
            boolean restarted;
            long failedCheckpoints;
            // A steady stream before, during (buffered by the producer) and after the outage, so that the
            // sink has an open transaction with records in it when the broker goes away.
            SteadyProducer producer = new SteadyProducer(client, t.input(), 50);
            int sent;
            try {
                FaultTestSupport.read(client, t, 50, Duration.ofSeconds(120));
                BrokerServer server = broker.cluster().brokers().values().iterator().next();
                server.shutdown();
                Thread.sleep(DOWN.toMillis());
                server.startup();
                Thread.sleep(3000);
                sent = producer.stop();
                out = FaultTestSupport.read(client, t, sent, Duration.ofSeconds(180));
                assertThat(out.copiesById()).hasSize(sent);
                // two more checkpoints, then everything again: late duplicates would show now
                Thread.sleep(1500);
                out = FaultTestSupport.read(client, t, Integer.MAX_VALUE, Duration.ofSeconds(5));
                restarted = FaultTestSupport.restarted(cluster, job.getJobID());
                failedCheckpoints = cluster.getExecutionGraph(job.getJobID()).get().getCheckpointStatsSnapshot()
                        .getCounts().getNumberOfFailedCheckpoints();
                assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            } finally {
                producer.stop();
                JobTestSupport.cancel(job);
            }
            int n = sent;
            assertThat(out.copiesById()).hasSize(n).allSatisfy((id, c) -> assertThat(c).as(id).isEqualTo(1));
            assertThat(out.deadLetters()).isEmpty();
            FaultTestSupport.figures("broker down " + DOWN.toSeconds() + " s", "in=" + n + " classified="
                    + out.classified().size() + " deadLetters=" + out.deadLetters().size() + " duplicates="
                    + out.duplicates() + " jobRestarted=" + restarted + " failedCheckpoints=" + failedCheckpoints);
        }
    }

    /** Produces records b-0, b-1, ... at a steady rate on a thread of its own until stopped. */
    static final class SteadyProducer {
        private final Thread thread;
        private volatile boolean stop;
        private final java.util.concurrent.atomic.AtomicInteger acked = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicReference<Exception> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        private int sent;

        SteadyProducer(Properties client, String topic, int perSecond) {
            thread = new Thread(() -> {
                Properties p = new Properties();
                p.putAll(client);
                try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
                        new org.apache.kafka.clients.producer.KafkaProducer<>(p,
                                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                    long start = System.nanoTime();
                    while (!stop) {
                        String id = "b-" + sent;
                        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic,
                                id.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                                FaultTestSupport.json(id, InferenceFaultsTest.text(sent))), (md, e) -> {
                                    if (e != null) {
                                        failure.set(e);
                                    } else {
                                        acked.incrementAndGet();
                                    }
                                });
                        sent++;
                        long due = start + sent * 1_000_000_000L / perSecond;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                    producer.flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "steady-producer");
            thread.setDaemon(true);
            thread.start();
        }

        /** Stops, waits for every acknowledgement, and returns how many records were produced. */
        int stop() throws InterruptedException {
            stop = true;
            thread.join();
            assertThat(failure.get()).as("a send failed").isNull();
            assertThat(acked.get()).isEqualTo(sent);
            return sent;
        }
    }
}
