package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchPeerTest {

    @Test
    void absentWithoutLangchain4j() {
        assertThat(BenchPeer.load("dev.langchain4j.NoSuchModel")).isEmpty();
    }

    @Test
    void headIsSoftmaxOfWeightsTimesEmbeddingPlusBias(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("head.json");
        Files.writeString(f, "{\"labels\": [\"ham\", \"spam\"], \"weights\": [[1, 0], [0, 2]], \"bias\": [0, -1]}");
        BenchPeer.Head head = BenchPeer.Head.read(f);
        assertThat(head.labels()).containsExactly("ham", "spam");
        // logits [1, 1]: equal
        float[] p = head.scores(new float[] {1, 1});
        assertThat(p[0]).isCloseTo(0.5f, within(1e-6f));
        // logits [0, 3]
        p = head.scores(new float[] {0, 2});
        assertThat(p[1]).isCloseTo((float) (1 / (1 + Math.exp(-3))), within(1e-6f));
        assertThat(p[0] + p[1]).isCloseTo(1f, within(1e-6f));
    }

    @Test
    void cosine() {
        assertThat(BenchPeer.cosine(new float[] {1, 0}, new float[] {2, 0})).isCloseTo(1.0, within(1e-9));
        assertThat(BenchPeer.cosine(new float[] {1, 0}, new float[] {0, 3})).isCloseTo(0.0, within(1e-9));
        assertThat(BenchPeer.cosine(new float[] {0, 0}, new float[] {1, 0})).isNaN();
    }

    /** Tests have langchain4j-embeddings on their classpath: the peer embeds as the engine does at its truncation. */
    @Test
    void peerRunsTheSameModel() {
        BenchPeer peer = BenchPeer.load().orElseThrow();
        int max = BenchPeer.maxTokens();
        assertThat(max).isEqualTo(128);
        List<String> texts = List.of("WIN a FREE cruise!!! Click here now to claim your prize",
                "Are we still on for lunch tomorrow? I can bring the slides.");
        BenchPeer.Embedded e = peer.embedAll(texts);
        assertThat(e.embeddings()).hasNumberOfRows(2);
        assertThat(e.embeddings()[0]).hasSize(384);
        assertThat(e.tokens()).isPositive();

        Configuration conf = new Configuration();
        conf.set(InferenceOptions.MAX_LENGTH, max);
        try (BatchClassifier engine = BatchClassifier.open(ModelBundle.load(JobTestSupport.defaultModel()), conf)) {
            ClassifiedBatch b = engine.classify(texts.stream().map(TextInput::of).toList());
            for (int i = 0; i < texts.size(); i++) {
                assertThat(BenchPeer.cosine(b.results().get(i).embedding(), e.embeddings()[i])).isGreaterThan(0.97);
            }
        }
    }
}
