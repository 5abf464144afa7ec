package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.job.JobTestSupport;
import dev.labelstream.job.TestKafka;
import dev.labelstream.moderation.PolicySettings;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.settings.JobOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code policy} part on the real job: one pair of runs, without and with a policy topic; both measured, and
 * every decision of the with-policy run names the published policy. Nothing asserts on time.
 */
class BenchPolicyTest {

    @Test
    void thePolicyIsTheModelsThresholdsAndFitsItsLabels() {
        ModelBundle bundle = ModelBundle.load(JobTestSupport.defaultModel());
        BenchPolicy.Document doc = BenchPolicy.fromThresholds(bundle, new Configuration());

        assertThat(doc.label()).isEqualTo(BenchPolicy.POLICY_ID + " v1");
        assertThat(doc.policy().isBuiltIn()).isFalse();
        // the published text is what the job parses
        assertThat(doc.json()).contains("\"description\"");
        PolicyDocument builtIn = PolicyDocument.builtIn(BenchPolicy.POLICY_ID,
                PolicySettings.bundlePolicy(bundle).thresholds(), "x");
        assertThat(doc.policy().rules()).isEqualTo(builtIn.rules()).isNotEmpty();
    }

    @Test
    void measuresThePipelineWithoutAndWithAPolicyTopicAndTheDecisionsNameThePolicy(@TempDir Path dir)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(InferenceOptions.MODEL_DIR, JobTestSupport.defaultModel().toString());
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        conf.set(JobOptions.PARALLELISM, 1);
        BenchCorpus corpus = new BenchCorpus("test", List.of(
                new BenchCorpus.Text("a", "WIN a FREE cruise, click now!", "spam"),
                new BenchCorpus.Text("b", "Lunch tomorrow? I can bring the slides for the review.", "ham"),
                new BenchCorpus.Text("c", "Your account statement for November is ready.", "ham")));
        StringWriter printed = new StringWriter();
        BenchContext ctx = new BenchContext(7, 3, 1, List.of(4), List.of(1), List.of(1), Duration.ZERO, 0.5, null,
                EnumSet.noneOf(BenchCommand.Part.class), Set.of(), new PrintWriter(printed, true), dir);
        BenchPolicy.Document doc = BenchPolicy.fromThresholds(ModelBundle.load(conf), conf);

        BenchPolicy.Measured m = BenchPolicy.run(ctx, TestKafka.broker(), conf, corpus, Set.of(), doc);

        assertThat(m.without()).hasSize(1);
        assertThat(m.with()).hasSize(1);
        for (BenchPipeline.Result r : List.of(m.without().get(0), m.with().get(0))) {
            assertThat(r.problem()).isNull();
            assertThat(r.deadLetters()).isZero();
            assertThat(r.warmup().classified()).isEqualTo(3);
            assertThat(r.measured().classified()).isEqualTo(7);
        }
        // the with-policy run is the policy chain: every decision names the published document
        assertThat(m.with().get(0).decidedBy()).containsOnlyKeys(doc.label());
        assertThat(m.decidedByPolicy()).isEqualTo(10).isEqualTo(m.classifiedWith());
        assertThat(m.real()).isTrue();
        // the run without a topic is the bundle's thresholds, naming no policy id
        assertThat(m.withoutNamingAPolicy()).isZero();
        assertThat(m.without().get(0).decidedBy().keySet()).allMatch(k -> k.startsWith("no policy id"));
        assertThat(printed.toString()).contains("10 of 10 decided by " + doc.label());

        ObjectNode json = BenchPolicy.json(m, "test options");
        assertThat(json.get("policy").asText()).isEqualTo(doc.label());
        assertThat(json.get("without_policy_topic").get("runs")).hasSize(1);
        assertThat(json.get("with_policy_topic").get("runs")).hasSize(1);
        assertThat(json.get("with_policy_topic").get("runs").get(0).get("decided_by").get(doc.label()).asInt())
                .isEqualTo(10);
        assertThat(json.has("ratio_committed")).isTrue();
        assertThat(json.has("problem")).isFalse();
    }

    @Test
    void policyIsAPartThatSkipLeavesOut() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--skip", "raw,policy");
        assertThat(b.skip).containsExactlyInAnyOrder(BenchCommand.Part.RAW, BenchCommand.Part.POLICY);
    }
}
