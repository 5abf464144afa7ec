package dev.labelstream.bench;

import dev.labelstream.cli.Main;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.bench.BenchCommand.Setting;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {
    private static final Setting BASE = new Setting(64, 8192, Duration.ofMillis(20));

    @Test
    void sweepVariesOneSettingAtATimeAroundTheConfiguredOne() {
        List<Setting> s = BenchCommand.settings(BASE, List.of(8, 64, 128), List.of(2048),
                List.of(Duration.ofMillis(100)), false);
        assertThat(s).containsExactly(BASE, new Setting(8, 8192, Duration.ofMillis(20)),
                new Setting(128, 8192, Duration.ofMillis(20)), new Setting(64, 2048, Duration.ofMillis(20)),
                new Setting(64, 8192, Duration.ofMillis(100)));
    }

    @Test
    void sweepGridTriesEveryCombination() {
        List<Setting> s = BenchCommand.settings(BASE, List.of(8), List.of(2048), List.of(Duration.ofMillis(100)), true);
        assertThat(s).hasSize(8).first().isEqualTo(BASE);
        assertThat(s).contains(new Setting(8, 2048, Duration.ofMillis(100)));
    }

    @Test
    void bestBatchIsTheFastestCandidateByMedian() {
        Map<Integer, List<BenchRaw.Run>> raw = Map.of(
                1, List.of(run(1, 1_000_000_000L)),
                8, List.of(run(8, 500_000_000L), run(8, 2_000_000_000L), run(8, 400_000_000L)),
                32, List.of(run(32, 600_000_000L)));
        // medians: batch 8 takes 0.5 s for 100 records (200/s), batch 32 0.6 s; batch 1 is not a candidate
        assertThat(BenchCommand.bestBatch(raw, List.of(8, 32, 128))).isEqualTo(8);
        assertThat(BenchCommand.bestBatch(Map.of(), List.of(8))).isEqualTo(1);
    }

    @Test
    void optionsParse() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--records", "50", "--batch-sizes",
                "4,16", "--skip", "peer,naive", "--set", "inference.token-budget=4096", "--sweep-linger", "5ms,1s");
        assertThat(b.records).isEqualTo(50);
        assertThat(b.batchSizes).containsExactly(4, 16);
        assertThat(b.skip).containsExactlyInAnyOrder(BenchCommand.Part.PEER, BenchCommand.Part.NAIVE);
        assertThat(b.sets).containsEntry("inference.token-budget", "4096");
        assertThat(b.sweepLinger).containsExactly("5ms", "1s");
        assertThat(b.repeat).isEqualTo(3);
        assertThat(b.load).isEqualTo(0.5);
    }

    @Test
    void benchIsASubcommand() {
        assertThat(Main.commandLine().getSubcommands()).containsKey("bench");
    }

    private static BenchRaw.Run run(int batch, long wallNanos) {
        return new BenchRaw.Run(batch, 100, wallNanos, wallNanos / 2, 0, 1000, 1200, 100 / batch);
    }
}
