package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.job.JobTestSupport;
import dev.labelstream.job.TestKafka;
import dev.labelstream.settings.JobOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code shadow} part on the real job: one round, without a shadow and with the demo's candidate at sample rate
 * 1.0 and 0.1; every run measured, the shadow's decisions marked and linked to the primary's, its figures add up,
 * the candidate deleted after. Nothing asserts on time.
 */
class BenchShadowTest {

    @Test
    void measuresThePipelineWithoutAndWithAShadowAndCountsWhatTheShadowScored(@TempDir Path dir) throws Exception {
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

        BenchShadow.Measured m = BenchShadow.run(ctx, TestKafka.broker(), ModelBundle.load(conf), conf, corpus,
                Set.of());

        assertThat(m).isNotNull();
        assertThat(m.candidate()).endsWith("-few" + BenchShadow.CANDIDATE_MESSAGES);
        assertThat(m.dir()).doesNotExist();
        assertThat(m.without()).hasSize(1);
        assertThat(m.with().keySet()).containsExactly(1.0, 0.1);
        List<BenchPipeline.Result> all = List.of(m.without().get(0), m.with(1.0).get(0), m.with(0.1).get(0));
        for (BenchPipeline.Result r : all) {
            assertThat(r.problem()).isNull();
            assertThat(r.deadLetters()).isZero();
            assertThat(r.warmup().classified()).isEqualTo(3);
            assertThat(r.measured().classified()).isEqualTo(7);
            assertThat(r.markedShadow()).isZero();
        }
        assertThat(m.without().get(0).shadow()).isNull();
        for (double rate : BenchShadow.RATES) {
            BenchPipeline.ShadowFigures s = m.with(rate).get(0).shadow();
            assertThat(s.rate()).isEqualTo(rate);
            // every sampled record is accounted for, and every shadow decision is marked and names the primary's
            assertThat(s.drained()).isTrue();
            assertThat(s.compared() + s.shed() + s.failed()).isEqualTo(s.sampled());
            assertThat(s.scored()).isEqualTo(s.compared());
            assertThat(s.marked()).isEqualTo(s.compared());
            assertThat(s.linked()).isEqualTo(s.compared());
        }
        // at 1.0 every record is sampled, and the first batch always finds the shadow idle
        assertThat(m.with(1.0).get(0).shadow().sampled()).isEqualTo(10);
        assertThat(m.with(1.0).get(0).shadow().compared()).isPositive();
        assertThat(m.with(0.1).get(0).shadow().sampled()).isLessThanOrEqualTo(10);
        assertThat(m.problems()).isEmpty();
        assertThat(printed.toString()).contains("shadow 1.0: 10 sampled, ");

        ObjectNode json = BenchShadow.json(m, "test options");
        assertThat(json.get("candidate").asText()).isEqualTo(m.candidate());
        assertThat(json.get("without_shadow").get("runs")).hasSize(1);
        assertThat(json.get("with_shadow")).hasSize(2);
        for (JsonNode w : json.get("with_shadow")) {
            assertThat(w.has("ratio_committed")).isTrue();
            assertThat(w.has("ratio_processed")).isTrue();
            assertThat(w.get("runs")).hasSize(1);
            JsonNode s = w.get("runs").get(0).get("shadow");
            assertThat(s.get("compared").asLong() + s.get("shed").asLong() + s.get("failed").asLong())
                    .isEqualTo(s.get("sampled").asLong());
        }
        assertThat(json.get("with_shadow").get(0).get("sample_rate").asDouble()).isEqualTo(1.0);
        assertThat(json.has("problems")).isFalse();
    }

    @Test
    void aDifferentPrimaryCountOrAPrimaryDecisionMarkedShadowIsAProblem() {
        BenchPipeline.Result without = result("no-shadow-1", 10, 0, null);
        BenchPipeline.ShadowFigures figures = new BenchPipeline.ShadowFigures(1.0, 9, 9, 9, 9, 9, 0, 0, List.of(),
                true);
        BenchShadow.Measured ok = new BenchShadow.Measured("c@1-few16", Path.of("x"), "o", List.of(without),
                Map.of(1.0, List.of(result("with-shadow-1.0-2", 10, 0, figures))));
        assertThat(ok.problems()).isEmpty();

        BenchShadow.Measured bad = new BenchShadow.Measured("c@1-few16", Path.of("x"), "o", List.of(without),
                Map.of(1.0, List.of(result("with-shadow-1.0-2", 9, 1, figures))));
        assertThat(bad.problems()).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("9 primary outputs, 10 in no-shadow-1"))
                .anySatisfy(p -> assertThat(p).contains("1 primary decisions have shadow = true"));
        assertThat(BenchShadow.json(bad, "o").get("problems")).hasSize(2);
    }

    @Test
    void shadowIsAPartThatSkipLeavesOut() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--skip", "policy,shadow");
        assertThat(b.skip).containsExactlyInAnyOrder(BenchCommand.Part.POLICY, BenchCommand.Part.SHADOW);
    }

    /** A run with {@code measured} classified records out, none in the other phases. */
    private static BenchPipeline.Result result(String name, int measured, int markedShadow,
            BenchPipeline.ShadowFigures shadow) {
        BenchPipeline.Phase m = new BenchPipeline.Phase();
        for (int i = 0; i < measured; i++) {
            m.add(i, 0, i, "b");
        }
        return new BenchPipeline.Result(name, BenchPipeline.Plan.throughput(0, 10), new BenchPipeline.Phase(), m,
                new BenchPipeline.Phase(), 0, 0, 0, 0, BenchPipeline.JobMetrics.NONE, null, Map.of(), Map.of(),
                markedShadow, shadow);
    }
}
