package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.InputFormat;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The real pipeline on the in-JVM broker and a MiniCluster with the real default model: every input comes out
 * once, classified as the model classifies it offline, with its key and headers; bad records go to dead
 * letters with their original bytes.
 */
class JobEndToEndTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    static final int N = 40;
    static List<DemoData.Message> messages;
    /** What the model says about each message when asked directly, by message id. */
    static Map<String, Classification> expected;
    static List<String> labels;

    @BeforeAll
    static void classifyOffline() throws Exception {
        messages = DemoData.messages().subList(0, N);
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(JobTestSupport.defaultModel()))) {
            labels = c.bundle().labels();
            List<Classification> r = c.classify(messages.stream().map(m -> TextInput.of(m.text())).toList()).results();
            expected = new HashMap<>();
            for (int i = 0; i < N; i++) {
                expected.put(messages.get(i).id(), r.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(InputFormat.class)
    void everyInputComesOutOnceWithTheModelsLabelKeyAndHeaders(InputFormat format) throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(2);
        List<TestKafka.Input> in = new ArrayList<>();
        for (DemoData.Message m : messages) {
            byte[] value = switch (format) {
                case AVRO -> JobTestSupport.avro(JobTestSupport.textEvent(m.id(), m.text()));
                case JSON -> JobTestSupport.json(m.id(), m.text());
                case RAW -> m.text().getBytes(StandardCharsets.UTF_8);
            };
            in.add(new TestKafka.Input(("key-" + m.id()).getBytes(StandardCharsets.UTF_8), value,
                    Map.of("trace-id", ("trace-" + m.id()).getBytes(StandardCharsets.UTF_8))));
        }
        TestKafka.produce(t.input(), in);
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(JobTestSupport.jobConf(t, format));
        JobTestSupport.Outputs out;
        try {
            out = JobTestSupport.read(t, N, Duration.ofSeconds(90));
            Counters.assertAddUp(job, N);
        } finally {
            JobTestSupport.cancel(job);
        }

        assertThat(out.deadLetters()).isEmpty();
        // RAW input has no id field: the key is the id.
        Map<String, String> idOf = messages.stream().collect(Collectors.toMap(
                m -> format == InputFormat.RAW ? "key-" + m.id() : m.id(), DemoData.Message::id));
        assertThat(out.classified()).hasSize(N).allSatisfy((id, events) -> assertThat(events).hasSize(1));
        for (Map.Entry<String, List<ClassifiedEvent>> e : out.classified().entrySet()) {
            ClassifiedEvent c = e.getValue().get(0);
            Classification offline = expected.get(idOf.get(e.getKey()));
            assertThat(offline).as("known input id %s", e.getKey()).isNotNull();
            assertThat(c.getTopLabel()).isEqualTo(labels.get(offline.top()));
            for (int l = 0; l < labels.size(); l++) {
                assertThat(c.getScores().get(l).getLabel()).isEqualTo(labels.get(l));
                assertThat((double) c.getScores().get(l).getScore()).isCloseTo(offline.scores()[l],
                        org.assertj.core.data.Offset.offset(1e-5));
            }
            assertThat(c.getAutomated()).isTrue();
            assertThat(c.getClassified()).isTrue();
            assertThat(c.getModelName()).isEqualTo("spam-minilm-l6");
            assertThat(c.getExecutionProvider()).isEqualTo("CPU");
            assertThat(c.getSource().getTopic()).isEqualTo(t.input());
        }
        for (ConsumerRecord<byte[], byte[]> r : out.records()) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            Header trace = r.headers().lastHeader("trace-id");
            assertThat(trace).isNotNull();
            assertThat(new String(trace.value(), StandardCharsets.UTF_8)).isEqualTo("trace-" + key.substring(4));
            assertThat(r.headers().lastHeader("labelstream.action")).isNotNull();
        }
        // decision ids are unique
        assertThat(out.classified().values().stream().map(l -> l.get(0).getDecisionId()).distinct()).hasSize(N);
    }

    @Test
    void badRecordsOfManyKindsGoToDeadLettersWithTheirBytesAndTheJobKeepsGoing() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        List<DemoData.Produced> bad = DemoData.malformed(64 * 1024);
        List<TestKafka.Input> in = new ArrayList<>();
        for (DemoData.Produced p : bad) {
            in.add(new TestKafka.Input(p.key(), p.value(), Map.of()));
        }
        // Good records before, between and after: the job keeps classifying.
        in.add(0, TestKafka.Input.of("good-1", JobTestSupport.json("good-1", messages.get(0).text())));
        in.add(7, TestKafka.Input.of("good-2", JobTestSupport.json("good-2", messages.get(1).text())));
        in.add(TestKafka.Input.of("good-3", JobTestSupport.json("good-3", messages.get(2).text())));
        TestKafka.produce(t.input(), in);
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(dev.labelstream.io.KafkaOptions.INPUT_MAX_BYTES, 64 * 1024);
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(conf);
        JobTestSupport.Outputs out;
        try {
            out = JobTestSupport.read(t, in.size(), Duration.ofSeconds(90));
            Counters.assertAddUp(job, in.size());
        } finally {
            JobTestSupport.cancel(job);
        }
        assertThat(out.classified()).containsOnlyKeys("good-1", "good-2", "good-3");
        assertThat(out.deadLetters()).hasSize(bad.size());
        for (int i = 0; i < bad.size(); i++) {
            DeadLetter d = out.deadLetters().get(i);
            DemoData.Produced p = bad.get(i);
            assertThat(d.getErrorKind()).as("record %d", i).isEqualTo(p.expectedErrorKind());
            assertThat(d.getErrorMessage()).isNotBlank();
            assertThat(d.getSourceTopic()).isEqualTo(t.input());
            byte[] original = d.getOriginalValue() == null ? null : toBytes(d.getOriginalValue());
            assertThat(original).isEqualTo(p.value());
        }
        assertThat(out.deadLetters().stream().map(DeadLetter::getErrorKind).distinct().count())
                .isGreaterThanOrEqualTo(7);
    }

    @Test
    void orderedModeKeepsTheInputOrderOfEachPartition() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            // Alternate long and short texts: unordered mode would let short batches overtake long ones.
            String text = i % 2 == 0 ? messages.get(i % N).text() : "short text " + i;
            in.add(TestKafka.Input.of("o-" + i, JobTestSupport.json("o-" + i, text)));
        }
        TestKafka.produce(t.input(), in);
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(JobOptions.ASYNC_ORDERED, true);
        conf.set(dev.labelstream.batching.BatchingOptions.MAX_RECORDS, 3);
        conf.set(JobOptions.ASYNC_THREADS, 3);
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(conf);
        JobTestSupport.Outputs out;
        try {
            out = JobTestSupport.read(t, in.size(), Duration.ofSeconds(90));
            Counters.assertAddUp(job, in.size());
        } finally {
            JobTestSupport.cancel(job);
        }
        List<Long> offsets = out.records().stream()
                .map(r -> dev.labelstream.io.ClassifiedEvents.decode(r.value(),
                        dev.labelstream.io.KafkaOptions.OutputFormat.AVRO).getSource().getOffset())
                .toList();
        assertThat(offsets).hasSize(in.size()).isSorted();
    }

    static byte[] toBytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
