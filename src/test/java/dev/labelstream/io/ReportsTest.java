package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.avro.LabelShare;
import dev.labelstream.avro.Report;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The report topic's envelope, in both output formats. */
class ReportsTest {
    static DriftReport drift() {
        return DriftReport.newBuilder().setModelName("m").setModelVersion("1.1.0")
                .setWindowStart(Instant.ofEpochMilli(1_000)).setWindowEnd(Instant.ofEpochMilli(61_000))
                .setWindowTime("EVENT").setEvents(10).setClassified(9).setDeadLetters(1).setEvaluated(true)
                .setReference("profile").setStatus(DriftStatus.WARN).setTripped(List.of("label_psi"))
                .setStatistics(List.of(new DriftStatistic("label_psi", 0.2, null, 0.5, 0.1, 0.25, DriftStatus.WARN),
                        new DriftStatistic("embedding_mmd", Double.NaN, null, null, 0.01, 0.05, DriftStatus.OK)))
                .setLabels(List.of(new LabelShare("spam", 0.4, null, 0.8))).build();
    }

    @ParameterizedTest
    @EnumSource(KafkaOptions.OutputFormat.class)
    void anEnvelopeRoundTripsWithItsKindVersionTimeAndBody(KafkaOptions.OutputFormat format) {
        byte[] value = Reports.encode(Reports.DRIFT_REPORT, 1, 61_000, drift(), format);
        Report r = Reports.decode(value, format);
        assertThat(r.getKind()).isEqualTo(Reports.DRIFT_REPORT);
        assertThat(r.getVersion()).isEqualTo(1);
        assertThat(r.getTime()).isEqualTo(Instant.ofEpochMilli(61_000));
        DriftReport back = Reports.body(r, DriftReport.class, format);
        // NaN != NaN for equals(): compare the rest, then the NaN statistic on its own
        assertThat(back.getStatistics().get(1).getValue()).isNaN();
        assertThat(back.getStatistics().get(0)).isEqualTo(drift().getStatistics().get(0));
        assertThat(back.getWindowEnd()).isEqualTo(drift().getWindowEnd());
        assertThat(back.getLabels()).isEqualTo(drift().getLabels());
    }

    @Test
    void jsonIsOnePlainObjectWithTheBodyNestedLikeClassifiedEvents() throws Exception {
        byte[] value = Reports.encode(Reports.DRIFT_REPORT, 1, 61_000, drift(), KafkaOptions.OutputFormat.JSON);
        JsonNode n = new ObjectMapper().readTree(value);
        assertThat(n.get("kind").asText()).isEqualTo("drift_report");
        assertThat(n.get("version").asInt()).isEqualTo(1);
        assertThat(n.get("time").asLong()).isEqualTo(61_000);
        JsonNode body = n.get("body");
        assertThat(body.isObject()).isTrue();
        // plain JSON: timestamps as epoch ms, unions as their value (no {"double": ...} wrapper), enums as names
        assertThat(body.get("window_end").asLong()).isEqualTo(61_000);
        assertThat(body.get("statistics").get(0).get("expected").asDouble()).isEqualTo(0.5);
        assertThat(body.get("status").asText()).isEqualTo("WARN");
        assertThat(new String(value, StandardCharsets.UTF_8)).doesNotContain("{\"double\"");
    }

    @Test
    void aConsumerCanTellKindsApartAndSkipOnesItDoesNotKnow() {
        ClassifiedEvent other = AvroJsonTest.event("spam", Map.of());
        for (KafkaOptions.OutputFormat f : KafkaOptions.OutputFormat.values()) {
            Report r = Reports.decode(Reports.encode("policy_event", 3, 5, other, f), f);
            assertThat(r.getKind()).isEqualTo("policy_event");
            assertThat(r.getVersion()).isEqualTo(3);
        }
    }

    @Test
    void aBareRecordIsNotAnEnvelope() {
        assertThatThrownBy(() -> Reports.decode(AvroJson.write(drift()), KafkaOptions.OutputFormat.JSON))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a report envelope");
    }

    @Test
    void theRecordCarriesTheKindHeaderAndTheTime() {
        OutboundRecord o = Reports.toRecord(Reports.DRIFT_REPORT, 1, 61_000, drift(), "k".getBytes(StandardCharsets.UTF_8),
                List.of(new KafkaHeader("x", new byte[] {1})), KafkaOptions.OutputFormat.AVRO);
        assertThat(o.destination()).isEqualTo(OutboundRecord.Destination.DRIFT);
        assertThat(o.timestamp()).isEqualTo(61_000);
        assertThat(o.headers()).extracting(KafkaHeader::key).containsExactly("x", Reports.KIND_HEADER);
    }
}
