package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.avro.TextEvent;
import dev.labelstream.inference.DefaultModel;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Starting the job against the test broker, and reading its outputs back. */
public final class JobTestSupport {
    private JobTestSupport() {}

    /**
     * The MiniCluster of a job test class: one TaskManager with {@code slots} slots, shared by the class's tests
     * ({@code @RegisterExtension static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2);}).
     */
    static MiniClusterExtension miniCluster(int slots) {
        return miniCluster(slots, new Configuration());
    }

    /** The same, with {@code conf} as the cluster's configuration (metric reporters, memory). */
    static MiniClusterExtension miniCluster(int slots, Configuration conf) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setConfiguration(conf)
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(slots)
                .build());
    }

    /** The default (real) model, written once per test run under target/. */
    public static Path defaultModel() {
        return DefaultModel.directory(Path.of("target", "test-cache"));
    }

    static Configuration jobConf(TestKafka.Topics t, InputFormat format) throws Exception {
        Configuration c = jobConf(TestKafka.broker().bootstrapServers(), t, format);
        c.set(InferenceOptions.MODEL_DIR, defaultModel().toString());
        return c;
    }

    /**
     * Settings for a topology that is only built, never run (nothing listens at the broker address), with the
     * default model: for tests of what the job graph gets.
     */
    static Configuration builtOnlyJobConf() {
        Configuration c = jobConf("localhost:9", new TestKafka.Topics("in", "out", "dead", "drift"), InputFormat.JSON);
        c.set(InferenceOptions.MODEL_DIR, defaultModel().toString());
        return c;
    }

    /** The job's settings for {@code t} on the broker at {@code bootstrap}; the model is left to the caller. */
    static Configuration jobConf(String bootstrap, TestKafka.Topics t, InputFormat format) {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
        c.set(KafkaOptions.INPUT_TOPIC, t.input());
        c.set(KafkaOptions.OUTPUT_TOPIC, t.output());
        c.set(KafkaOptions.DEAD_LETTER_TOPIC, t.deadLetters());
        c.set(KafkaOptions.DRIFT_TOPIC, t.drift());
        c.set(KafkaOptions.GROUP_ID, "group-" + t.input());
        c.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "tx-" + t.input());
        c.set(KafkaOptions.INPUT_FORMAT, format);
        c.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.AVRO);
        c.set(KafkaOptions.STARTING_OFFSETS, KafkaOptions.StartingOffsets.EARLIEST);
        c.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        c.set(JobOptions.PARALLELISM, 1);
        c.setString("restart-strategy.type", "fixed-delay");
        c.setString("restart-strategy.fixed-delay.attempts", "20");
        c.setString("restart-strategy.fixed-delay.delay", "500 ms");
        return c;
    }

    static JobClient start(Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        LabelstreamJob.build(env, conf);
        return env.executeAsync("labelstream-test");
    }

    static void cancel(JobClient job) {
        try {
            job.cancel().get();
        } catch (Exception e) {
            // already ended
        }
    }

    /** Outputs read back: classified events by input id, dead letters in order. */
    record Outputs(Map<String, List<ClassifiedEvent>> classified, List<DeadLetter> deadLetters,
            List<ConsumerRecord<byte[], byte[]>> records) {

        int count() {
            return classified.values().stream().mapToInt(List::size).sum() + deadLetters.size();
        }
    }

    static Outputs read(TestKafka.Topics t, int expected, Duration timeout) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(List.of(t.output(), t.deadLetters()), timeout,
                got -> got.size() >= expected);
        Map<String, List<ClassifiedEvent>> classified = new java.util.TreeMap<>();
        List<DeadLetter> dead = new java.util.ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            if (r.topic().equals(t.deadLetters())) {
                dead.add(DeadLetters.decode(r.value()));
            } else {
                ClassifiedEvent e = ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.AVRO);
                classified.computeIfAbsent(e.getInputId(), k -> new java.util.ArrayList<>()).add(e);
            }
        }
        return new Outputs(classified, dead, rs);
    }

    static byte[] avro(TextEvent e) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(TextEvent.class).write(e, enc);
        enc.flush();
        return out.toByteArray();
    }

    static TextEvent textEvent(String id, String text) {
        return TextEvent.newBuilder().setId(id).setText(text).setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
                .build();
    }

    static byte[] json(String id, String text) {
        return ("{\"id\":" + quote(id) + ",\"text\":" + quote(text) + "}").getBytes(StandardCharsets.UTF_8);
    }

    static String quote(String s) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
