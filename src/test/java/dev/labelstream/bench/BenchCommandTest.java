package dev.labelstream.bench;

import dev.labelstream.cli.Main;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.bench.BenchSearch.Point;
import dev.labelstream.bench.BenchSweep.Setting;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {
    private static final Setting BASE = new Setting(64, 8192, Duration.ofMillis(20));

    @Test
    void sweepVariesOneSettingAtATimeAroundTheConfiguredOne() {
        List<Setting> s = BenchSweep.settings(BASE, List.of(8, 64, 128), List.of(2048),
                List.of(Duration.ofMillis(100)), false);
        assertThat(s).containsExactly(BASE, new Setting(8, 8192, Duration.ofMillis(20)),
                new Setting(128, 8192, Duration.ofMillis(20)), new Setting(64, 2048, Duration.ofMillis(20)),
                new Setting(64, 8192, Duration.ofMillis(100)));
    }

    @Test
    void sweepGridTriesEveryCombination() {
        List<Setting> s = BenchSweep.settings(BASE, List.of(8), List.of(2048), List.of(Duration.ofMillis(100)), true);
        assertThat(s).hasSize(8).first().isEqualTo(BASE);
        assertThat(s).contains(new Setting(8, 2048, Duration.ofMillis(100)));
    }

    @Test
    void theBestPointIsTheFastestByMedianAndEveryPointIsKept() {
        Map<Point, List<BenchRaw.Run>> raw = new java.util.LinkedHashMap<>();
        raw.put(new Point(1, 2, 1), List.of(run(1, 1_000_000_000L)));
        raw.put(new Point(2, 1, 1), List.of(run(1, 500_000_000L), run(1, 2_000_000_000L), run(1, 400_000_000L)));
        raw.put(new Point(2, 1, 8), List.of(run(8, 600_000_000L)));
        // medians: 2 callers x intra-op 1 at batch 1 takes 0.5 s for 100 records (200/s), batch 8 0.6 s
        assertThat(BenchSearch.best(raw)).isEqualTo(new Point(2, 1, 1));
        assertThat(BenchSearch.best(Map.of())).isEqualTo(new Point(1, 1, 1));
    }

    @Test
    void theRepeatsGoToEveryPointNearTheFirstPassBestAndBatchOneAtTheirThreads() {
        Map<Point, List<BenchRaw.Run>> raw = new java.util.LinkedHashMap<>();
        raw.put(new Point(1, 1, 1), List.of(run(1, 2_000_000_000L))); // 50/s
        raw.put(new Point(1, 2, 8), List.of(run(8, 1_000_000_000L))); // 100/s: the first pass's best
        raw.put(new Point(2, 1, 1), List.of(run(1, 1_050_000_000L))); // 95/s: within 10 %
        raw.put(new Point(2, 1, 8), List.of(run(8, 1_200_000_000L))); // 83/s: not
        assertThat(BenchSearch.contenders(raw)).containsExactly(new Point(1, 2, 8), new Point(1, 2, 1),
                new Point(2, 1, 1));
        // the repeats decide: the first pick slows down on its repeat, the other holds
        raw.put(new Point(1, 2, 8), List.of(run(8, 1_000_000_000L), run(8, 1_300_000_000L)));
        raw.put(new Point(2, 1, 1), List.of(run(1, 1_050_000_000L), run(1, 1_040_000_000L)));
        assertThat(BenchSearch.best(raw)).isEqualTo(new Point(2, 1, 1));
    }

    @Test
    void thePipelineRunsWithTheBestPointUnlessTheUserSetAnOption() {
        org.apache.flink.configuration.Configuration c = new Point(2, 1, 4).applyTo(
                new org.apache.flink.configuration.Configuration(), java.util.Set.of("inference.max-sub-batch"));
        assertThat(c.get(dev.labelstream.settings.JobOptions.ASYNC_THREADS)).isEqualTo(2);
        assertThat(c.get(dev.labelstream.inference.InferenceOptions.INTRA_OP_THREADS)).isEqualTo(1);
        assertThat(c.getOptional(dev.labelstream.inference.InferenceOptions.MAX_SUB_BATCH)).isEmpty();
    }

    @Test
    void optionsParse() {
        BenchCommand b = new BenchCommand();
        new CommandLine(b).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--records", "50", "--batch-sizes",
                "4,16", "--callers", "2", "--skip", "peer,naive", "--set", "inference.token-budget=4096", "--sweep-linger", "5ms,1s");
        assertThat(b.records).isEqualTo(50);
        assertThat(b.batchSizes).containsExactly(4, 16);
        assertThat(b.callers).containsExactly(2);
        assertThat(b.intraOps).isNull();
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
