package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCorpusTest {

    @Test
    void textPerLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("texts.txt");
        Files.writeString(f, "first text\n\n  \nsecond text\nthird\n");
        BenchCorpus c = BenchCorpus.load(f);
        assertThat(c.size()).isEqualTo(3);
        assertThat(c.texts(0, 5)).containsExactly("first text", "second text", "third", "first text", "second text");
        assertThat(c.text(7)).isEqualTo("second text");
        assertThat(c.minChars()).isEqualTo(5);
        assertThat(c.maxChars()).isEqualTo(11);
    }

    @Test
    void jsonLinesCompressed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("texts.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
            out.write(("{\"id\": \"a\", \"text\": \"win a prize\", \"label\": \"spam\"}\n"
                    + "{\"text\": \"lunch at noon?\"}\n").getBytes(StandardCharsets.UTF_8));
        }
        BenchCorpus c = BenchCorpus.load(f);
        assertThat(c.texts(0, 2)).containsExactly("win a prize", "lunch at noon?");
    }

    @Test
    void jsonLinesNeedText() {
        assertThatThrownBy(() -> BenchCorpus.parse(List.of("{\"id\": \"a\"}"), "x.jsonl"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1");
        assertThatThrownBy(() -> BenchCorpus.parse(List.of("{\"text\": \"ok\"}", "{broken"), "x.jsonl"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 2");
    }

    @Test
    void emptyOrMissingFiles(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n\n");
        assertThatThrownBy(() -> BenchCorpus.load(empty)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no texts");
        assertThatThrownBy(() -> BenchCorpus.load(dir.resolve("nope.txt")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not found");
    }

    @Test
    void theDemoSampleIsMixedLength() {
        BenchCorpus c = BenchCorpus.demo();
        assertThat(c.size()).isEqualTo(400);
        assertThat(c.minChars()).isLessThan(200);
        assertThat(c.maxChars()).isGreaterThan(1500);
    }
}
