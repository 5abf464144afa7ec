package dev.labelstream.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchPipeline.Plan;
import dev.labelstream.bench.BenchStats.Summary;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.PolicySettings;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.policy.PolicyTopic;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The {@code policy} part: what the live policy costs. The same pipeline twice, in one run and with the same
 * options: without a policy topic (one operator chain), and with one ({@code kafka.policy-topic}: the batcher is
 * the two-input broadcast operator, which starts a second chain, so every decoded record is serialized once into
 * it). The policy topic is a fresh compacted topic per run, carrying one valid document published before the job
 * starts: the model's own thresholds as policy {@value #POLICY_ID} v1, so both runs make the same decisions and
 * only the chain differs. The with-policy runs are checked to be decided by that document (each decision's
 * {@code policy_id} and {@code policy_version}), so the figure is the real chain's, not a fallback to the
 * bundle's thresholds.
 */
final class BenchPolicy {
    /** The id the bench publishes its policy under, and the with-policy job follows. */
    static final String POLICY_ID = "bench-policy";

    private BenchPolicy() {}

    /**
     * A policy document to publish: the parsed form and the exact JSON that goes on the topic.
     *
     * @param policy the document, checked against the model's labels
     * @param json the record value published (keyed by the id)
     */
    record Document(PolicyDocument policy, String json) {
        /** What the decisions under it name: "id vN" ({@link BenchPipeline#policyOf}). */
        String label() {
            return policy.toString();
        }
    }

    /** The runs of this part, interleaved in pairs (see {@link #run}). */
    record Measured(Document policy, List<BenchPipeline.Result> without, List<BenchPipeline.Result> with) {
        Summary withoutCommitted() {
            return BenchJson.committed(without);
        }

        Summary withCommitted() {
            return BenchJson.committed(with);
        }

        /** Committed throughput with the policy topic over without, medians. */
        double ratio() {
            return BenchStats.ratio(withCommitted().median(), withoutCommitted().median());
        }

        /** The same from the job's decision times. */
        double processedRatio() {
            return BenchStats.ratio(BenchJson.processed(with).median(), BenchJson.processed(without).median());
        }

        /** Classified records of the with-policy runs whose decision names the published policy. */
        int decidedByPolicy() {
            return with.stream().mapToInt(r -> r.decidedBy(policy.label())).sum();
        }

        /** Classified records of the with-policy runs. */
        int classifiedWith() {
            return with.stream().mapToInt(BenchPipeline.Result::classified).sum();
        }

        /** Classified records of the runs without a policy topic whose decision names any policy id (should be 0). */
        int withoutNamingAPolicy() {
            return without.stream().mapToInt(r -> r.decidedBy().entrySet().stream()
                    .filter(e -> !e.getKey().startsWith("no policy id")).mapToInt(Map.Entry::getValue).sum()).sum();
        }

        /** Whether every decision of the with-policy runs names the published policy. */
        boolean real() {
            return !with.isEmpty() && decidedByPolicy() == classifiedWith() && classifiedWith() > 0;
        }
    }

    /**
     * The model's thresholds as a published policy: {@value #POLICY_ID} version 1, one default rule per label the
     * thresholds name (the bundle's, or {@code moderation.thresholds}), parsed back and checked to fit the model's
     * labels as {@code labelstream policy validate} checks a file.
     */
    static Document fromThresholds(ModelBundle bundle, Configuration conf) {
        ModerationPolicy thresholds = PolicySettings.of(conf).policy(bundle);
        Map<String, PolicyDocument.Rule> rules = new LinkedHashMap<>();
        thresholds.thresholds().forEach((label, t) -> rules.put(label, PolicyDocument.Rule.of(t)));
        PolicyDocument doc = new PolicyDocument(POLICY_ID, 1, "1", rules, Map.of(), Map.of(), null);
        ObjectNode json;
        try {
            json = (ObjectNode) BenchReport.JSON.readTree(doc.toJson());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        json.put("description", "labelstream bench: the thresholds of " + bundle.name() + " ("
                + thresholds.version() + ") as a published policy");
        String text = json.toString();
        try {
            PolicyDocument parsed = PolicyDocument.parse(text);
            parsed.checkFits(bundle.labels());
            return new Document(parsed, text);
        } catch (PolicyRejectedException e) {
            throw new IllegalStateException("the bench's policy from the thresholds of " + bundle.name()
                    + " was rejected: " + e.getMessage() + ". This is a bug.", e);
        }
    }

    /** Creates {@code topic} compacted, one partition, as docs/policy.md says to create a policy topic. */
    static void createCompacted(EmbeddedKafka kafka, String topic) throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Publishes {@code doc} to {@code topic} keyed by its id, as {@code labelstream policy publish} does. */
    static void publish(EmbeddedKafka kafka, String topic, Document doc) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = BenchPipeline.producer(kafka, 0)) {
            producer.send(new ProducerRecord<>(topic, PolicyTopic.key(doc.policy()),
                    doc.json().getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * {@code ctx.repeat} pairs of pipeline runs with {@code conf}: without a policy topic and with one carrying
     * {@code doc}, alternating which of the pair goes first (so a trend over the run, a warming JIT or a neighbour's
     * load, does not favour one side).
     */
    static Measured run(BenchContext ctx, EmbeddedKafka kafka, Configuration conf, BenchCorpus corpus,
            Set<Long> broker, Document doc) throws Exception {
        List<BenchPipeline.Result> without = new ArrayList<>();
        List<BenchPipeline.Result> with = new ArrayList<>();
        for (int r = 1; r <= ctx.repeat; r++) {
            for (boolean policy : r % 2 == 1 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                if (policy) {
                    with.add(ctx.pipeline(kafka, conf, "policy-topic", r, corpus, Plan.throughput(ctx.warmup,
                            ctx.records), broker, BenchPipeline.Extras.policy(doc)));
                } else {
                    without.add(ctx.pipeline(kafka, conf, "no-policy-topic", r, corpus, Plan.throughput(ctx.warmup,
                            ctx.records), broker));
                }
            }
        }
        return new Measured(doc, without, with);
    }

    /** The part's report.json section. */
    static ObjectNode json(Measured m, String options) {
        ObjectNode j = BenchReport.JSON.createObjectNode();
        j.put("policy", m.policy().label());
        j.put("document", m.policy().json());
        j.put("options", options);
        j.set("without_policy_topic", BenchJson.pipelineJson(m.without(), options + "; no kafka.policy-topic"));
        j.set("with_policy_topic", BenchJson.pipelineJson(m.with(), options + "; kafka.policy-topic with "
                + m.policy().label()));
        BenchReport.put(j, "ratio_committed", m.ratio());
        BenchReport.put(j, "ratio_processed", m.processedRatio());
        j.put("with_classified", m.classifiedWith());
        j.put("with_decided_by_policy", m.decidedByPolicy());
        j.put("without_naming_a_policy", m.withoutNamingAPolicy());
        if (!m.real()) {
            j.put("problem", problem(m));
        }
        return j;
    }

    /** Why the with-policy figure is not the real chain's, for the table and the JSON. */
    static String problem(Measured m) {
        return "only " + m.decidedByPolicy() + " of " + m.classifiedWith() + " decisions of the with-policy runs"
                + " name " + m.policy().label() + ": the figure is not the policy chain's";
    }
}
