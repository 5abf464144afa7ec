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
                2L, "b"), 1_000, Map.of(BenchCpu.JIT, 10L, BenchCpu.GC, 0L));
        BenchCpu.Snapshot to = new BenchCpu.Snapshot(Map.of(1L, 600L, 2L, 300L, 3L, 50L), Map.of(1L,
                "labelstream-classify-0-1", 2L, "b", 3L, "other"), 2_000, Map.of(BenchCpu.JIT, 70L, BenchCpu.GC, 40L));
        Map<String, Long> split = BenchCpu.split(from, to, Set.of(2L));
        assertThat(split.get(BenchCpu.CLASSIFY)).isEqualTo(500);
        assertThat(split.get(BenchCpu.BROKER)).isEqualTo(300);
        assertThat(split.get(BenchCpu.OTHER)).isEqualTo(50);
        // native: 150, of which the JIT's threads 60 and the GC's 40
        assertThat(split.get(BenchCpu.JIT)).isEqualTo(60);
        assertThat(split.get(BenchCpu.GC)).isEqualTo(40);
        assertThat(split.get(BenchCpu.NATIVE)).isEqualTo(50);
        assertThat(split.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1_000);
    }

    @Test
    void hotSpotThreadNamesAsProcShowsThem() {
        assertThat(BenchCpu.vmGroup("C2 CompilerThre")).isEqualTo(BenchCpu.JIT);
        assertThat(BenchCpu.vmGroup("C1 CompilerThre")).isEqualTo(BenchCpu.JIT);
        assertThat(BenchCpu.vmGroup("GC Thread#1")).isEqualTo(BenchCpu.GC);
        assertThat(BenchCpu.vmGroup("G1 Conc#0")).isEqualTo(BenchCpu.GC);
        assertThat(BenchCpu.vmGroup("labelstream-cla")).isNull();
        if (new java.io.File("/proc/self/task").isDirectory()) {
            // this JVM has compiled something by now
            assertThat(BenchCpu.vmThreads()).containsKey(BenchCpu.JIT);
        }
    }
}
