package dev.labelstream.job;

import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.DriftReports;
import dev.labelstream.drift.ReferenceProfile;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.avro.Report;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.Reports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift reports end to end: the real default model and its shipped reference profile (SpamAssassin train split),
 * the in-JVM broker, a MiniCluster. One stream in event-time windows of 10 s, each window one scenario: three
 * windows of e-mail like the reference, then a label shift, a length shift and a domain shift; each must trip
 * its own statistic. A second job, in processing-time windows and without a profile, builds its reference from
 * its first records and then catches a shift.
 */
class DriftEndToEndTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    static final long WINDOW = 10_000;
    static final String[] SCENARIOS = {"no shift 1", "no shift 2", "no shift 3", "label shift", "length shift",
        "domain shift"};

    /** The event-time job's reports by scenario. */
    static Map<String, DriftReport> byScenario = new TreeMap<>();

    record Timed(String key, byte[] value, long timestamp) {}

    @BeforeAll
    static void runTheEventTimeStream() throws Exception {
        List<DemoData.Message> all = DemoData.messages();
        List<DemoData.Message> ham = all.stream().filter(m -> m.label().equals("ham")).toList();
        List<DemoData.Message> spam = all.stream().filter(m -> m.label().equals("spam")).toList();
        List<List<Timed>> windows = new ArrayList<>();
        // 1-3: e-mail as in the reference: 70 ham + 30 spam each (the reference has 31% spam); one malformed
        // record in the first (a dead letter: 1%, below the 2% warn threshold)
        for (int w = 0; w < 3; w++) {
            List<Timed> in = emails(ham.subList(70 * w, 70 * w + 70), spam.subList(30 * w, 30 * w + 30), "", false);
            windows.add(in);
        }
        windows.get(0).add(50, new Timed("bad", "not json {".getBytes(StandardCharsets.UTF_8), 0));
        // 4: label shift: 80 spam + 20 ham, e-mail as before
        List<DemoData.Message> moreSpam = new ArrayList<>(spam.subList(90, 120));
        moreSpam.addAll(spam.subList(0, 50));
        windows.add(emails(ham.subList(210, 230), moreSpam, "#label", false));
        // 5: length shift: the same kind of e-mail, cut to its first 25 words
        windows.add(emails(ham.subList(0, 70), spam.subList(0, 30), "#short", true));
        // 6: domain shift: chat messages
        List<Timed> chat = new ArrayList<>();
        for (String t : DemoData.chatTexts(100, 11)) {
            chat.add(new Timed("chat-" + chat.size(), JobTestSupport.json("chat-" + chat.size(), t), 0));
        }
        windows.add(chat);
        // 7: a tail whose timestamps move the watermark past window 6 (its own window never closes)
        windows.add(emails(ham.subList(230, 240), List.of(), "#tail", false));

        long t0 = System.currentTimeMillis() / WINDOW * WINDOW - 20 * WINDOW;
        List<Timed> stream = new ArrayList<>();
        for (int w = 0; w < windows.size(); w++) {
            List<Timed> in = windows.get(w);
            for (int i = 0; i < in.size(); i++) {
                stream.add(new Timed(in.get(i).key(), in.get(i).value(), t0 + w * WINDOW + i * WINDOW / in.size()));
            }
        }
        TestKafka.Topics t = TestKafka.Topics.create(1);
        produce(t.input(), stream);

        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(DriftOptions.WINDOW_TIME, DriftOptions.WindowTime.EVENT);
        conf.set(DriftOptions.WINDOW, Duration.ofMillis(WINDOW));
        conf.set(DriftOptions.MAX_OUT_OF_ORDERNESS, Duration.ofSeconds(1));
        // In @BeforeAll the MiniClusterExtension has not registered its environment yet (it does so per test):
        // this job runs on a local cluster made from conf, which needs the in-JVM reporter itself.
        InProcessMetrics.configure(conf);
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(conf);
        List<DriftReport> reports;
        try {
            reports = readReports(t, SCENARIOS.length, Duration.ofMinutes(4));
            // every input came out (classified, or the one dead letter), counted once
            assertThat(JobTestSupport.read(t, stream.size(), Duration.ofSeconds(60)).count()).isEqualTo(stream.size());
            Counters.assertAddUp(job, stream.size());
        } finally {
            JobTestSupport.cancel(job);
        }
        for (DriftReport r : reports) {
            int w = (int) ((r.getWindowStart().toEpochMilli() - t0) / WINDOW);
            byScenario.put(SCENARIOS[w], r);
            System.out.println("[" + SCENARIOS[w] + "]\n" + DriftReports.render(r, "  "));
        }
    }

    static List<Timed> emails(List<DemoData.Message> ham, List<DemoData.Message> spam, String suffix, boolean cut) {
        List<Timed> out = new ArrayList<>();
        int n = ham.size() + spam.size();
        int h = 0;
        int s = 0;
        for (int i = 0; i < n; i++) {
            DemoData.Message m = s < spam.size() && (long) s * n <= (long) i * spam.size() ? spam.get(s++)
                    : ham.get(h++);
            String text = cut ? String.join(" ", Arrays.copyOf(m.text().split("\\s+"),
                    Math.min(25, m.text().split("\\s+").length))) : m.text();
            out.add(new Timed(m.id() + suffix, JobTestSupport.json(m.id() + suffix, text), 0));
        }
        return out;
    }

    /** Produces with explicit Kafka timestamps: the event time of the drift windows. */
    static void produce(String topic, List<Timed> records) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", TestKafka.broker().bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (Timed r : records) {
                producer.send(new ProducerRecord<>(topic, null, r.timestamp(),
                        r.key().getBytes(StandardCharsets.UTF_8), r.value()));
            }
            producer.flush();
        }
    }

    static List<DriftReport> readReports(TestKafka.Topics t, int n, Duration timeout) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(List.of(t.drift()), timeout,
                got -> got.size() >= n);
        List<DriftReport> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            // every record on the report topic is an envelope; the kind is also a header, for routing
            Report envelope = Reports.decode(r.value(), KafkaOptions.OutputFormat.AVRO);
            assertThat(envelope.getKind()).isEqualTo(Reports.DRIFT_REPORT);
            assertThat(new String(r.headers().lastHeader(Reports.KIND_HEADER).value(),
                    java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(Reports.DRIFT_REPORT);
            DriftReport d = DriftReports.of(envelope, KafkaOptions.OutputFormat.AVRO);
            assertThat(envelope.getTime()).isEqualTo(d.getWindowEnd());
            out.add(d);
        }
        out.sort(Comparator.comparing(DriftReport::getWindowStart));
        return out;
    }

    static DriftStatistic stat(DriftReport r, String name) {
        DriftStatistic s = DriftReports.statistic(r, name);
        assertThat(s).as("%s in %s", name, r).isNotNull();
        return s;
    }

    @Test
    void aStreamWithoutShiftStaysOkOverSeveralWindows() {
        assertThat(byScenario).containsKeys(SCENARIOS);
        for (String scenario : List.of("no shift 1", "no shift 2", "no shift 3")) {
            DriftReport r = byScenario.get(scenario);
            assertThat(r.getEvaluated()).isTrue();
            assertThat(r.getReference()).startsWith(ReferenceProfile.FILE_NAME);
            assertThat(r.getStatus()).as(DriftReports.render(r, "")).isEqualTo(DriftStatus.OK);
            assertThat(r.getClassified()).isEqualTo(100);
            assertThat(r.getStatistics()).extracting(DriftStatistic::getName).contains("label_psi",
                    "label_js_distance", "mean_confidence_drop", "low_confidence_share_increase", "token_length_psi",
                    "truncation_rate_increase", "unknown_token_rate_increase", "embedding_cosine_distance",
                    "embedding_mmd", "dead_letter_rate");
        }
        // the decoder's dead letter counts in its window
        DriftReport first = byScenario.get("no shift 1");
        assertThat(first.getDeadLetters()).isEqualTo(1);
        assertThat(stat(first, "dead_letter_rate").getValue()).isEqualTo(1 / 101.0);
    }

    @Test
    void aLabelShiftTripsTheLabelStatistics() {
        DriftReport r = byScenario.get("label shift");
        assertThat(r.getStatus()).isEqualTo(DriftStatus.ALERT);
        assertThat(r.getTripped().get(0)).as(DriftReports.render(r, "")).isEqualTo("label_psi");
        assertThat(stat(r, "label_psi").getStatus()).isEqualTo(DriftStatus.ALERT);
        assertThat(stat(r, "label_js_distance").getStatus()).isNotEqualTo(DriftStatus.OK);
        assertThat(stat(r, "token_length_psi").getStatus()).isNotEqualTo(DriftStatus.ALERT);
    }

    @Test
    void aLengthShiftTripsTokenLengthPsi() {
        DriftReport r = byScenario.get("length shift");
        assertThat(r.getTripped().get(0)).as(DriftReports.render(r, "")).isEqualTo("token_length_psi");
        DriftStatistic length = stat(r, "token_length_psi");
        assertThat(length.getStatus()).isEqualTo(DriftStatus.ALERT);
        assertThat(length.getObserved()).isLessThan(length.getExpected() / 3);
        // same kind of mail: the label mix does not move
        assertThat(stat(r, "label_psi").getStatus()).isEqualTo(DriftStatus.OK);
    }

    @Test
    void aDomainShiftTripsEmbeddingDrift() {
        DriftReport r = byScenario.get("domain shift");
        assertThat(stat(r, "embedding_cosine_distance").getStatus()).as(DriftReports.render(r, ""))
                .isEqualTo(DriftStatus.ALERT);
        assertThat(stat(r, "embedding_mmd").getStatus()).isEqualTo(DriftStatus.ALERT);
        // ... while e-mail of the reference's kind is far from it
        assertThat(stat(byScenario.get("no shift 1"), "embedding_cosine_distance").getValue())
                .isLessThan(stat(r, "embedding_cosine_distance").getValue() / 5);
    }

    @Test
    void withoutAProfileTheReferenceIsBuiltFromTheFirstRecordsInProcessingTime(@TempDir Path dir) throws Exception {
        // the default bundle without its reference profile
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(JobTestSupport.defaultModel())) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals(ReferenceProfile.FILE_NAME)) {
                    Files.copy(f, model.resolve(f.getFileName()));
                }
            }
        }
        List<DemoData.Message> messages = DemoData.messages();
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(InferenceOptions.MODEL_DIR, model.toString());
        conf.set(DriftOptions.WINDOW, Duration.ofSeconds(3));
        conf.set(DriftOptions.WARMUP_RECORDS, 150);
        conf.set(DriftOptions.MIN_WINDOW_RECORDS, 40);
        // short texts, so the model is quick: the subject lines of the sample's mail (30% spam)
        TestKafka.produce(t.input(), subjects(messages.subList(0, 200)));
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(conf);
        try {
            List<DriftReport> warm = until(t, rs -> rs.stream().anyMatch(r -> r.getReference().contains(
                    "reference built")));
            assertThat(warm).allSatisfy(r -> assertThat(r.getEvaluated()).isFalse());

            // more of the same: compared with the warm-up reference, no alert
            TestKafka.produce(t.input(), subjects(messages.subList(200, 400)));
            List<DriftReport> ok = until(t, rs -> rs.stream().anyMatch(r -> r.getEvaluated()));
            DriftReport evaluated = ok.stream().filter(DriftReport::getEvaluated).findFirst().orElseThrow();
            assertThat(evaluated.getReference()).startsWith("warm-up: the first");
            assertThat(evaluated.getStatus()).as(DriftReports.render(evaluated, "")).isNotEqualTo(DriftStatus.ALERT);

            // chat messages: the embeddings move away from the warm-up reference
            List<TestKafka.Input> chat = new ArrayList<>();
            for (String text : DemoData.chatTexts(200, 5)) {
                chat.add(TestKafka.Input.of("chat-" + chat.size(), JobTestSupport.json("chat-" + chat.size(), text)));
            }
            TestKafka.produce(t.input(), chat);
            List<DriftReport> shifted = until(t, rs -> rs.stream().anyMatch(r -> r.getStatus() == DriftStatus.ALERT));
            DriftReport alert = shifted.stream().filter(r -> r.getStatus() == DriftStatus.ALERT).findFirst()
                    .orElseThrow();
            assertThat(alert.getTripped()).contains("embedding_cosine_distance");

            int produced = 400 + chat.size();
            assertThat(JobTestSupport.read(t, produced, Duration.ofSeconds(60)).count()).isEqualTo(produced);
            Counters.assertAddUp(job, produced);
        } finally {
            JobTestSupport.cancel(job);
        }
    }

    static List<TestKafka.Input> subjects(List<DemoData.Message> messages) {
        List<TestKafka.Input> out = new ArrayList<>();
        for (DemoData.Message m : messages) {
            int nl = m.text().indexOf('\n');
            out.add(TestKafka.Input.of(m.id(), JobTestSupport.json(m.id(), nl < 0 ? m.text() : m.text().substring(0,
                    nl))));
        }
        return out;
    }

    static List<DriftReport> until(TestKafka.Topics t,
            java.util.function.Predicate<List<DriftReport>> done) throws Exception {
        List<DriftReport> out = new ArrayList<>();
        TestKafka.consumeUntil(List.of(t.drift()), Duration.ofMinutes(2), got -> {
            out.clear();
            for (ConsumerRecord<byte[], byte[]> r : got) {
                out.add(DriftReports.decode(r.value(), KafkaOptions.OutputFormat.AVRO));
            }
            return done.test(out);
        });
        assertThat(done.test(out)).as("drift reports %s", out).isTrue();
        return out;
    }
}
