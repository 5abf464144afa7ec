package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's {@code feed} graph (src/main/resources/bench/feed-tiny-minilm.onnx): MiniLM's inputs and output
 * (input_ids, attention_mask, token_type_ids to last_hidden_state [batch, sequence, 384]) with almost no compute,
 * so the real bundle's tokenizer, pooling, head and drift profile run around it and the bench measures what the
 * CPU side costs. Each hidden state is {@code (id + mask + type) * 1e-4 * w + b} with fixed random w, b.
 *
 * <p>This test checks that the committed file is what the generator makes; regenerate it with {@code mvn -B -o
 * test -Dtest=BenchFeedGraphTest -Dlabelstream.regenerate=true} (the ONNX protobuf classes are test-scoped).
 */
class BenchFeedGraphTest {
    static final String RESOURCE = "/bench/feed-tiny-minilm.onnx";
    static final Path SOURCE = Path.of("src/main/resources/bench/feed-tiny-minilm.onnx");
    static final int HIDDEN = 384;

    @TempDir
    Path tmp;

    static OnnxGraphs.Builder graph() {
        OnnxGraphs.Builder b = OnnxGraphs.builder("feed-tiny-minilm", 18);
        String ids = b.input(GraphContract.INPUT_IDS, OnnxGraphs.INT64, "batch", "sequence");
        String mask = b.input(GraphContract.ATTENTION_MASK, OnnxGraphs.INT64, "batch", "sequence");
        String types = b.input(GraphContract.TOKEN_TYPE_IDS, OnnxGraphs.INT64, "batch", "sequence");
        String sum = b.op("Add", b.op("Add", ids, mask), types);
        String x = b.op("Mul", b.op("Cast", sum, OnnxGraphs.attr("to", (long) OnnxGraphs.FLOAT)),
                b.scalar("scale", 1e-4f));
        String column = b.op("Unsqueeze", x, b.vector("axes", 2));
        String hidden = b.op("Mul", column, b.normal("w", 1.0, HIDDEN));
        b.opNamed("last_hidden_state", "Add", new String[] {hidden, b.normal("b", 1.0, HIDDEN)});
        b.output("last_hidden_state", OnnxGraphs.FLOAT, "batch", "sequence", HIDDEN);
        return b;
    }

    @Test
    void committedGraphIsTheGeneratorsAndRuns() throws IOException {
        byte[] generated = graph().build().toByteArray();
        if (Boolean.getBoolean("labelstream.regenerate")) {
            Files.createDirectories(SOURCE.getParent());
            Files.write(SOURCE, generated);
        }
        if (!Boolean.getBoolean("labelstream.regenerate")) {
            byte[] committed;
            try (InputStream in = BenchFeedGraphTest.class.getResourceAsStream(RESOURCE)) {
                assertThat(in).as(RESOURCE + " on the classpath").isNotNull();
                committed = in.readAllBytes();
            }
            assertThat(committed).as("regenerate with -Dlabelstream.regenerate=true").isEqualTo(generated);
        }
        assertThat(generated.length).as("a few KB").isLessThan(8 * 1024);

        // The real bundle with this graph in place of MiniLM classifies.
        Path dir = InferenceTestSupport.copyBundle(DefaultModel.directory(), tmp.resolve("feed"));
        Files.write(dir.resolve("model.onnx"), generated);
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(dir))) {
            ClassifiedBatch out = c.classify(java.util.List.of(TextInput.of("win a free cruise"),
                    TextInput.of("lunch at noon?")));
            assertThat(out.results()).hasSize(2);
            assertThat(out.results().get(0).embedding()).hasSize(HIDDEN);
        }
    }
}
