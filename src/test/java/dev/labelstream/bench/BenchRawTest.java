package dev.labelstream.bench;

import dev.labelstream.job.JobTestSupport;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ModelBundle;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchRawTest {

    @Test
    void oneOrSeveralCallerThreadsClassifyEveryTextInInputOrder() {
        List<String> texts = BenchCorpus.demo().texts(0, 7);
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(JobTestSupport.defaultModel()))) {
            List<Classification> one = new ArrayList<>();
            BenchRaw.Run r1 = BenchRaw.run(c, texts, 3, one);
            List<Classification> two = new ArrayList<>();
            BenchRaw.Run r2 = BenchRaw.run(c, texts, 3, 2, two);

            assertThat(r1.records()).isEqualTo(7);
            assertThat(r1.modelCalls()).isGreaterThanOrEqualTo(3);
            assertThat(r1.realTokens()).isEqualTo(r2.realTokens()).isPositive();
            assertThat(r1.paddedTokens()).isEqualTo(r2.paddedTokens()).isGreaterThanOrEqualTo(r1.realTokens());
            assertThat(one).hasSize(7);
            assertThat(two).hasSize(7);
            for (int i = 0; i < 7; i++) {
                assertThat(two.get(i).tokens()).isEqualTo(one.get(i).tokens());
                assertThat(two.get(i).embedding()).containsExactly(one.get(i).embedding());
            }
            assertThat(r1.paddingEfficiency()).isBetween(0.0, 1.0);
            assertThatThrownBy(() -> BenchRaw.run(c, texts, 0, null)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
