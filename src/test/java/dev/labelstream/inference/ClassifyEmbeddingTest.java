package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An embedding scored through classifyEmbedding gets the scores classify gives the text it came from. */
class ClassifyEmbeddingTest {
    @TempDir
    Path dir;

    @Test
    void scoresAnEmbeddingWithTheBundlesHeadAsClassifyDoes() throws Exception {
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(TestBundles.bertEncoderOnly(dir)))) {
            List<Classification> direct = c.classify(List.of(TextInput.of("the quick brown fox"),
                    TextInput.of("a much longer text about something else entirely, with commas"))).results();
            for (Classification d : direct) {
                Classification viaEmbedding = c.classifyEmbedding(d.embedding());
                assertThat(viaEmbedding.top()).isEqualTo(d.top());
                for (int l = 0; l < d.scores().length; l++) {
                    assertThat(viaEmbedding.scores()[l]).isCloseTo(d.scores()[l], within(1e-6f));
                }
                float sum = 0;
                for (float p : viaEmbedding.scores()) {
                    sum += p;
                }
                assertThat(sum).isCloseTo(1f, within(1e-6f));
            }
        }
    }

    @Test
    void aGraphWithItsOwnHeadHasNoEmbeddingToScore() throws Exception {
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(TestBundles.bert(dir)))) {
            assertThatThrownBy(() -> c.classifyEmbedding(new float[32])).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("pooling + head");
        }
    }
}
