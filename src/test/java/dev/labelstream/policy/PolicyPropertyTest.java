package dev.labelstream.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.Thresholds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * For random policies and scores, the action is what the applicable rule (tenant, topic or default, in that order)
 * gives for the strongest label, as {@link PolicyDocument}'s class comment says; with default rules alone it is
 * exactly {@link ModerationPolicy#decide}'s action and reason. A seeded loop, so a failure names its case.
 */
class PolicyPropertyTest {
    private static final long SEED = 20261214L;
    private static final int CASES = 4000;
    private static final List<String> TENANTS = List.of("acme", "globex", "initech");
    private static final List<String> TOPICS = List.of("chat", "mail", "forum");

    @Test
    void theActionIsTheApplicableRulesStrongestAction() throws Exception {
        Random random = new Random(SEED);
        for (int c = 0; c < CASES; c++) {
            List<String> labels = labels(random);
            PolicyDocument policy = randomPolicy(random, labels, c);
            // A round trip through JSON too: what the topic carries decides as what was built.
            PolicyDocument parsed = PolicyDocument.parse(policy.toJson());
            String tenant = random.nextInt(4) == 0 ? null : pick(random, TENANTS.size() + 1, TENANTS);
            String topic = random.nextInt(5) == 0 ? null : pick(random, TOPICS.size() + 1, TOPICS);
            float[] scores = scores(random, labels.size(), policy);
            String what = "case " + c + ": " + policy.toJson() + " tenant=" + tenant + " topic=" + topic
                    + " scores=" + java.util.Arrays.toString(scores);

            // The oracle, written from the documentation rather than from the implementation.
            ModerationAction expected = ModerationAction.ALLOW;
            int expectedLabel = -1;
            PolicyDecision.Source expectedSource = PolicyDecision.Source.NONE;
            for (int i = 0; i < labels.size(); i++) {
                PolicyDocument.Rule rule;
                PolicyDecision.Source source;
                String label = labels.get(i);
                if (tenant != null && policy.tenants().getOrDefault(tenant, Map.of()).containsKey(label)) {
                    rule = policy.tenants().get(tenant).get(label);
                    source = PolicyDecision.Source.TENANT;
                } else if (topic != null && policy.topics().getOrDefault(topic, Map.of()).containsKey(label)) {
                    rule = policy.topics().get(topic).get(label);
                    source = PolicyDecision.Source.TOPIC;
                } else if (policy.rules().containsKey(label)) {
                    rule = policy.rules().get(label);
                    source = PolicyDecision.Source.DEFAULT;
                } else {
                    continue; // labels without a rule never moderate
                }
                ModerationAction a = scores[i] >= rule.block() ? ModerationAction.BLOCK
                        : scores[i] >= rule.review() ? ModerationAction.REVIEW : ModerationAction.ALLOW;
                if (a.compareTo(expected) > 0) { // strictly stronger: the first label in model order wins a tie
                    expected = a;
                    expectedLabel = i;
                    expectedSource = source;
                }
            }
            for (PolicyDocument p : List.of(policy, parsed)) {
                PolicyDecision d = p.decide(scores, labels, tenant, topic);
                assertThat(d.action()).as(what).isEqualTo(expected);
                assertThat(d.source()).as(what).isEqualTo(expectedSource);
                assertThat(d.label()).as(what).isEqualTo(expectedLabel < 0 ? null : labels.get(expectedLabel));
                if (expectedLabel >= 0) {
                    PolicyDocument.Rule r = p.ruleFor(labels.get(expectedLabel), tenant, topic);
                    assertThat(d.threshold()).as(what)
                            .isEqualTo(expected == ModerationAction.BLOCK ? r.block() : r.review());
                    assertThat((double) scores[expectedLabel]).as(what).isGreaterThanOrEqualTo(d.threshold());
                }
                assertThat(d.policyVersion()).isEqualTo(Long.toString(policy.version()));
            }
        }
    }

    @Test
    void withDefaultRulesAloneItDecidesExactlyAsModerationPolicy() {
        Random random = new Random(SEED + 1);
        for (int c = 0; c < CASES; c++) {
            List<String> labels = labels(random);
            Map<String, Thresholds> thresholds = new LinkedHashMap<>();
            for (String label : labels) {
                if (random.nextInt(3) > 0) {
                    thresholds.put(label, thresholds(random));
                }
            }
            ModerationPolicy old = new ModerationPolicy(labels, thresholds, "v" + c);
            PolicyDocument builtIn = PolicyDocument.builtIn("builtin", thresholds, "v" + c);
            float[] scores = new float[labels.size()];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = random.nextInt(10) == 0 ? (float) thresholds.getOrDefault(labels.get(i),
                        Thresholds.NEVER).review() : random.nextFloat();
            }
            ModerationPolicy.Decision expected = old.decide(scores);
            PolicyDecision d = builtIn.decide(scores, labels, random.nextBoolean() ? "acme" : null, "chat");
            assertThat(d.action()).as("case %d", c).isEqualTo(expected.action());
            assertThat(d.reason()).as("case %d", c).isEqualTo(expected.reason());
            assertThat(d.policyVersion()).isEqualTo("v" + c);
        }
    }

    private static List<String> labels(Random random) {
        int n = 1 + random.nextInt(5);
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            labels.add("l" + i);
        }
        return labels;
    }

    private static PolicyDocument randomPolicy(Random random, List<String> labels, int c) {
        Map<String, PolicyDocument.Rule> rules = randomRules(random, labels, 2);
        Map<String, Map<String, PolicyDocument.Rule>> tenants = new LinkedHashMap<>();
        for (String t : TENANTS) {
            if (random.nextBoolean()) {
                tenants.put(t, randomRules(random, labels, 1));
            }
        }
        Map<String, Map<String, PolicyDocument.Rule>> topics = new LinkedHashMap<>();
        for (String t : TOPICS) {
            if (random.nextBoolean()) {
                topics.put(t, randomRules(random, labels, 1));
            }
        }
        return new PolicyDocument("p", 1 + c, Long.toString(1 + c), rules, tenants, topics, null);
    }

    /** Each label has a rule with probability (odds)/(odds + 1). */
    private static Map<String, PolicyDocument.Rule> randomRules(Random random, List<String> labels, int odds) {
        Map<String, PolicyDocument.Rule> rules = new LinkedHashMap<>();
        for (String label : labels) {
            if (random.nextInt(odds + 1) > 0) {
                rules.put(label, PolicyDocument.Rule.of(thresholds(random)));
            }
        }
        return rules;
    }

    /** Thresholds on a coarse grid (so scores land on them) and sometimes review only. */
    private static Thresholds thresholds(Random random) {
        double a = random.nextInt(21) / 20.0;
        double b = random.nextInt(21) / 20.0;
        if (random.nextInt(4) == 0) {
            return new Thresholds(Math.min(a, b), Thresholds.NEVER.block());
        }
        return new Thresholds(Math.min(a, b), Math.max(a, b));
    }

    /** Scores, a third of them exactly on a threshold of the policy (>= is the boundary that matters). */
    private static float[] scores(Random random, int n, PolicyDocument policy) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = random.nextInt(3) == 0 ? (float) (random.nextInt(21) / 20.0) : random.nextFloat();
        }
        return s;
    }

    private static String pick(Random random, int bound, List<String> names) {
        int i = random.nextInt(bound);
        return i < names.size() ? names.get(i) : "unknown-" + i;
    }
}
