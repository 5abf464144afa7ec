package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decision;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.policy.PolicyDecider;
import dev.labelstream.policy.PolicyDocument;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The async classify stage deciding a batch under the policy it was batched with (what {@link
 * PolicyClassifyFunction} hands it), on {@link ClassifyBatchFunctionTest}'s stand-in engine: each event names the
 * policy id, version, rule and threshold, the tenant comes from the input's attributes and the topic from its
 * source, and a policy's failure policy wins over classification.failure-policy.
 */
class PolicyDecisionsTest {
    /** spam blocks at 0.99 by default (the engine scores "win" 0.95: REVIEW from 0.5); acme blocks from 0.9. */
    static final String POLICY = "{\"id\":\"community\",\"version\":3,\"rules\":{\"spam\":{\"review\":0.5,"
            + "\"block\":0.99}},\"tenants\":{\"acme\":{\"spam\":{\"block\":0.9}}},"
            + "\"topics\":{\"chat\":{\"spam\":{\"review\":0.97}}}}";

    private ClassifyBatchFunction function;

    @AfterEach
    void close() throws Exception {
        if (function != null) {
            function.close();
        }
    }

    private ClassifyBatchFunction open(JobOptions.FailurePolicy failurePolicy, ClassifyBatchFunctionTest.Engine e) {
        function = new ClassifyBatchFunction(ClassifyBatchFunctionTest.conf(failurePolicy, 0),
                ClassifyBatchFunctionTest.MODEL, resolved -> Classifier.of(ClassifyBatchFunctionTest.MODEL,
                        ClassifyBatchFunctionTest.POLICY, "CPU", e));
        function.open(UnregisteredMetricsGroup.createOperatorMetricGroup(), 0);
        return function;
    }

    private static InputEvent input(String topic, long offset, String text, String tenant) {
        byte[] value = text.getBytes(StandardCharsets.UTF_8);
        return new InputEvent(new SourceRecord(topic, 0, offset, 1000L, null, value, List.of()), "id-" + offset, text,
                null, tenant == null ? null : Map.of("tenant", tenant), null);
    }

    private static List<ClassifiedEvent> run(ClassifyBatchFunction f, List<InputEvent> batch, PolicyDocument p)
            throws Exception {
        ClassifyBatchFunctionTest.Result r = new ClassifyBatchFunctionTest.Result();
        f.asyncInvoke(batch, PolicyDecider.of(p, "tenant"), r);
        return r.get().stream().map(ClassifyBatchFunctionTest::event).toList();
    }

    @Test
    void eachRecordIsDecidedByTheBatchPolicysApplicableRule() throws Exception {
        PolicyDocument policy = PolicyDocument.parse(POLICY);
        List<ClassifiedEvent> out = run(open(JobOptions.FailurePolicy.DEAD_LETTER,
                new ClassifyBatchFunctionTest.Engine(0, false)), List.of(
                input("in", 1, "win a cruise", null),
                input("in", 2, "win a cruise", "acme"),
                input("chat", 3, "win a cruise", null),
                input("in", 4, "lunch at noon?", "acme")), policy);

        assertThat(out).allSatisfy(e -> {
            assertThat(e.getPolicyId()).isEqualTo("community");
            assertThat(e.getPolicyVersion()).isEqualTo("3");
        });
        assertThat(out.get(0).getAction()).isEqualTo(ModerationAction.REVIEW);
        assertThat(out.get(0).getPolicyRule()).isEqualTo("DEFAULT");
        assertThat(out.get(0).getPolicyThreshold()).isEqualTo(0.5);
        assertThat(out.get(1).getAction()).isEqualTo(ModerationAction.BLOCK);
        assertThat(out.get(1).getPolicyRule()).isEqualTo("TENANT");
        assertThat(out.get(1).getPolicyRuleLabel()).isEqualTo("spam");
        assertThat(out.get(1).getPolicyThreshold()).isEqualTo(0.9);
        assertThat(out.get(1).getActionReason()).contains("tenant \"acme\" override");
        // The topic's rule for spam reviews only from 0.97: 0.95 is allowed there.
        assertThat(out.get(2).getAction()).isEqualTo(ModerationAction.ALLOW);
        assertThat(out.get(2).getPolicyRule()).isNull();
        assertThat(out.get(2).getPolicyThreshold()).isNull();
        assertThat(out.get(3).getAction()).isEqualTo(ModerationAction.ALLOW);
        // The policy is part of the decision id: the same record under the bundle's thresholds gets another.
        assertThat(out.get(0).getDecisionId()).isEqualTo(Decision.id("in/0/1", "fake", "1", "community/3"))
                .isNotEqualTo(Decision.id("in/0/1", "fake", "1", "p1"));
    }

    @Test
    void aPolicysFailurePolicyWinsOverTheOption() throws Exception {
        PolicyDocument closed = PolicyDocument.parse("{\"id\":\"community\",\"version\":4,\"rules\":{},"
                + "\"failure_policy\":\"fail_closed\"}");
        // Every call fails; the option says dead letters, the policy says FAIL_CLOSED (review, unclassified).
        List<ClassifiedEvent> out = run(open(JobOptions.FailurePolicy.DEAD_LETTER,
                new ClassifyBatchFunctionTest.Engine(Integer.MAX_VALUE, false)),
                List.of(input("in", 1, "win a cruise", null)), closed);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.getClassified()).isFalse();
            assertThat(e.getAction()).isEqualTo(ModerationAction.REVIEW);
            assertThat(e.getPolicyId()).isEqualTo("community");
            assertThat(e.getPolicyVersion()).isEqualTo("4");
            assertThat(e.getActionReason()).contains("FAIL_CLOSED");
        });
    }
}
