package dev.labelstream.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.HeadTrainer;
import dev.labelstream.inference.InferenceSettings;
import dev.labelstream.inference.ModelBundle;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The demo's candidate model: the default bundle's encoder (linked, not copied) with a head trained on only a few
 * messages, under a version of its own, so it disagrees with the default model on some of the stream. What a team
 * would get from a quick retrain, and what the shadow shows before anyone promotes it. Public for the bench's
 * {@code shadow} part, which runs the same candidate.
 */
public final class CandidateModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CandidateModel() {}

    /**
     * Writes the candidate under {@code dir}, its head trained on {@code n} of {@code messages}: the first ones of
     * each label, half and half, so that the few it sees still cover both. Returns {@code dir}; the caller deletes
     * it (the encoder's files in it are links to {@code primary}'s).
     */
    public static Path write(ModelBundle primary, ReadableConfig conf, List<DemoData.Message> messages, int n, Path dir)
            throws IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(primary.dir())) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                // The reference profile is the primary's: the candidate's drift would be compared with the wrong one.
                if (!name.equals("head.json") && !name.equals("labelstream.json")
                        && !name.equals("reference-profile.json")) {
                    Files.createSymbolicLink(dir.resolve(name), f.toAbsolutePath());
                }
            }
        }
        Files.copy(primary.dir().resolve("labelstream.json"), dir.resolve("labelstream.json"));
        Path corpus = dir.resolve("few-messages.jsonl");
        try (Writer w = Files.newBufferedWriter(corpus, StandardCharsets.UTF_8)) {
            java.util.Map<String, Integer> taken = new java.util.HashMap<>();
            for (DemoData.Message m : messages) {
                if (taken.merge(m.label(), 1, Integer::sum) > n / 2) {
                    continue;
                }
                ObjectNode line = JSON.createObjectNode().put("text", m.text()).put("label", m.label())
                        .put("split", "train");
                w.write(JSON.writeValueAsString(line));
                w.write('\n');
            }
        }
        // Trained with the primary's encoder as it is (its head is not used for the embeddings).
        try (BatchClassifier encoder = BatchClassifier.open(primary, InferenceSettings.of(conf));
                PrintStream quiet = new PrintStream(OutputStream.nullOutputStream())) {
            HeadTrainer.train(encoder, corpus, 0, 1, dir.resolve("head.json"), quiet);
        }
        ObjectNode meta = (ObjectNode) JSON.readTree(dir.resolve("labelstream.json").toFile());
        meta.put("version", meta.path("version").asText("0") + "-few" + n);
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("labelstream.json").toFile(), meta);
        return dir;
    }
}
