package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchFlopsTest {

    @Test
    void miniLmL6CostsAbout23MflopPerTokenAt216Tokens(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, "{\"model_type\": \"bert\", \"hidden_size\": 384}");
        BenchFlops f = BenchFlops.of(config, true);
        assertThat(f.layers()).isEqualTo(6);
        assertThat(f.intermediate()).isEqualTo(1536);
        // 6 layers x 2 x (4 x 384^2 + 2 x 384 x 1536 + 2 x 216 x 384) = 23.2 MFLOP per token
        assertThat(f.ofSequence(216) / 216 / 1e6).isCloseTo(23.2, within(0.1));
        assertThat(f.perRecord(new int[] {100, 300})).isEqualTo((f.ofSequence(100) + f.ofSequence(300)) / 2);

        // a graph it does not know, with sizes missing: no estimate rather than a wrong one
        assertThat(BenchFlops.of(config, false).known()).isFalse();
        Files.writeString(config, "{\"n_layer\": 12, \"n_embd\": 768, \"n_inner\": 3072}");
        assertThat(BenchFlops.of(config, false).source()).isEqualTo("config.json");
    }
}
