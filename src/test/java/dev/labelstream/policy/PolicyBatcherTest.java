package dev.labelstream.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.io.SourceRecord;
import dev.labelstream.moderation.Thresholds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Drives {@link PolicyBatcher} through Flink's two-input operator test harness. */
@SuppressWarnings("try") // harnesses declare close() throws Exception
class PolicyBatcherTest {
    private static final List<String> LABELS = List.of("ham", "spam");
    private static final String ID = "community";
    private static final PolicyDocument BUILT_IN =
            PolicyDocument.builtIn(ID, Map.of("spam", new Thresholds(0.5, 0.9)), "default");
    private static final long LINGER = 20;

    @Test
    void aNewVersionDecidesTheRecordsBatchedAfterItAndABadOneKeepsTheOld() throws Exception {
        try (var h = harness(BUILT_IN, LABELS, 10)) {
            h.setProcessingTime(0);
            h.processElement1(new StreamRecord<>("a"));
            h.processElement1(new StreamRecord<>("b"));
            h.processElement2(policy(ID, 1)); // flushes a, b under the built-in policy
            h.processElement1(new StreamRecord<>("c"));
            h.processElement2(policy(ID, 2)); // c under v1
            h.processElement1(new StreamRecord<>("d"));
            h.processElement2(policy(ID, 1)); // older: rejected
            h.processElement2(raw(ID, "{\"id\": \"community\", \"version\": 5, \"rules\": {\"scam\": {\"review\": 0.1}}}"));
            h.processElement2(raw(ID, "{\"id\": \"community\", \"version\": 6, \"rules\": {\"spam\": {\"review\": 2}}}"));
            h.processElement2(raw(ID, "not json"));
            h.processElement2(raw("another-job", "not json either")); // not ours: ignored
            h.processElement2(new StreamRecord<>(record(ID, null))); // tombstone: ignored
            h.processElement1(new StreamRecord<>("e"));
            h.setProcessingTime(LINGER);

            List<PolicyBatch<String>> batches = batches(h);
            assertThat(batches).extracting(PolicyBatch::records)
                    .containsExactly(List.of("a", "b"), List.of("c"), List.of("d", "e"));
            assertThat(batches).extracting(b -> b.policy().versionName()).containsExactly("default", "1", "2");
            assertThat(inForce(h).version()).isEqualTo(2);

            List<PolicyEvent> events = events(h);
            assertThat(events).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.ACCEPTED,
                    PolicyEvent.Kind.ACCEPTED, PolicyEvent.Kind.REJECTED, PolicyEvent.Kind.REJECTED,
                    PolicyEvent.Kind.REJECTED, PolicyEvent.Kind.REJECTED);
            assertThat(events.get(2).reason()).startsWith("$.version: 1 is not newer than community v2");
            assertThat(events.get(3).reason()).contains("label \"scam\" is not one of the model's labels");
            assertThat(events.get(4).reason()).startsWith("$.rules.spam.review: 2 is outside [0, 1]");
            assertThat(events.get(4).version()).isEqualTo(6);
            assertThat(events.get(5).reason()).startsWith("$: not JSON");
            assertThat(events.get(5).policyId()).as("unparsed: named by its key").isEqualTo(ID);
        }
    }

    /** Random interleavings: per subtask the version of successive batches never decreases, and ends newest. */
    @Test
    void versionsNeverDecrease() throws Exception {
        Random random = new Random(7L);
        for (int iteration = 0; iteration < 50; iteration++) {
            try (var h = harness(BUILT_IN, LABELS, 1 + random.nextInt(4))) {
                long newestValid = 0;
                for (int step = 0; step < 200; step++) {
                    int action = random.nextInt(10);
                    if (action < 6) {
                        h.processElement1(new StreamRecord<>("r" + step));
                    } else if (action < 8) {
                        long v = 1 + random.nextInt(20);
                        boolean valid = random.nextInt(4) > 0;
                        h.processElement2(valid ? policy(ID, v) : raw(ID, "{\"id\": \"community\", \"version\": " + v
                                + ", \"rules\": {\"spam\": {\"review\": 0.9, \"block\": 0.1}}}"));
                        if (valid) {
                            newestValid = Math.max(newestValid, v);
                        }
                    } else {
                        h.prepareSnapshotPreBarrier(step);
                    }
                }
                h.getOperator().finish();
                long last = -1;
                for (PolicyBatch<String> b : batches(h)) {
                    assertThat(b.policy().version()).as("iteration %d", iteration).isGreaterThanOrEqualTo(last);
                    last = b.policy().version();
                }
                assertThat(inForce(h).version()).isEqualTo(newestValid);
            }
        }
    }

    @Test
    void theSnapshotKeepsThePolicyAcrossARestoreAndARescale() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness(BUILT_IN, LABELS, 1)) {
            h.processElement2(policy(ID, 4));
            h.processElement1(new StreamRecord<>("a"));
            h.prepareSnapshotPreBarrier(1);
            snapshot = h.snapshot(1, 1);
        }
        try (var restored = harness(BUILT_IN, LABELS, 1, snapshot)) {
            restored.processElement1(new StreamRecord<>("b"));
            restored.getOperator().finish();
            assertThat(batches(restored)).singleElement().satisfies(b -> {
                assertThat(b.records()).containsExactly("b");
                assertThat(b.policy().version()).as("the first record after the restore").isEqualTo(4);
            });
            assertThat(events(restored)).isEmpty();
        }
        for (int subtask = 0; subtask < 2; subtask++) {
            OperatorSubtaskState part = AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 128, 1, 2,
                    subtask);
            try (var rescaled = harness(BUILT_IN, LABELS, 1, part, 2, subtask)) {
                assertThat(inForce(rescaled).version()).as("subtask %d of 2", subtask).isEqualTo(4);
            }
        }
        PolicyDocument newer = PolicyDocument.parse(new String(policy(ID, 7).getValue().value(), StandardCharsets.UTF_8));
        try (var fresher = harness(newer, LABELS, 1, snapshot)) {
            assertThat(inForce(fresher).version()).as("a newer pre-flight policy wins").isEqualTo(7);
        }
        try (var otherModel = harness(PolicyDocument.builtIn(ID, Map.of(), "default"), List.of("ok", "toxic"), 1,
                snapshot)) {
            assertThat(inForce(otherModel).isBuiltIn()).as("a restored misfit falls back").isTrue();
            assertThat(events(otherModel)).singleElement().satisfies(e -> {
                assertThat(e.kind()).isEqualTo(PolicyEvent.Kind.REJECTED);
                assertThat(e.reason()).startsWith("restored from state: $.rules.spam: label \"spam\"");
            });
        }
    }

    @Test
    void onlyTheRecordsInputMovesEventTime() throws Exception {
        try (var h = harness(BUILT_IN, LABELS, 10)) {
            h.processElement1(new StreamRecord<>("a", 3));
            h.processWatermark2(new Watermark(100));
            h.processWatermark1(new Watermark(5));
            assertThat(new ArrayList<>(h.getOutput())).containsExactly(
                    new StreamRecord<>(new PolicyBatch<>(List.of("a"), BUILT_IN), 3), new Watermark(5));
        }
    }

    @Test
    void aBatchSerializesWithItsPolicyAndCopiesShareIt() throws Exception {
        TypeSerializer<PolicyBatch<String>> s =
                PolicyBatch.typeInfo(Types.STRING).createSerializer(new SerializerConfigImpl());
        PolicyDocument p = PolicyDocument.parse(PolicyDocumentTest.EXAMPLE);
        for (PolicyBatch<String> b : List.of(new PolicyBatch<>(List.of("a", "b"), p),
                new PolicyBatch<>(List.of("c"), BUILT_IN))) {
            DataOutputSerializer out = new DataOutputSerializer(256);
            s.serialize(b, out);
            PolicyBatch<String> back = s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(back).isEqualTo(b);
            assertThat(back.policy().versionName()).isEqualTo(b.policy().versionName());
            assertThat(s.copy(b).policy()).isSameAs(b.policy());
        }
    }

    @Test
    void aBatchSerializesWithItsModelDirOrWithout() throws Exception {
        TypeSerializer<PolicyBatch<String>> s =
                PolicyBatch.typeInfo(Types.STRING).createSerializer(new SerializerConfigImpl());
        PolicyDocument p = PolicyDocument.parse(PolicyDocumentTest.EXAMPLE);
        for (PolicyBatch<String> b : List.<PolicyBatch<String>>of(new PolicyBatch<>(List.of("a", "b"), p, "/models/spam-1.2.0"),
                new PolicyBatch<>(List.of("c"), BUILT_IN, "/m\u00e9/\"quoted\" dir"),
                new PolicyBatch<>(List.of("d"), BUILT_IN, null), new PolicyBatch<>(List.of(), p))) {
            DataOutputSerializer out = new DataOutputSerializer(256);
            s.serialize(b, out);
            PolicyBatch<String> back = s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(back).isEqualTo(b);
            assertThat(back.modelDir()).isEqualTo(b.modelDir());
            assertThat(s.copy(b)).isEqualTo(b);
            assertThat(s.copy(b).modelDir()).isEqualTo(b.modelDir());
            // and through a reusing copy of the stream, as the async operator's state does
            DataOutputSerializer copied = new DataOutputSerializer(256);
            s.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
            assertThat(s.deserialize(new DataInputDeserializer(copied.getCopyOfBuffer()))).isEqualTo(b);
        }
        assertThat(new PolicyBatch<>(List.of("a"), BUILT_IN).modelDir()).as("the configured model").isNull();
    }

    // ---------------------------------------------------------------------------------------------- promotions

    /** The configured model of the promotion tests; its bundle is "/ok/configured/v1". */
    private static final String CONFIGURED = "m@1";

    /**
     * A stand-in for the job's PromotionCheck: a bundle passes when its dir starts with one of {@code accepted}
     * and ends with "/v" + the version named (the version check), and a dir containing "needs-v3" only under a
     * policy of version 3 or more (the policy-fits check). The shadow is "/ok/shadow/v9". Names m@version.
     */
    record StandInCheck(List<String> accepted) implements PolicyBatcher.ModelCheck {
        private static final long serialVersionUID = 1L;

        StandInCheck(String... accepted) {
            this(List.of(accepted));
        }

        @Override
        public PolicyBatcher.Promoted check(ModelControl control, PolicyDocument inForce)
                throws PolicyRejectedException {
            String dir = control.shadow() ? "/ok/shadow/v9" : control.dir();
            String version = control.shadow() ? "9" : control.version();
            if (accepted.stream().noneMatch(dir::startsWith)) {
                throw new PolicyRejectedException(null, -1, "the bundle at " + dir + " fails its checks");
            }
            if (!dir.endsWith("/v" + version)) {
                throw new PolicyRejectedException(null, -1, "the bundle at " + dir + " is not version " + version);
            }
            if (dir.contains("needs-v3") && inForce.version() < 3) {
                throw new PolicyRejectedException(null, -1, "the policy in force (" + inForce + ") does not fit");
            }
            return new PolicyBatcher.Promoted(dir, "m@" + version);
        }
    }

    @Test
    void aPromotionFlushesAndEveryBatchAfterItCarriesItsDir() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement1(new StreamRecord<>("a"));
            h.processElement1(new StreamRecord<>("b"));
            h.processElement2(promote("/ok/a/v2", "2")); // flushes a, b for the configured model
            h.processElement1(new StreamRecord<>("c"));
            h.processElement1(new StreamRecord<>("d"));
            assertThat(model(h)).isEqualTo(new PolicyBatcher.Promoted("/ok/a/v2", "m@2"));
            h.processElement2(promote("/ok/b/v3", "3")); // c, d on v2
            h.processElement1(new StreamRecord<>("e"));
            h.processElement2(policy(ID, 1)); // a new policy: e flushes, the model stays
            h.processElement1(new StreamRecord<>("f"));
            h.getOperator().finish();

            List<PolicyBatch<String>> batches = batches(h);
            assertThat(batches).extracting(PolicyBatch::records).containsExactly(List.of("a", "b"),
                    List.of("c", "d"), List.of("e"), List.of("f"));
            assertThat(batches).extracting(PolicyBatch::modelDir).containsExactly(null, "/ok/a/v2", "/ok/b/v3",
                    "/ok/b/v3");
            assertThat(batches).extracting(b -> b.policy().versionName()).containsExactly("default", "default",
                    "default", "1");
            List<PolicyEvent> events = events(h);
            assertThat(events).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.MODEL_PROMOTED,
                    PolicyEvent.Kind.MODEL_PROMOTED, PolicyEvent.Kind.ACCEPTED);
            assertThat(events).extracting(PolicyEvent::model).containsExactly("m@2", "m@3", null);
            assertThat(events.get(0).reason()).isEqualTo("replaces " + CONFIGURED);
            assertThat(events.get(1).reason()).isEqualTo("replaces m@2");
            assertThat(events.get(0).policyId()).isEqualTo(ID);
            assertThat(events.get(0).version()).isEqualTo(-1);
        }
    }

    @Test
    void aRejectedPromotionNamesTheModelThatStaysAndChangesNothing() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement1(new StreamRecord<>("a"));
            h.processElement2(promote("/bad/v2", "2")); // fails its checks
            h.processElement2(promote("/ok/a/v2", "3")); // the bundle is not the version named
            h.processElement2(raw(ModelControl.key(ID), "not json"));
            h.processElement2(raw(ModelControl.key(ID), "{\"model.dir\": \"relative/v2\", \"version\": \"2\"}"));
            h.processElement2(new StreamRecord<>(record(ModelControl.key(ID), null))); // a tombstone
            h.processElement1(new StreamRecord<>("b"));
            assertThat(model(h)).isNull();
            h.processElement2(promote("/ok/a/v2", "2"));
            h.processElement1(new StreamRecord<>("c"));
            h.processElement2(promote("/bad/v3", "3"));
            h.processElement1(new StreamRecord<>("d"));
            h.getOperator().finish();

            assertThat(batches(h)).extracting(PolicyBatch::records).containsExactly(List.of("a", "b"),
                    List.of("c", "d"));
            assertThat(batches(h)).extracting(PolicyBatch::modelDir).containsExactly(null, "/ok/a/v2");
            List<PolicyEvent> events = events(h);
            assertThat(events).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.MODEL_REJECTED,
                    PolicyEvent.Kind.MODEL_REJECTED, PolicyEvent.Kind.MODEL_REJECTED, PolicyEvent.Kind.MODEL_REJECTED,
                    PolicyEvent.Kind.MODEL_REJECTED, PolicyEvent.Kind.MODEL_PROMOTED, PolicyEvent.Kind.MODEL_REJECTED);
            assertThat(events).extracting(PolicyEvent::model).as("the model that stays, then the new one")
                    .containsExactly(CONFIGURED, CONFIGURED, CONFIGURED, CONFIGURED, CONFIGURED, "m@2", "m@2");
            assertThat(events).extracting(PolicyEvent::reason).satisfiesExactly(
                    r -> assertThat(r).isEqualTo("the bundle at /bad/v2 fails its checks"),
                    r -> assertThat(r).isEqualTo("the bundle at /ok/a/v2 is not version 3"),
                    r -> assertThat(r).startsWith("a promotion must be a JSON object"),
                    r -> assertThat(r).startsWith("$.model.dir: 'relative/v2' is relative"),
                    r -> assertThat(r).isEqualTo("a tombstone promotes nothing"),
                    r -> assertThat(r).isEqualTo("replaces m@1"),
                    r -> assertThat(r).isEqualTo("the bundle at /bad/v3 fails its checks"));
            assertThat(events).allSatisfy(e -> assertThat(e.policyId()).isEqualTo(ID));
            assertThat(inForce(h)).as("a promotion never touches the policy").isEqualTo(BUILT_IN);
        }
    }

    @Test
    void theSamePromotionTwiceChangesNothingTheSecondTime() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement2(promote("/ok/a/v2", "2"));
            h.processElement1(new StreamRecord<>("a"));
            h.processElement2(promote("/ok/a/v2", "2")); // no flush, no event
            h.processElement1(new StreamRecord<>("b"));
            h.processElement2(promote("/ok/a/v2", "2"));
            h.getOperator().finish();
            assertThat(batches(h)).singleElement().satisfies(b -> {
                assertThat(b.records()).containsExactly("a", "b");
                assertThat(b.modelDir()).isEqualTo("/ok/a/v2");
            });
            assertThat(events(h)).singleElement().extracting(PolicyEvent::kind)
                    .isEqualTo(PolicyEvent.Kind.MODEL_PROMOTED);
        }
    }

    @Test
    void promotingTheConfiguredModelReturnsToIt() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement2(promote("/ok/configured/v1", "1")); // already in force: nothing
            h.processElement1(new StreamRecord<>("a"));
            h.processElement2(promote("/ok/a/v2", "2"));
            h.processElement1(new StreamRecord<>("b"));
            // Another directory, but the configured model's name@version: it is the configured model again.
            h.processElement2(promote("/ok/copy-of-configured/v1", "1"));
            assertThat(model(h)).isNull();
            h.processElement1(new StreamRecord<>("c"));
            h.processElement2(promote("/ok/configured/v1", "1")); // already in force again: nothing
            h.processElement1(new StreamRecord<>("d"));
            h.getOperator().finish();
            assertThat(batches(h)).extracting(PolicyBatch::records).containsExactly(List.of("a"), List.of("b"),
                    List.of("c", "d"));
            assertThat(batches(h)).extracting(PolicyBatch::modelDir).containsExactly(null, "/ok/a/v2", null);
            assertThat(events(h)).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.MODEL_PROMOTED,
                    PolicyEvent.Kind.MODEL_PROMOTED);
            assertThat(events(h).get(1).model()).isEqualTo(CONFIGURED);
            assertThat(events(h).get(1).reason()).isEqualTo("replaces m@2");
        }
    }

    @Test
    void theShadowFormIsCheckedLikeAnyOther() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement2(raw(ModelControl.key(ID), "{\"promote\": \"shadow\"}"));
            h.processElement1(new StreamRecord<>("a"));
            h.getOperator().finish();
            assertThat(batches(h)).singleElement().extracting(PolicyBatch::modelDir).isEqualTo("/ok/shadow/v9");
            assertThat(events(h)).singleElement().extracting(PolicyEvent::model).isEqualTo("m@9");
        }
        try (var h = promoting(new StandInCheck("/elsewhere"), 10, null)) {
            h.processElement2(raw(ModelControl.key(ID), "{\"promote\": \"shadow\"}"));
            assertThat(events(h)).singleElement().satisfies(e -> {
                assertThat(e.kind()).isEqualTo(PolicyEvent.Kind.MODEL_REJECTED);
                assertThat(e.model()).isEqualTo(CONFIGURED);
            });
        }
    }

    /** The check gets the policy in force when the promotion arrives, not the one the job started with. */
    @Test
    void thePromotionIsCheckedAgainstThePolicyInForce() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement2(promote("/ok/needs-v3/v2", "2"));
            h.processElement2(policy(ID, 3));
            h.processElement2(promote("/ok/needs-v3/v2", "2"));
            assertThat(events(h)).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.MODEL_REJECTED,
                    PolicyEvent.Kind.ACCEPTED, PolicyEvent.Kind.MODEL_PROMOTED);
            assertThat(events(h).get(0).reason()).contains("the policy in force (community (built-in default))");
            assertThat(model(h)).isEqualTo(new PolicyBatcher.Promoted("/ok/needs-v3/v2", "m@2"));
        }
    }

    @Test
    void promotionsForAnotherPolicyIdAreIgnored() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement1(new StreamRecord<>("a"));
            h.processElement2(promote("another-job", "/ok/a/v2", "2"));
            h.processElement2(raw("another-job/model", "not json"));
            h.processElement2(promote(ID + "/model/x", "/ok/a/v2", "2"));
            h.processElement2(promote("model", "/ok/a/v2", "2")); // key "model/model"
            h.processElement1(new StreamRecord<>("b"));
            h.getOperator().finish();
            assertThat(batches(h)).singleElement().satisfies(b -> {
                assertThat(b.records()).containsExactly("a", "b");
                assertThat(b.modelDir()).isNull();
            });
            assertThat(events(h)).isEmpty();
            assertThat(model(h)).isNull();
        }
    }

    /** Under the policy's own key a promotion is a policy document, and not a valid one; no model changes. */
    @Test
    void aPromotionPublishedUnderThePolicyKeyIsARejectedPolicy() throws Exception {
        try (var h = promoting(new StandInCheck("/ok"), 10, null)) {
            h.processElement2(raw(ID, new String(new ModelControl("/ok/a/v2", "2").toJson(), StandardCharsets.UTF_8)));
            assertThat(events(h)).singleElement().extracting(PolicyEvent::kind).isEqualTo(PolicyEvent.Kind.REJECTED);
            assertThat(model(h)).isNull();
        }
    }

    /**
     * The old constructor takes no promotions: a promotion record is ignored (no event, no flush), and it is not
     * read as a policy document either, even when its value is a valid, newer one.
     */
    @Test
    void withoutAModelCheckPromotionsAreIgnored() throws Exception {
        try (var h = harness(BUILT_IN, LABELS, 10)) {
            h.processElement1(new StreamRecord<>("a"));
            h.processElement2(promote("/ok/a/v2", "2"));
            h.processElement2(raw(ModelControl.key(ID), "{\"promote\": \"shadow\"}"));
            h.processElement2(raw(ModelControl.key(ID), "not json"));
            h.processElement2(new StreamRecord<>(record(ModelControl.key(ID),
                    policy(ID, 5).getValue().value()))); // a valid v5 document under the promotion key
            h.processElement1(new StreamRecord<>("b"));
            h.getOperator().finish();
            assertThat(batches(h)).singleElement().satisfies(b -> {
                assertThat(b.records()).containsExactly("a", "b");
                assertThat(b.modelDir()).isNull();
                assertThat(b.policy()).isEqualTo(BUILT_IN);
            });
            assertThat(events(h)).isEmpty();
            assertThat(inForce(h)).isEqualTo(BUILT_IN);
        }
    }

    @Test
    void aRestoreResumesWithThePromotedModelOrFallsBackWhenItNoLongerPasses() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = promoting(new StandInCheck("/ok"), 1, null)) {
            h.processElement2(policy(ID, 3));
            h.processElement2(promote("/ok/needs-v3/v2", "2")); // passes only under the policy v3 in force
            h.processElement1(new StreamRecord<>("a"));
            h.prepareSnapshotPreBarrier(1);
            snapshot = h.snapshot(1, 1);
        }
        // The restored policy is in force before the restored model is checked again.
        try (var restored = promoting(new StandInCheck("/ok"), 1, snapshot)) {
            assertThat(model(restored)).isEqualTo(new PolicyBatcher.Promoted("/ok/needs-v3/v2", "m@2"));
            restored.processElement1(new StreamRecord<>("b"));
            restored.getOperator().finish();
            assertThat(batches(restored)).singleElement().satisfies(b -> {
                assertThat(b.records()).containsExactly("b");
                assertThat(b.modelDir()).as("the first record after the restore").isEqualTo("/ok/needs-v3/v2");
                assertThat(b.policy().version()).isEqualTo(3);
            });
            assertThat(events(restored)).isEmpty();
            // and its snapshot keeps it (open() wrote it back)
            OperatorSubtaskState again = restored.snapshot(2, 2);
            try (var twice = promoting(new StandInCheck("/ok"), 1, again)) {
                assertThat(model(twice)).isEqualTo(new PolicyBatcher.Promoted("/ok/needs-v3/v2", "m@2"));
            }
        }
        for (int subtask = 0; subtask < 2; subtask++) {
            OperatorSubtaskState part = AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 128, 1, 2,
                    subtask);
            try (var rescaled = harness(promotingOperator(new StandInCheck("/ok"), 1), part, 2, subtask)) {
                assertThat(model(rescaled)).as("subtask %d of 2", subtask)
                        .isEqualTo(new PolicyBatcher.Promoted("/ok/needs-v3/v2", "m@2"));
            }
        }
        // The bundle no longer passes (e.g. gone from the shared storage): the configured model decides.
        try (var gone = promoting(new StandInCheck("/elsewhere"), 1, snapshot)) {
            assertThat(model(gone)).isNull();
            gone.processElement1(new StreamRecord<>("c"));
            assertThat(batches(gone)).singleElement().extracting(PolicyBatch::modelDir).isNull();
            assertThat(events(gone)).singleElement().satisfies(e -> {
                assertThat(e.kind()).isEqualTo(PolicyEvent.Kind.MODEL_REJECTED);
                assertThat(e.policyId()).isEqualTo(ID);
                assertThat(e.reason()).startsWith("restored from state: ").contains("m@2")
                        .contains("the bundle at /ok/needs-v3/v2 fails its checks");
                assertThat(e.model()).as("the model that stays in force").isEqualTo(CONFIGURED);
            });
            OperatorSubtaskState after = gone.snapshot(2, 2);
            try (var next = promoting(new StandInCheck("/ok"), 1, after)) {
                assertThat(model(next)).as("the fallback was checkpointed").isNull();
                assertThat(events(next)).isEmpty();
            }
        }
        // A pre-flight policy the restored model does not fit under: the re-check sees the policy in force.
        try (var misfit = harness(new PolicyBatcher<String>(1, 1000, LINGER, r -> 1, ID, List.of("ok", "toxic"),
                PolicyDocument.builtIn(ID, Map.of(), "default"), new StandInCheck("/ok"), CONFIGURED), snapshot, 1,
                0)) {
            assertThat(model(misfit)).isNull();
            assertThat(events(misfit)).extracting(PolicyEvent::kind).containsExactly(PolicyEvent.Kind.REJECTED,
                    PolicyEvent.Kind.MODEL_REJECTED);
        }
        // Without a ModelCheck the job takes no promotions, restored ones included.
        try (var old = harness(BUILT_IN, LABELS, 1, snapshot)) {
            old.processElement1(new StreamRecord<>("d"));
            assertThat(batches(old)).singleElement().extracting(PolicyBatch::modelDir).isNull();
            assertThat(events(old)).isEmpty();
        }
    }

    /** A redeploy whose configured model is the promoted one (same name@version) runs it as the configured one. */
    @Test
    void aRestoreOfThePromotedModelAsTheConfiguredOneIsTheConfiguredModel() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = promoting(new StandInCheck("/ok"), 1, null)) {
            h.processElement2(promote("/ok/a/v2", "2"));
            snapshot = h.snapshot(1, 1);
        }
        try (var redeployed = harness(new PolicyBatcher<String>(1, 1000, LINGER, r -> 1, ID, LABELS, BUILT_IN,
                new StandInCheck("/ok"), "m@2"), snapshot, 1, 0)) {
            assertThat(model(redeployed)).isNull();
            redeployed.processElement1(new StreamRecord<>("a"));
            assertThat(batches(redeployed)).singleElement().extracting(PolicyBatch::modelDir).isNull();
            assertThat(events(redeployed)).isEmpty();
        }
    }

    @Test
    void aPromotionBackToTheConfiguredModelClearsTheState() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = promoting(new StandInCheck("/ok"), 1, null)) {
            h.processElement2(promote("/ok/a/v2", "2"));
            h.processElement2(promote("/ok/configured/v1", "1"));
            snapshot = h.snapshot(1, 1);
        }
        try (var restored = promoting(new StandInCheck("/ok"), 1, snapshot)) {
            assertThat(model(restored)).isNull();
            assertThat(events(restored)).isEmpty();
        }
    }

    /**
     * Random interleavings of records, promotions (passing, failing, repeated, back to the configured model),
     * policies and barriers: every batch's records were all added while its model was in force (no batch mixes
     * two), MODEL_PROMOTED is emitted once per change and MODEL_REJECTED once per failing promotion, each naming
     * the model that an oracle written from the documentation has in force.
     */
    @Test
    void everyRecordIsClassifiedByTheModelInForceWhenItWasBatched() throws Exception {
        Random random = new Random(11L);
        String[] dirs = {"/ok/a/v2", "/ok/b/v3", "/ok/configured/v1", "/bad/v4", "/ok/a/v5"};
        for (int iteration = 0; iteration < 40; iteration++) {
            try (var h = promoting(new StandInCheck("/ok"), 1 + random.nextInt(5), null)) {
                Map<String, String> expectedDir = new java.util.HashMap<>();
                List<PolicyEvent.Kind> expectedKinds = new ArrayList<>();
                List<String> expectedModels = new ArrayList<>();
                String dir = null;
                String name = CONFIGURED;
                long policyVersion = 0;
                for (int step = 0; step < 150; step++) {
                    int action = random.nextInt(10);
                    if (action < 6) {
                        h.processElement1(new StreamRecord<>("r" + step));
                        expectedDir.put("r" + step, dir);
                    } else if (action < 8) {
                        String d = dirs[random.nextInt(dirs.length)];
                        String v = d.substring(d.lastIndexOf("/v") + 2);
                        if (random.nextInt(5) == 0) {
                            v = v + "x"; // not the bundle's version
                        }
                        h.processElement2(promote(d, v));
                        boolean passes = d.startsWith("/ok") && d.endsWith("/v" + v);
                        if (!passes) {
                            expectedKinds.add(PolicyEvent.Kind.MODEL_REJECTED);
                            expectedModels.add(name);
                        } else {
                            String nextName = "m@" + v;
                            String nextDir = nextName.equals(CONFIGURED) ? null : d;
                            if (!java.util.Objects.equals(nextDir, dir) || !nextName.equals(name)) {
                                dir = nextDir;
                                name = nextName;
                                expectedKinds.add(PolicyEvent.Kind.MODEL_PROMOTED);
                                expectedModels.add(name);
                            }
                        }
                    } else if (action < 9) {
                        policyVersion++;
                        h.processElement2(policy(ID, policyVersion));
                        expectedKinds.add(PolicyEvent.Kind.ACCEPTED);
                        expectedModels.add(null);
                    } else {
                        h.prepareSnapshotPreBarrier(step);
                    }
                }
                h.getOperator().finish();
                int records = 0;
                for (PolicyBatch<String> b : batches(h)) {
                    for (String r : b.records()) {
                        assertThat(b.modelDir()).as("iteration %d, record %s in %s", iteration, r, b.records())
                                .isEqualTo(expectedDir.get(r));
                        records++;
                    }
                }
                assertThat(records).isEqualTo(expectedDir.size());
                assertThat(events(h)).extracting(PolicyEvent::kind).as("iteration %d", iteration)
                        .isEqualTo(expectedKinds);
                assertThat(events(h)).extracting(PolicyEvent::model).as("iteration %d", iteration)
                        .isEqualTo(expectedModels);
                assertThat(model(h) == null ? null : model(h).dir()).isEqualTo(dir);
            }
        }
    }

    private static PolicyBatcher<String> promotingOperator(PolicyBatcher.ModelCheck check, int maxRecords) {
        return new PolicyBatcher<>(maxRecords, 1000, LINGER, r -> 1, ID, LABELS, BUILT_IN, check, CONFIGURED);
    }

    private static TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> promoting(
            PolicyBatcher.ModelCheck check, int maxRecords, OperatorSubtaskState state) throws Exception {
        return harness(promotingOperator(check, maxRecords), state, 1, 0);
    }

    @SuppressWarnings("unchecked")
    private static PolicyBatcher.Promoted model(
            TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> h) {
        return ((PolicyBatcher<String>) h.getOperator()).model();
    }

    private static StreamRecord<SourceRecord> promote(String dir, String version) {
        return promote(ID, dir, version);
    }

    private static StreamRecord<SourceRecord> promote(String policyId, String dir, String version) {
        return new StreamRecord<>(record(ModelControl.key(policyId), new ModelControl(dir, version).toJson()));
    }

    private static TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> harness(
            PolicyDocument fallback, List<String> labels, int maxRecords) throws Exception {
        return harness(fallback, labels, maxRecords, null);
    }

    private static TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> harness(
            PolicyDocument fallback, List<String> labels, int maxRecords, OperatorSubtaskState state) throws Exception {
        return harness(fallback, labels, maxRecords, state, 1, 0);
    }

    private static TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> harness(
            PolicyDocument fallback, List<String> labels, int maxRecords, OperatorSubtaskState state,
            int parallelism, int subtask) throws Exception {
        return harness(new PolicyBatcher<String>(maxRecords, 1000, LINGER, r -> 1, ID, labels, fallback), state,
                parallelism, subtask);
    }

    private static TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> harness(
            PolicyBatcher<String> op, OperatorSubtaskState state, int parallelism, int subtask) throws Exception {
        var h = new TwoInputStreamOperatorTestHarness<>(op, 128, parallelism, subtask);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    @SuppressWarnings("unchecked")
    private static PolicyDocument inForce(
            TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> h) {
        return ((PolicyBatcher<String>) h.getOperator()).inForce();
    }

    @SuppressWarnings("unchecked")
    private static List<PolicyBatch<String>> batches(
            TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> h) {
        return h.extractOutputValues();
    }

    private static List<PolicyEvent> events(
            TwoInputStreamOperatorTestHarness<String, SourceRecord, PolicyBatch<String>> h) {
        var out = h.getSideOutput(PolicyBatcher.EVENTS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    private static StreamRecord<SourceRecord> policy(String id, long version) {
        return raw(id, "{\"id\": \"" + id + "\", \"version\": " + version + ", \"rules\": {\"spam\": {\"review\": "
                + (0.5 - version / 100.0) + ", \"block\": 0.9}}}");
    }

    private static StreamRecord<SourceRecord> raw(String key, String json) {
        return new StreamRecord<>(record(key, json.getBytes(StandardCharsets.UTF_8)));
    }

    private static long offset;

    private static SourceRecord record(String key, byte[] value) {
        return new SourceRecord("policies", 0, offset++, 0L, key.getBytes(StandardCharsets.UTF_8), value, List.of());
    }
}
