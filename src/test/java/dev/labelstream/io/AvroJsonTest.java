package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.ModerationAction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AvroJsonTest {
    static ClassifiedEvent event(String topLabel, Map<String, String> attributes) {
        InputEvent in = new InputEvent(new SourceRecord("t", 1, 9, 1000L, null, new byte[0], List.of()), "id-1", "x",
                null, attributes, attributes == null ? null : 500L);
        ClassifiedEvents.Verdict v = new ClassifiedEvents.Verdict(List.of("ham", "spam"), new float[] {0.25f, 0.75f},
                1, ModerationAction.REVIEW, "spam 0.750 >= review threshold 0.500", topLabel != null, false, 12);
        return ClassifiedEvents.build(in, v, new ClassifiedEvents.Decider("m", "1", "p1", "CPU"), 3.5f, 2000L);
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
        ClassifiedEvents.Decider d = new ClassifiedEvents.Decider("m", "1", "p1", "CPU");
        assertThat(ClassifiedEvents.decisionId(r, d)).isEqualTo(ClassifiedEvents.decisionId(r, d));
        assertThat(ClassifiedEvents.decisionId(r, d)).isNotEqualTo(ClassifiedEvents.decisionId(
                new SourceRecord("t", 1, 10, 0, null, null, List.of()), d));
        assertThat(ClassifiedEvents.decisionId(r, d)).isNotEqualTo(
                ClassifiedEvents.decisionId(r, new ClassifiedEvents.Decider("m", "2", "p1", "CPU")));
    }
}
