package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.LabelPair;
import dev.labelstream.avro.Report;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decision;
import dev.labelstream.demo.DemoData;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.Reports;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.shadow.ShadowOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A candidate model in the stream (shadow.model.dir), on real messages with the real encoder: the primary is the
 * default model, the shadow the same encoder with a head whose bias leans to spam, so the two disagree on a subset
 * of borderline messages. The agreement reports must say what classifying the same records offline with both
 * bundles says; a shadow that fails on every batch must leave the primary's output exactly as without a shadow.
 */
class ShadowJobTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    private static final int RECORDS = 60;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path shadowBundle;
    static List<DemoData.Message> messages;

    @BeforeAll
    static void candidate() throws Exception {
        shadowBundle = leaningBundle(tmp.resolve("candidate"), 2.5);
        messages = DemoData.messages().subList(0, RECORDS);
    }

    /**
     * The default bundle with another head: the spam logit's bias raised by {@code shift} (ham's lowered), and its
     * own version, the encoder shared by a link.
     */
    static Path leaningBundle(Path dir, double shift) throws Exception {
        Path primary = JobTestSupport.defaultModel();
        Files.createDirectories(dir);
        try (var files = Files.list(primary)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.equals("head.json") && !name.equals("labelstream.json")
                        && !name.equals("reference-profile.json")) {
                    Files.createSymbolicLink(dir.resolve(name), f.toAbsolutePath());
                }
            }
        }
        ObjectNode head = (ObjectNode) JSON.readTree(primary.resolve("head.json").toFile());
        ArrayNode bias = (ArrayNode) head.get("bias");
        int spam = 1;
        bias.set(spam, bias.get(spam).asDouble() + shift);
        bias.set(0, bias.get(0).asDouble() - shift);
        JSON.writeValue(dir.resolve("head.json").toFile(), head);
        ObjectNode meta = (ObjectNode) JSON.readTree(primary.resolve("labelstream.json").toFile());
        meta.put("version", meta.get("version").asText() + "-candidate");
        JSON.writeValue(dir.resolve("labelstream.json").toFile(), meta);
        return dir;
    }

    static String shadowTopic() throws Exception {
        String t = "shadow-" + UUID.randomUUID().toString().substring(0, 8);
        TestKafka.broker().createTopics(1, t);
        return t;
    }

    static Configuration conf(TestKafka.Topics t, String shadowTopic) throws Exception {
        Configuration c = JobTestSupport.jobConf(t, InputFormat.JSON);
        c.set(ShadowOptions.MODEL_DIR, shadowBundle.toString());
        c.set(KafkaOptions.SHADOW_TOPIC, shadowTopic);
        // Adaptive sampling off: the shadow may queue every batch, so it compares every record.
        c.set(ShadowOptions.MAX_IN_FLIGHT, 10_000);
        c.set(DriftOptions.WINDOW, Duration.ofSeconds(3));
        c.set(DriftOptions.WINDOW_TIME, DriftOptions.WindowTime.PROCESSING);
        return c;
    }

    static void produce(String topic) throws Exception {
        List<TestKafka.Input> in = new ArrayList<>();
        for (DemoData.Message m : messages) {
            DemoData.Produced p = DemoData.event(m, "");
            in.add(new TestKafka.Input(p.key(), p.value(), Map.of()));
        }
        TestKafka.produce(topic, in);
    }

    /** The agreement reports on the report topic until their compared + shed + failed records reach {@code n}. */
    static List<AgreementReport> agreementReports(String topic, int n) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> rs = TestKafka.consumeUntil(List.of(topic), Duration.ofSeconds(120),
                got -> reports(got).stream().mapToLong(AgreementReport::getSampled).sum() >= n);
        return reports(rs);
    }

    static List<AgreementReport> reports(List<ConsumerRecord<byte[], byte[]>> rs) {
        List<AgreementReport> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            Report e = Reports.decode(r.value(), KafkaOptions.OutputFormat.AVRO);
            if (Reports.AGREEMENT_REPORT.equals(e.getKind())) {
                out.add(Reports.body(e, AgreementReport.class, KafkaOptions.OutputFormat.AVRO));
            }
        }
        return out;
    }

    @Test
    void theAgreementReportSaysWhatClassifyingTheComparedRecordsOfflineSays() throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        String shadowTopic = shadowTopic();
        Configuration conf = conf(t, shadowTopic);
        produce(t.input());
        JobClient job = JobTestSupport.start(conf);
        List<AgreementReport> reports;
        JobTestSupport.Outputs primary;
        List<ClassifiedEvent> shadow = new ArrayList<>();
        try {
            primary = JobTestSupport.read(t, RECORDS, Duration.ofSeconds(120));
            reports = agreementReports(t.drift(), RECORDS);
            for (ConsumerRecord<byte[], byte[]> r : TestKafka.consumeUntil(List.of(shadowTopic),
                    Duration.ofSeconds(60), got -> got.size() >= RECORDS)) {
                shadow.add(ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.AVRO));
            }
            // The shadow's records are not the job's records: in and out count the primary's only.
            Counters.assertAddUp(job, RECORDS);
        } finally {
            JobTestSupport.cancel(job);
        }

        // Every record decided once by the primary, none of its events a shadow's.
        assertThat(primary.deadLetters()).isEmpty();
        assertThat(primary.classified()).hasSize(RECORDS);
        primary.classified().values().forEach(es -> assertThat(es).hasSize(1)
                .allSatisfy(e -> assertThat(e.getShadow()).isFalse()));
        // The shadow's decisions: one per record, marked, naming the primary decision they shadow.
        assertThat(shadow).hasSize(RECORDS).allSatisfy(e -> {
            assertThat(e.getShadow()).isTrue();
            assertThat(e.getModelVersion()).endsWith("-candidate");
            assertThat(e.getPrimaryDecisionId())
                    .isEqualTo(primary.classified().get(e.getInputId()).get(0).getDecisionId());
        });
        List<String> compared = shadow.stream().map(ClassifiedEvent::getInputId).sorted().toList();

        // Offline: both bundles through the classification core, on the ids the shadow compared.
        Map<String, String> textById = new HashMap<>();
        messages.forEach(m -> textById.put(m.id(), m.text()));
        Map<String, Long> confusion = new TreeMap<>();
        long agreed = 0;
        long actionsChanged = 0;
        try (Classifier p = Classifier.open(conf); Classifier s = Classifier.open(JobSettings.shadowConfiguration(conf))) {
            for (String id : compared) {
                Decision dp = p.classify(List.of(Classifier.Request.of(textById.get(id))), Duration.ofSeconds(30))
                        .decisions().get(0);
                Decision ds = s.classify(List.of(Classifier.Request.of(textById.get(id))), Duration.ofSeconds(30))
                        .decisions().get(0);
                confusion.merge(dp.topLabel() + ">" + ds.topLabel(), 1L, Long::sum);
                agreed += dp.topLabel().equals(ds.topLabel()) ? 1 : 0;
                actionsChanged += dp.action() != ds.action() ? 1 : 0;
            }
        }
        assertThat(agreed).as("the candidate disagrees on some messages, or the test shows nothing")
                .isLessThan(RECORDS).isGreaterThan(RECORDS / 2);

        long reportedCompared = reports.stream().mapToLong(AgreementReport::getCompared).sum();
        long reportedShed = reports.stream().mapToLong(AgreementReport::getShed).sum();
        long reportedFailed = reports.stream().mapToLong(AgreementReport::getFailed).sum();
        assertThat(reportedCompared).isEqualTo(compared.size());
        assertThat(reportedShed + reportedFailed).isZero();
        Map<String, Long> reportedConfusion = new TreeMap<>();
        long reportedAgreed = 0;
        for (AgreementReport r : reports) {
            for (LabelPair c : r.getConfusion()) {
                reportedConfusion.merge(c.getPrimary() + ">" + c.getShadow(), c.getCount(), Long::sum);
            }
            reportedAgreed += Math.round(r.getAgreement() * r.getCompared());
            assertThat(r.getPrimaryModelVersion()).isEqualTo("1.1.0");
            assertThat(r.getShadowModelVersion()).isEqualTo("1.1.0-candidate");
        }
        assertThat(reportedConfusion).isEqualTo(confusion);
        assertThat(reportedAgreed).isEqualTo(agreed);
        assertThat(reports.stream().mapToLong(AgreementReport::getActionsChanged).sum()).isEqualTo(actionsChanged);
        // The largest disagreements name ids the shadow compared, never text.
        reports.forEach(r -> r.getLargestDisagreements().forEach(d -> assertThat(compared).contains(d.getInputId())));
    }

    /** A shadow classifier that fails on every call. */
    static final class FailingShadow implements ClassifyBatchFunction.ClassifierFactory {
        private static final long serialVersionUID = 1L;

        @Override
        public Classifier open(Configuration conf) {
            try (Classifier real = Classifier.open(conf)) {
                return Classifier.of(real.model(), real.policy(), "CPU", (inputs, deadline) -> {
                    throw new ClassificationException("the shadow fails on purpose", null);
                });
            }
        }
    }

    @Test
    void aShadowThatFailsOnEveryBatchLeavesThePrimaryOutputAsWithoutAShadow() throws Exception {
        // Two jobs read one input topic: one without a shadow, one with a failing shadow; same offsets, same ids.
        TestKafka.Topics plain = TestKafka.Topics.create(1);
        String id = UUID.randomUUID().toString().substring(0, 8);
        TestKafka.Topics shadowed = new TestKafka.Topics(plain.input(), "out-s-" + id, "dlq-s-" + id, "drift-s-" + id);
        TestKafka.broker().createTopics(1, shadowed.output(), shadowed.deadLetters(), shadowed.drift());
        String shadowTopic = shadowTopic();
        produce(plain.input());

        Configuration without = JobTestSupport.jobConf(plain, InputFormat.JSON);
        JobClient a = JobTestSupport.start(without);
        JobTestSupport.Outputs expected;
        try {
            expected = JobTestSupport.read(plain, RECORDS, Duration.ofSeconds(120));
        } finally {
            JobTestSupport.cancel(a);
        }

        Configuration with = conf(shadowed, shadowTopic);
        with.set(KafkaOptions.GROUP_ID, "group-shadowed-" + id);
        with.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "tx-shadowed-" + id);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(with);
        LabelstreamJob.build(env, JobSettings.of(with), null, new FailingShadow());
        JobClient b = env.executeAsync("labelstream-failing-shadow");
        JobTestSupport.Outputs got;
        List<AgreementReport> reports;
        try {
            got = JobTestSupport.read(shadowed, RECORDS, Duration.ofSeconds(120));
            reports = agreementReports(shadowed.drift(), RECORDS);
            Counters.assertAddUp(b, RECORDS);
        } finally {
            JobTestSupport.cancel(b);
        }

        assertThat(decisions(got)).isEqualTo(decisions(expected)).hasSize(RECORDS);
        assertThat(got.deadLetters()).isEmpty();
        assertThat(reports.stream().mapToLong(AgreementReport::getFailed).sum()).isEqualTo(RECORDS);
        assertThat(reports.stream().mapToLong(AgreementReport::getCompared).sum()).isZero();
        assertThat(TestKafka.consumeUntil(List.of(shadowTopic), Duration.ofSeconds(3), r -> false)).isEmpty();
    }

    /** What the primary decided per input id: decision id, action, top label and scores. */
    static Map<String, String> decisions(JobTestSupport.Outputs o) {
        Map<String, String> out = new TreeMap<>();
        o.classified().forEach((id, es) -> {
            assertThat(es).hasSize(1);
            ClassifiedEvent e = es.get(0);
            out.put(id, e.getDecisionId() + " " + e.getAction() + " " + e.getTopLabel() + " " + e.getScores()
                    + " " + e.getModelVersion() + " " + e.getPolicyVersion());
        });
        return out;
    }
}
