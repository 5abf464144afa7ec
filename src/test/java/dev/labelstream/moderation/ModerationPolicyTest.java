package dev.labelstream.moderation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ModerationAction;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ModerationPolicyTest {
    static final List<String> LABELS = List.of("ok", "toxic", "threat");

    static Map<String, Thresholds> parse(String json) throws Exception {
        return Thresholds.parse(new ObjectMapper().readTree(json), LABELS);
    }

    @Test
    void theStrongestActionAnyLabelReachesWins() throws Exception {
        ModerationPolicy p = new ModerationPolicy(LABELS,
                parse("{\"toxic\": {\"review\": 0.5, \"block\": 0.9}, \"threat\": {\"review\": 0.3, \"block\": 0.6}}"), "v1");
        assertThat(p.decide(new float[] {0.9f, 0.1f, 0.1f}).action()).isEqualTo(ModerationAction.ALLOW);
        assertThat(p.decide(new float[] {0.4f, 0.5f, 0.1f}).action()).isEqualTo(ModerationAction.REVIEW);
        assertThat(p.decide(new float[] {0.1f, 0.55f, 0.65f}).action()).isEqualTo(ModerationAction.BLOCK);
        assertThat(p.decide(new float[] {0.1f, 0.55f, 0.65f}).reason()).contains("threat").contains("block");
        assertThat(p.decide(new float[] {0.9f, 0.1f, 0.1f}).reason()).contains("no label");
    }

    @Test
    void actionIsMonotoneInEveryScore() throws Exception {
        ModerationPolicy p = new ModerationPolicy(LABELS,
                parse("{\"toxic\": {\"review\": 0.5, \"block\": 0.9}, \"threat\": {\"block\": 0.7}}"), "v1");
        Random r = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            float[] s = {r.nextFloat(), r.nextFloat(), r.nextFloat()};
            float[] higher = s.clone();
            int l = r.nextInt(3);
            higher[l] = Math.min(1f, higher[l] + r.nextFloat() * 0.5f);
            assertThat(p.decide(higher).action().ordinal()).isGreaterThanOrEqualTo(p.decide(s).action().ordinal());
        }
    }

    @Test
    void thresholdsAreValidated() {
        assertThatThrownBy(() -> parse("{\"nope\": {\"review\": 0.5}}")).hasMessageContaining("\"nope\"")
                .hasMessageContaining("[ok, toxic, threat]");
        assertThatThrownBy(() -> parse("{\"toxic\": {\"review\": 0.9, \"block\": 0.5}}"))
                .hasMessageContaining("toxic").hasMessageContaining("below the review threshold");
        assertThatThrownBy(() -> parse("{\"toxic\": {}}")).hasMessageContaining("numeric");
        assertThatThrownBy(() -> parse("{\"toxic\": {\"review\": 1.5}}")).hasMessageContaining("[0, 1]");
    }
}
