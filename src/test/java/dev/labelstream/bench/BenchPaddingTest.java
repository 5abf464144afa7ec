package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.labelstream.bench.BenchPadding.Budget;
import dev.labelstream.bench.BenchPadding.Efficiency;
import org.junit.jupiter.api.Test;

class BenchPaddingTest {
    /** Bucket size 1 keeps the arithmetic visible; a budget large enough for one call per batch. */
    private static final Budget EXACT = new Budget(1_000_000, 1000, 1, 512);

    @Test
    void naivePadsEachArrivalOrderBatchToItsLongest() {
        int[] lengths = {10, 100, 10, 100};
        // batches of 2: [10, 100] and [10, 100], each padded to 100
        Efficiency e = BenchPadding.naive(lengths, 2);
        assertThat(e).isEqualTo(new Efficiency(220, 400, 2));
        assertThat(e.value()).isCloseTo(0.55, within(1e-12));
        // batches of 1 never pad
        assertThat(BenchPadding.naive(lengths, 1).value()).isEqualTo(1.0);
        // a last, shorter batch: [10, 100, 10] + [100]
        assertThat(BenchPadding.naive(lengths, 3)).isEqualTo(new Efficiency(220, 400, 2));
    }

    @Test
    void tokenBudgetSortsWithinEachMicroBatchAndSplitsUnderTheBudget() {
        int[] lengths = {10, 100, 10, 100};
        // one micro-batch of 4, sorted [10, 10, 100, 100]; a budget of 200 padded tokens fits [10, 10] (20),
        // [10, 10, 100] would be 300: split; then [100, 100] = 200
        Efficiency e = BenchPadding.tokenBudget(lengths, 4, new Budget(200, 1000, 1, 512));
        assertThat(e).isEqualTo(new Efficiency(220, 220, 2));
        assertThat(e.value()).isEqualTo(1.0);
        // with an unlimited budget the sorted batch is one call padded to 100, as naive
        assertThat(BenchPadding.tokenBudget(lengths, 4, EXACT)).isEqualTo(new Efficiency(220, 400, 1));
    }

    @Test
    void tokenBudgetSortsOnlyWithinMicroBatchesOfArrivalOrder() {
        int[] lengths = {10, 100, 10, 100};
        // micro-batches of 2 are [10, 100] and [10, 100]: each splits under a budget of 150 into [10] and [100]
        Efficiency e = BenchPadding.tokenBudget(lengths, 2, new Budget(150, 1000, 1, 512));
        assertThat(e).isEqualTo(new Efficiency(220, 220, 4));
    }

    @Test
    void maxSubBatchCapsRows() {
        int[] lengths = {5, 5, 5, 5, 5};
        Efficiency e = BenchPadding.tokenBudget(lengths, 5, new Budget(1_000_000, 2, 1, 512));
        assertThat(e.modelCalls()).isEqualTo(3);
        assertThat(e.value()).isEqualTo(1.0);
    }

    @Test
    void paddedLengthRoundsUpToTheBucketButNotPastMaxLength() {
        Budget b = new Budget(8192, 128, 16, 256);
        assertThat(BenchPadding.paddedLength(1, b)).isEqualTo(16);
        assertThat(BenchPadding.paddedLength(16, b)).isEqualTo(16);
        assertThat(BenchPadding.paddedLength(17, b)).isEqualTo(32);
        assertThat(BenchPadding.paddedLength(256, b)).isEqualTo(256);
        // a max length that is not a multiple: padding stops at max length (it may be the last position)
        Budget odd = new Budget(8192, 128, 16, 250);
        assertThat(BenchPadding.paddedLength(250, odd)).isEqualTo(250);
        assertThat(BenchPadding.paddedLength(249, odd)).isEqualTo(250);
        assertThat(BenchPadding.paddedLength(239, odd)).isEqualTo(240);
    }

    @Test
    void bucketsCountAsPadding() {
        // [20, 30] sorted, one call padded to 32 (x16): 50 real of 64 padded
        Efficiency e = BenchPadding.tokenBudget(new int[] {30, 20}, 2, new Budget(8192, 128, 16, 256));
        assertThat(e).isEqualTo(new Efficiency(50, 64, 1));
    }

    @Test
    void mixedCorpusGainsFromSorting() {
        int[] lengths = new int[64];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = i % 2 == 0 ? 16 : 256;
        }
        Budget b = new Budget(8192, 128, 16, 256);
        assertThat(BenchPadding.naive(lengths, 8).value()).isCloseTo((16 + 256) / 512.0, within(1e-12));
        assertThat(BenchPadding.tokenBudget(lengths, 64, b).value()).isEqualTo(1.0);
    }

    @Test
    void oneBucketPerCallSplitsWhereThePaddedLengthChanges() {
        // sorted [20, 30, 40, 250]; x16 buckets 32, 32, 48, 256
        int[] lengths = {250, 20, 40, 30};
        Budget b = new Budget(8192, 128, 16, 256);
        // the budget alone keeps all four in one call padded to 256
        assertThat(BenchPadding.tokenBudget(lengths, 4, b)).isEqualTo(new Efficiency(340, 1024, 1));
        // one bucket per call: [20, 30] at 32, [40] at 48, [250] at 256
        assertThat(BenchPadding.byBucket(lengths, 4, b)).isEqualTo(new Efficiency(340, 64 + 48 + 256, 3));
    }

    @Test
    void rejectsEmptyBatches() {
        assertThatThrownBy(() -> BenchPadding.naive(new int[] {1}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(BenchPadding.naive(new int[0], 4).value()).isNaN();
    }
}
