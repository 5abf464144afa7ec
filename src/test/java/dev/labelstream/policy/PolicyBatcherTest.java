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
        var h = new TwoInputStreamOperatorTestHarness<>(
                new PolicyBatcher<String>(maxRecords, 1000, LINGER, r -> 1, ID, labels, fallback), 128, parallelism,
                subtask);
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
