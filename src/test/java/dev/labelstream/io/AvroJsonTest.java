package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.classify.Decision;
import dev.labelstream.inference.Classification;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AvroJsonTest {
    static ClassifiedEvent event(String topLabel, Map<String, String> attributes) {
        InputEvent in = new InputEvent(new SourceRecord("t", 1, 9, 1000L, null, new byte[0], List.of()), "id-1", "x",
                null, attributes, attributes == null ? null : 500L);
        Classification c = new Classification(new float[] {0.25f, 0.75f}, 1, false, 12, 0, 1, null, "CPU");
        Decision d = topLabel != null
                ? new Decision(Decision.id(ClassifiedEvents.decisionKey(in.source()), "m", "1", "p1"), "t/1/9",
                        List.of("ham", "spam"), c, ModerationAction.REVIEW, "spam 0.750 >= review threshold 0.500",
                        "spam", 0.5, "m", "1", "p1", "CPU", null)
                : new Decision(Decision.id(ClassifiedEvents.decisionKey(in.source()), "m", "1", "p1"), "t/1/9",
                        List.of("ham", "spam"), null, ModerationAction.REVIEW, "unclassified", null, null, "m", "1",
                        "p1", "CPU", "INFERENCE_FAILED");
        return ClassifiedEvents.build(in, d, 3.5f, 2000L);
    }

    @Test
    void writesPlainJsonWithoutUnionWrappersAndReadsItBack() throws Exception {
        ClassifiedEvent e = event("spam", Map.of("source", "web"));
        byte[] json = AvroJson.write(e);
        JsonNode n = new ObjectMapper().readTree(json);
        assertThat(n.get("top_label").asText()).isEqualTo("spam");
        assertThat(n.get("event_time").asLong()).isEqualTo(500L);
        assertThat(n.get("action").asText()).isEqualTo("REVIEW");
        assertThat(n.get("attributes").get("source").asText()).isEqualTo("web");
        assertThat(n.get("scores").get(1).get("score").floatValue()).isEqualTo(0.75f);
        assertThat(AvroJson.read(json, ClassifiedEvent.class)).isEqualTo(e);
    }

    @Test
    void nullsRoundTrip() {
        ClassifiedEvent e = event(null, null);
        assertThat(AvroJson.read(AvroJson.write(e), ClassifiedEvent.class)).isEqualTo(e);
        assertThat(ClassifiedEvents.decode(ClassifiedEvents.encode(e, KafkaOptions.OutputFormat.AVRO),
                KafkaOptions.OutputFormat.AVRO)).isEqualTo(e);
    }

    @Test
    void decisionIdIsStableForTheSameSourcePositionAndDecider() {
        SourceRecord r = new SourceRecord("t", 1, 9, 0, null, null, List.of());
        String key = ClassifiedEvents.decisionKey(r);
        assertThat(Decision.id(key, "m", "1", "p1")).isEqualTo(Decision.id(key, "m", "1", "p1"));
        assertThat(Decision.id(key, "m", "1", "p1")).isNotEqualTo(Decision.id(ClassifiedEvents.decisionKey(
                new SourceRecord("t", 1, 10, 0, null, null, List.of())), "m", "1", "p1"));
        assertThat(Decision.id(key, "m", "1", "p1")).isNotEqualTo(Decision.id(key, "m", "2", "p1"));
        // the same bytes as before the core existed, so decision ids of old outputs still de-duplicate
        assertThat(Decision.id(key, "m", "1", "p1")).isEqualTo(java.util.UUID.nameUUIDFromBytes(
                "t/1/9/m/1/p1".getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString());
    }
}
