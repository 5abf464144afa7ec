package dev.labelstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.drift.ReferenceProfile;
import dev.labelstream.inference.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileCommandTest {
    @TempDir
    Path dir;

    @Test
    void profilesJsonLinesWithAFilterAndASampleIntoTheBundle() throws Exception {
        Path model = TestModels.encoderOnly(dir.resolve("model"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            lines.add("{\"id\": \"" + i + "\", \"split\": \"" + (i % 3 == 0 ? "test" : "train")
                    + "\", \"text\": \"message number " + i + " about the weather and the " + "news ".repeat(i % 7)
                    + "\"}");
        }
        Path input = dir.resolve("corpus.jsonl");
        Files.write(input, lines);
        int rc = Main.run("profile", "--model", model.toString(), "--input", input.toString(), "--filter",
                "split=train", "--sample", "30", "--batch", "8");
        assertThat(rc).isZero();
        ReferenceProfile p = ReferenceProfile.read(model.resolve(ReferenceProfile.FILE_NAME));
        assertThat(p.records()).isEqualTo(30);
        assertThat(p.labels()).containsExactly("neg", "pos");
        assertThat(p.source()).contains("corpus.jsonl", "split=train", "random sample of 30");
        assertThat(p.summary().embeddings).isEqualTo(30);
        assertThat(p.summary().dimension()).isEqualTo(32);
        assertThat(p.bandwidth()).isPositive();
    }

    @Test
    void profilesPlainLines() throws Exception {
        Path model = TestModels.encoderOnly(dir.resolve("model"));
        Path input = dir.resolve("texts.txt");
        Files.write(input, List.of("one text", "", "another text", "a third"));
        Path out = dir.resolve("elsewhere.json");
        assertThat(Main.run("profile", "--model", model.toString(), "--input", input.toString(), "--output",
                out.toString())).isZero();
        assertThat(ReferenceProfile.read(out).records()).isEqualTo(3);
    }
}
