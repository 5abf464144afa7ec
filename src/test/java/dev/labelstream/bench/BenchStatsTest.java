package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.labelstream.bench.BenchStats.Summary;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchStatsTest {

    @Test
    void percentilesUseNearestRank() {
        double[] oneToTen = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
        assertThat(BenchStats.percentile(oneToTen, 50)).isEqualTo(5);
        assertThat(BenchStats.percentile(oneToTen, 95)).isEqualTo(10);
        assertThat(BenchStats.percentile(oneToTen, 99)).isEqualTo(10);
        assertThat(BenchStats.percentile(oneToTen, 100)).isEqualTo(10);
        assertThat(BenchStats.percentile(oneToTen, 10)).isEqualTo(1);
        assertThat(BenchStats.percentile(oneToTen, 0.1)).isEqualTo(1);
        assertThat(BenchStats.percentile(oneToTen, 11)).isEqualTo(2);

        double[] hundred = new double[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = i + 1;
        }
        assertThat(BenchStats.percentile(hundred, 50)).isEqualTo(50);
        assertThat(BenchStats.percentile(hundred, 95)).isEqualTo(95);
        assertThat(BenchStats.percentile(hundred, 99)).isEqualTo(99);
    }

    @Test
    void percentileEdgeCases() {
        assertThat(BenchStats.percentile(new double[] {42}, 50)).isEqualTo(42);
        assertThat(BenchStats.percentile(new double[] {42}, 99)).isEqualTo(42);
        assertThat(BenchStats.percentile(new double[0], 50)).isNaN();
        assertThat(BenchStats.percentile(new long[] {300, 100, 200}, 50)).isEqualTo(200);
        assertThatThrownBy(() -> BenchStats.percentile(new double[] {1}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BenchStats.percentile(new double[] {1}, 101))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void percentileDoesNotReorderItsInput() {
        double[] v = {3, 1, 2};
        BenchStats.percentile(v, 50);
        assertThat(v).containsExactly(3, 1, 2);
    }

    @Test
    void summaryOfOddAndEvenCounts() {
        assertThat(Summary.of(3, 1, 2)).isEqualTo(new Summary(1, 2, 3, 3));
        assertThat(Summary.of(4, 1, 3, 2)).isEqualTo(new Summary(1, 2.5, 4, 4));
        assertThat(Summary.of(7)).isEqualTo(new Summary(7, 7, 7, 1));
        assertThat(Summary.of(List.of(5.0, 1.0, 9.0))).isEqualTo(new Summary(1, 5, 9, 3));
    }

    @Test
    void summaryLeavesOutFailedRuns() {
        assertThat(Summary.of(Double.NaN, 2, 4)).isEqualTo(new Summary(2, 3, 4, 2));
        Summary none = Summary.of(Double.NaN);
        assertThat(none.isEmpty()).isTrue();
        assertThat(none.median()).isNaN();
        assertThat(Summary.of().n()).isZero();
    }

    @Test
    void rateSinceCountsOnlyRecordsAfterTheAnchor() {
        // warm-up ended at t=1000; 10 records completed after it, the last at t=3000: 10 records in 2 s
        long[] done = {1000, 1000, 1500, 1500, 2000, 2000, 2500, 2500, 3000, 3000, 3000, 3000};
        assertThat(BenchStats.rateSince(1000, done)).isCloseTo(5.0, within(1e-9));
        assertThat(BenchStats.rateSince(3000, done)).isNaN();
        assertThat(BenchStats.rateSince(0, new long[0])).isNaN();
    }

    @Test
    void spanRateLeavesOutTheFirstInstant() {
        // 4 records at t=0 (their work happened before it), 6 more by t=3000: 6 records in 3 s
        long[] done = {0, 0, 0, 0, 1000, 1000, 2000, 2000, 3000, 3000};
        assertThat(BenchStats.spanRate(done)).isCloseTo(2.0, within(1e-9));
        assertThat(BenchStats.spanRate(new long[] {5, 5, 5})).isNaN();
        assertThat(BenchStats.spanRate(new long[0])).isNaN();
    }

    @Test
    void rateAfterTheWarmupIgnoresWhichRecordsWereTheWarmup() {
        // 2 warm-up completions; the anchor is the 2nd completion (t=1000) whichever record it was; records
        // completed at the anchor instant are not counted; 4 more by t=3000: 2 per second
        long[] done = {3000, 1000, 500, 2000, 1000, 3000, 2000};
        assertThat(BenchStats.rateAfter(2, done)).isCloseTo(2.0, within(1e-9));
        assertThat(BenchStats.rateAfter(0, done)).isCloseTo(BenchStats.spanRate(done), within(1e-9));
        assertThat(BenchStats.rateAfter(7, done)).isNaN();
        assertThat(done).startsWith(3000, 1000);
    }

    @Test
    void ratios() {
        assertThat(BenchStats.ratio(9, 10)).isCloseTo(0.9, within(1e-12));
        assertThat(BenchStats.ratio(1, 0)).isNaN();
        assertThat(BenchStats.ratio(Double.NaN, 2)).isNaN();
        assertThat(BenchStats.ratio(2, Double.NaN)).isNaN();
    }

    @Test
    void batchSizesFromSharedKeys() {
        int[] sizes = BenchStats.groupSizes(List.of("a", "a", "b", "a", "c", "c"));
        assertThat(sizes).containsExactly(3, 1, 2);
        assertThat(BenchStats.mean(sizes)).isEqualTo(2.0);
        assertThat(BenchStats.mean(new int[0])).isNaN();
    }

    @Test
    void powerOfTwoBuckets() {
        Map<String, Integer> b = BenchStats.powerOfTwoBuckets(new int[] {1, 1, 2, 3, 9, 16, 0});
        assertThat(b).containsExactly(Map.entry("1", 2), Map.entry("2-3", 2), Map.entry("4-7", 0),
                Map.entry("8-15", 1), Map.entry("16-31", 1));
        assertThat(BenchStats.powerOfTwoBuckets(new int[0])).isEmpty();
        assertThat(BenchJson.bucketsText(b)).isEqualTo("1: 2, 2-3: 2, 8-15: 1, 16-31: 1");
    }
}
