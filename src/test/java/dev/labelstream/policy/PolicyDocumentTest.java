package dev.labelstream.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.moderation.Thresholds;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The document format, each rejection with its reason, and decisions on worked examples. */
class PolicyDocumentTest {
    static final List<String> LABELS = List.of("ham", "spam", "toxic");

    static final String EXAMPLE = """
            {
              "id": "community",
              "version": 3,
              "description": "stricter on spam for acme; chat is noisier",
              "rules": {"spam": {"review": 0.5, "block": 0.9}, "toxic": {"review": 0.6}},
              "tenants": {"acme": {"spam": {"review": 0.2, "block": 0.4}}},
              "topics": {"chat": {"spam": {"review": 0.8, "block": 0.95}, "toxic": {"block": 0.7}}},
              "failure_policy": "fail_closed"
            }""";

    @Test
    void parsesTheDocumentedExample() throws Exception {
        PolicyDocument p = PolicyDocument.parse(EXAMPLE);
        p.checkFits(LABELS);
        assertThat(p.id()).isEqualTo("community");
        assertThat(p.version()).isEqualTo(3);
        assertThat(p.versionName()).isEqualTo("3");
        assertThat(p.rules()).containsEntry("spam", new PolicyDocument.Rule(0.5, 0.9));
        assertThat(p.rules().get("toxic").blocks()).as("only review: never blocks").isFalse();
        assertThat(p.topics().get("chat")).containsEntry("toxic", new PolicyDocument.Rule(0.7, 0.7));
        assertThat(p.failurePolicy()).isEqualTo("FAIL_CLOSED");
        assertThat(PolicyDocument.parse(p.toJson())).as("toJson reads back").isEqualTo(p);
    }

    @Test
    void precedenceIsTenantThenTopicThenDefault() throws Exception {
        PolicyDocument p = PolicyDocument.parse(EXAMPLE);
        float[] s = {0.1f, 0.45f, 0.0f};
        PolicyDecision tenant = p.decide(s, LABELS, "acme", "chat");
        assertThat(tenant.action()).isEqualTo(ModerationAction.BLOCK);
        assertThat(tenant.source()).isEqualTo(PolicyDecision.Source.TENANT);
        assertThat(tenant.threshold()).isEqualTo(0.4);
        assertThat(tenant.reason()).isEqualTo("spam 0.450 >= block threshold 0.400 (tenant \"acme\" override)");
        assertThat(tenant.policyId()).isEqualTo("community");
        assertThat(tenant.policyVersion()).isEqualTo("3");

        float[] s2 = {0.1f, 0.85f, 0.0f};
        PolicyDecision topic = p.decide(s2, LABELS, "other", "chat");
        assertThat(topic.action()).isEqualTo(ModerationAction.REVIEW);
        assertThat(topic.source()).isEqualTo(PolicyDecision.Source.TOPIC);
        assertThat(topic.reason()).isEqualTo("spam 0.850 >= review threshold 0.800 (topic \"chat\" override)");

        PolicyDecision byDefault = p.decide(s2, LABELS, null, "events");
        assertThat(byDefault.action()).isEqualTo(ModerationAction.REVIEW);
        assertThat(byDefault.source()).isEqualTo(PolicyDecision.Source.DEFAULT);
        assertThat(byDefault.reason()).isEqualTo("spam 0.850 >= review threshold 0.500");

        PolicyDecision relaxed = p.decide(new float[] {0.9f, 0.6f, 0.1f}, LABELS, null, "chat");
        assertThat(relaxed.action()).as("an override may relax").isEqualTo(ModerationAction.ALLOW);
        assertThat(relaxed.label()).isNull();
        assertThat(relaxed.source()).isEqualTo(PolicyDecision.Source.NONE);
        assertThat(relaxed.reason()).isEqualTo("no label reached its review threshold");
    }

    @Test
    void builtInPolicyDecidesAsTheBundleThresholds() {
        Map<String, Thresholds> t = Map.of("spam", new Thresholds(0.5, 0.9));
        PolicyDocument p = PolicyDocument.builtIn("community", t, "bundle-7");
        assertThat(p.isBuiltIn()).isTrue();
        PolicyDecision d = p.decide(new float[] {0.05f, 0.95f, 0f}, LABELS, "acme", "chat");
        assertThat(d.action()).isEqualTo(ModerationAction.BLOCK);
        assertThat(d.policyVersion()).isEqualTo("bundle-7");
        assertThat(d.reason()).isEqualTo("spam 0.950 >= block threshold 0.900");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            not JSON                | {"id": "p", "version": 1,              | $: not JSON
            not an object           | [1, 2]                                 | $: a policy document is a JSON object
            no id                   | {"version": 1, "rules": {}}            | $.id: required
            bad id                  | {"id": "a b", "version": 1, "rules": {}} | $.id: "a b" is not a policy id
            no version              | {"id": "p", "rules": {}}               | $.version: required, a positive integer
            version zero            | {"id": "p", "version": 0, "rules": {}} | $.version: 0 is not a positive integer
            version text            | {"id": "p", "version": "2", "rules": {}} | $.version: required, a positive integer
            fractional version      | {"id": "p", "version": 1.5, "rules": {}} | $.version: required, a positive integer
            no rules                | {"id": "p", "version": 1}              | $.rules: required
            unknown field           | {"id": "p", "version": 1, "rules": {}, "rule": {}} | $.rule: unknown field
            threshold above 1       | {"id": "p", "version": 1, "rules": {"spam": {"review": 1.5}}} | $.rules.spam.review: 1.5 is outside [0, 1]
            negative threshold      | {"id": "p", "version": 1, "rules": {"spam": {"block": -0.1}}} | $.rules.spam.block: -0.1 is outside [0, 1]
            threshold not a number  | {"id": "p", "version": 1, "rules": {"spam": {"review": "high"}}} | $.rules.spam.review: a score in [0, 1]
            review above block      | {"id": "p", "version": 1, "rules": {"spam": {"review": 0.9, "block": 0.5}}} | $.rules.spam: review 0.9 is above block 0.5
            review above block in a tenant | {"id": "p", "version": 1, "rules": {}, "tenants": {"acme corp": {"spam": {"review": 0.9, "block": 0.5}}}} | $.tenants["acme corp"].spam: review 0.9 is above block 0.5
            empty rule              | {"id": "p", "version": 1, "rules": {"spam": {}}} | $.rules.spam: give "review" and/or "block"
            unknown rule field      | {"id": "p", "version": 1, "rules": {"spam": {"reveiw": 0.5}}} | $.rules.spam.reveiw: unknown field
            bad failure policy      | {"id": "p", "version": 1, "rules": {}, "failure_policy": "RETRY"} | $.failure_policy: "RETRY" is not one of
            topics not an object    | {"id": "p", "version": 1, "rules": {}, "topics": []} | $.topics: an object of topic
            """)
    void rejectsWithTheJsonPathAndTheReason(String what, String json, String reason) {
        assertThatThrownBy(() -> PolicyDocument.parse(json)).as(what)
                .isInstanceOf(PolicyRejectedException.class).hasMessageStartingWith(reason);
    }

    @Test
    void rejectsAnUnknownLabelWhereverItIsNamed() throws Exception {
        PolicyDocument p = PolicyDocument.parse("""
                {"id": "p", "version": 1, "rules": {"spam": {"review": 0.5}},
                 "topics": {"chat": {"scam": {"review": 0.5}}}}""");
        assertThatThrownBy(() -> p.checkFits(LABELS)).isInstanceOf(PolicyRejectedException.class)
                .hasMessage("$.topics.chat.scam: label \"scam\" is not one of the model's labels [ham, spam, toxic]");
    }

    @Test
    void theGateRejectsAWrongIdAnOlderVersionAndAMisfitAndIgnoresOtherKeys() throws Exception {
        PolicyGate gate = new PolicyGate("community", LABELS);
        PolicyDocument v3 = PolicyDocument.parse(EXAMPLE);
        byte[] key = "community".getBytes(StandardCharsets.UTF_8);

        assertThat(gate.offer(v3, key, doc("other", 9, "spam"))).isInstanceOfSatisfying(PolicyGate.Reject.class,
                r -> assertThat(r.reason()).startsWith("$.id: \"other\" was published under key \"community\""));
        assertThat(gate.offer(v3, null, doc("other", 9, "spam"))).as("unkeyed, another policy")
                .isInstanceOf(PolicyGate.Ignore.class);
        assertThat(gate.offer(v3, "other".getBytes(StandardCharsets.UTF_8), "{not json".getBytes(StandardCharsets.UTF_8)))
                .as("another key: another job's").isInstanceOf(PolicyGate.Ignore.class);
        assertThat(gate.offer(v3, key, doc("community", 2, "spam"))).isInstanceOfSatisfying(PolicyGate.Reject.class,
                r -> assertThat(r.reason()).isEqualTo("$.version: 2 is not newer than community v3 in force: publish"
                        + " the change with a version above 3"));
        assertThat(gate.offer(v3, key, doc("community", 3, "toxic"))).as("same version, other rules")
                .isInstanceOf(PolicyGate.Reject.class);
        assertThat(gate.offer(v3, key, EXAMPLE.getBytes(StandardCharsets.UTF_8))).as("a redelivery")
                .isInstanceOf(PolicyGate.Ignore.class);
        assertThat(gate.offer(v3, key, doc("community", 4, "scam"))).isInstanceOfSatisfying(PolicyGate.Reject.class,
                r -> assertThat(r.reason()).contains("label \"scam\" is not one of the model's labels"));
        assertThat(gate.offer(v3, key, (byte[]) null)).as("a tombstone keeps the policy")
                .isInstanceOf(PolicyGate.Ignore.class);
        assertThat(gate.offer(v3, key, doc("community", 4, "spam"))).isInstanceOf(PolicyGate.Accept.class);
    }

    static byte[] doc(String id, long version, String label) {
        return ("{\"id\": \"" + id + "\", \"version\": " + version + ", \"rules\": {\"" + label
                + "\": {\"review\": 0.5, \"block\": 0.9}}}").getBytes(StandardCharsets.UTF_8);
    }
}
