package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.settings.JobSettings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.KafkaPreflight;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pre-flight against real brokers: every written topic exists (auto.create.topics.enable is off on the test
 * broker), the dead-letter topic holds input.max-bytes plus the envelope, the transaction timeout fits the
 * broker's transaction.max.timeout.ms, and open transactions under the job's prefix are reported.
 */
class PreflightTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** A broker that allows transactions of at most one minute. */
    private static EmbeddedKafka strict;

    @BeforeAll
    static void startStrictBroker() throws Exception {
        strict = EmbeddedKafka.start(Map.of("transaction.max.timeout.ms", "60000"));
    }

    @AfterAll
    static void stopStrictBroker() throws Exception {
        if (strict != null) {
            strict.close();
        }
    }

    private static Configuration conf(TestKafka.Topics t) throws Exception {
        Configuration c = JobTestSupport.jobConf(t, InputFormat.JSON);
        c.removeConfig(KafkaOptions.GROUP_ID);
        c.removeConfig(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
        return c;
    }

    private static List<String> preflight(Configuration c) {
        JobSettings s = JobSettings.of(c);
        return KafkaPreflight.check(s.configuration(), s.writtenTopics(), TIMEOUT);
    }

    @Test
    void allTopicsPresentPasses() throws Exception {
        assertThat(preflight(conf(TestKafka.Topics.create(1)))).isEmpty();
    }

    @Test
    void aMissingDeadLetterTopicIsRefusedWhenTheBrokerDoesNotCreateTopics() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Configuration c = conf(t);
        c.set(KafkaOptions.DEAD_LETTER_TOPIC, "missing-" + UUID.randomUUID());
        assertThatThrownBy(() -> preflight(c)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(c.get(KafkaOptions.DEAD_LETTER_TOPIC))
                .hasMessageContaining("kafka.dead-letter-topic").hasMessageContaining("auto.create.topics.enable=false");
    }

    @Test
    void inputEqualToTheDeadLetterTopicIsRefusedBeforeKafka() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Configuration c = conf(t);
        c.set(KafkaOptions.DEAD_LETTER_TOPIC, t.input());
        assertThatThrownBy(() -> JobSettings.of(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.input-topic").hasMessageContaining("kafka.dead-letter-topic")
                .hasMessageContaining(t.input());
    }

    @Test
    void aDeadLetterTopicTooSmallForTheLargestInputIsRefused() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        String dlq = "small-dlq-" + UUID.randomUUID();
        try (Admin admin = Admin.create(TestKafka.broker().clientProperties())) {
            admin.createTopics(List.of(new NewTopic(dlq, 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "100000")))).all().get();
        }
        Configuration c = conf(t);
        c.set(KafkaOptions.DEAD_LETTER_TOPIC, dlq);
        assertThatThrownBy(() -> preflight(c)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(dlq).hasMessageContaining("max.message.bytes").hasMessageContaining("100000")
                .hasMessageContaining("input.max-bytes");
        // An input limit the topic holds passes.
        c.set(KafkaOptions.INPUT_MAX_BYTES, 100000 - dev.labelstream.io.DeadLetters.ENVELOPE_BYTES);
        preflight(c);
    }

    @Test
    void aTransactionTimeoutAboveTheBrokersMaximumIsRefusedWithWhatToChange() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(strict, 1);
        Configuration c = JobTestSupport.jobConf(strict.bootstrapServers(), t, InputFormat.JSON);
        c.set(dev.labelstream.inference.InferenceOptions.MODEL_DIR, JobTestSupport.defaultModel().toString());
        // Defaults: 10 s + 5 min + the restart delay (500 ms here), x 1.5.
        c.removeConfig(JobOptions.CHECKPOINT_INTERVAL);
        JobSettings s = JobSettings.of(c);
        assertThat(s.transactionTimeout()).isEqualTo(Duration.ofMillis(466_000));
        assertThatThrownBy(() -> KafkaPreflight.check(s.configuration(), s.writtenTopics(), TIMEOUT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("transaction.max.timeout.ms").hasMessageContaining("60000")
                .hasMessageContaining("466000").hasMessageContaining("job.checkpoint-timeout")
                .hasMessageContaining("brokers");
        // What the message says to do on the job's side: a shorter checkpoint timeout.
        c.set(JobOptions.CHECKPOINT_TIMEOUT, Duration.ofSeconds(20));
        JobSettings shorter = JobSettings.of(c);
        assertThat(shorter.transactionTimeout()).isEqualTo(Duration.ofSeconds(46));
        KafkaPreflight.check(shorter.configuration(), shorter.writtenTopics(), TIMEOUT);
        assertThat(shorter.configuration().get(KafkaOptions.PROPERTIES)).containsEntry("transaction.timeout.ms", "46000");
    }

    @Test
    void openTransactionsUnderThePrefixAreAWarningNamingBothSettings() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Configuration c = conf(t);
        JobSettings s = JobSettings.of(c);
        Properties p = new Properties();
        p.putAll(TestKafka.broker().clientProperties());
        p.put("transactional.id", s.transactionalIdPrefix() + "-0-1");
        try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            other.initTransactions();
            other.beginTransaction();
            other.send(new ProducerRecord<>(t.output(), "x".getBytes())).get();
            List<String> warnings = KafkaPreflight.check(s.configuration(), s.writtenTopics(), TIMEOUT);
            assertThat(warnings).singleElement().asString().contains(s.transactionalIdPrefix() + "-0-1")
                    .contains("kafka.transactional-id-prefix").contains("kafka.group-id");
            other.abortTransaction();
        }
    }

    @Test
    void theDefaultsArePerJob() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Configuration c = conf(t);
        c.set(JobOptions.JOB_NAME, "spam");
        JobSettings s = JobSettings.of(c);
        assertThat(s.groupId()).isEqualTo("spam." + t.input() + "." + t.output());
        assertThat(s.transactionalIdPrefix()).isEqualTo(s.groupId());
        c.set(KafkaOptions.GROUP_ID, "labelstream");
        assertThat(JobSettings.of(c).groupId()).isEqualTo("labelstream");
    }
}
