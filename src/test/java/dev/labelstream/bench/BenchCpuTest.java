package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BenchCpuTest {

    @Test
    void threadsAreGroupedByTheNamesTheirOwnersGiveThem() {
        assertThat(BenchCpu.group("labelstream-classify-0-1", false)).isEqualTo(BenchCpu.CLASSIFY);
        assertThat(BenchCpu.group("Source: kafka -> decode -> micro-batch (1/1)#0", false)).isEqualTo(BenchCpu.TASK);
        assertThat(BenchCpu.group("Source Data Fetcher for Source: kafka (1/1)#0", false)).isEqualTo(BenchCpu.SOURCE);
        assertThat(BenchCpu.group("kafka-producer-network-thread | producer-x", false)).isEqualTo(BenchCpu.PRODUCER);
        assertThat(BenchCpu.group("data-plane-kafka-request-handler-0", false)).isEqualTo(BenchCpu.BROKER);
        assertThat(BenchCpu.group("anything", true)).isEqualTo(BenchCpu.BROKER);
        assertThat(BenchCpu.group("anything", false)).isEqualTo(BenchCpu.OTHER);
    }

    @Test
    void theSplitAddsUpToTheProcessAndNativeTimeIsTheRest() {
        BenchCpu.Snapshot from = new BenchCpu.Snapshot(Map.of(1L, 100L, 2L, 0L), Map.of(1L, "labelstream-classify-0-1",
                2L, "b"), 1_000);
        BenchCpu.Snapshot to = new BenchCpu.Snapshot(Map.of(1L, 600L, 2L, 300L, 3L, 50L), Map.of(1L,
                "labelstream-classify-0-1", 2L, "b", 3L, "other"), 2_000);
        Map<String, Long> split = BenchCpu.split(from, to, Set.of(2L));
        assertThat(split.get(BenchCpu.CLASSIFY)).isEqualTo(500);
        assertThat(split.get(BenchCpu.BROKER)).isEqualTo(300);
        assertThat(split.get(BenchCpu.OTHER)).isEqualTo(50);
        assertThat(split.get(BenchCpu.NATIVE)).isEqualTo(150);
        assertThat(split.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1_000);
    }
}
