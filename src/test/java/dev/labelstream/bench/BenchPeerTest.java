package dev.labelstream.bench;

import dev.labelstream.job.JobTestSupport;
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
    void cosine() {
        assertThat(BenchPeer.cosine(new float[] {1, 0}, new float[] {2, 0})).isCloseTo(1.0, within(1e-9));
        assertThat(BenchPeer.cosine(new float[] {1, 0}, new float[] {0, 3})).isCloseTo(0.0, within(1e-9));
        assertThat(BenchPeer.cosine(new float[] {0, 0}, new float[] {1, 0})).isNaN();
    }

    /** A bundle whose graph langchain4j does not ship has no peer. */
    @Test
    void noPeerForOtherGraphs(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("model.onnx");
        Files.write(f, new byte[] {1, 2, 3});
        assertThat(BenchPeer.matching(f)).isEmpty();
        assertThat(BenchPeer.matching(dir.resolve("missing.onnx"))).isEmpty();
    }

    /** Tests have langchain4j-embeddings on their classpath: the peer embeds as the engine does at its truncation. */
    @Test
    void peerRunsTheSameModel() throws Exception {
        ModelBundle bundle = ModelBundle.load(JobTestSupport.defaultModel());
        BenchPeer.Model model = BenchPeer.matching(bundle.modelFile()).orElseThrow();
        assertThat(model.simpleName()).isEqualTo("AllMiniLmL6V2EmbeddingModel");
        BenchPeer peer = BenchPeer.load(model.modelClass()).orElseThrow();
        int max = BenchPeer.maxTokens(model);
        assertThat(max).isEqualTo(128);
        List<String> texts = List.of("WIN a FREE cruise!!! Click here now to claim your prize",
                "Are we still on for lunch tomorrow? I can bring the slides.");
        BenchPeer.Embedded e = peer.embedAll(texts);
        assertThat(e.embeddings()).hasNumberOfRows(2);
        assertThat(e.embeddings()[0]).hasSize(384);
        assertThat(e.tokens()).isPositive();

        Configuration conf = new Configuration();
        conf.set(InferenceOptions.MAX_LENGTH, max);
        try (BatchClassifier engine = BatchClassifier.open(bundle, conf)) {
            ClassifiedBatch b = engine.classify(texts.stream().map(TextInput::of).toList());
            for (int i = 0; i < texts.size(); i++) {
                assertThat(BenchPeer.cosine(b.results().get(i).embedding(), e.embeddings()[i])).isGreaterThan(0.97);
            }
        }
    }
}
