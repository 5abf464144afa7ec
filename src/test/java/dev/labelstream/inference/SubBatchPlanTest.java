package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The cutting rule holds its three bounds on random length-sorted batches, and covers every sequence once. */
class SubBatchPlanTest {

    @Test
    void everyCallRespectsRowsBudgetAndEfficiencyFloor() {
        Random r = new Random(11);
        for (int trial = 0; trial < 2_000; trial++) {
            int maxLength = 16 + r.nextInt(500);
            SubBatchPlan plan = new SubBatchPlan(maxLength + r.nextInt(8192), 1 + r.nextInt(64),
                    1 + r.nextInt(32), maxLength, r.nextDouble());
            int[] lengths = new int[1 + r.nextInt(200)];
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = 1 + r.nextInt(maxLength);
            }
            Arrays.sort(lengths);
            int start = 0;
            int covered = 0;
            while (start < lengths.length) {
                int end = plan.end(lengths, start);
                assertThat(end).isGreaterThan(start).isLessThanOrEqualTo(lengths.length);
                int rows = end - start;
                covered += rows;
                if (rows > 1) {
                    long real = 0;
                    for (int i = start; i < end; i++) {
                        real += lengths[i];
                    }
                    int longest = lengths[end - 1];
                    assertThat(rows).isLessThanOrEqualTo(plan.maxRows());
                    assertThat((long) rows * plan.paddedLength(longest)).isLessThanOrEqualTo(plan.tokenBudget());
                    assertThat((double) real).isGreaterThanOrEqualTo(plan.minEfficiency() * rows * longest - 1e-9);
                }
                start = end;
            }
            assertThat(covered).isEqualTo(lengths.length);
        }
    }

    @Test
    void shortTextsDoNotShareACallWithLongOnesWhenTheFloorForbidsIt() {
        int[] lengths = {20, 22, 24, 250, 256, 256};
        SubBatchPlan packed = new SubBatchPlan(8192, 64, 16, 256, 0);
        SubBatchPlan floor = new SubBatchPlan(8192, 64, 16, 256, 0.9);
        assertThat(packed.end(lengths, 0)).isEqualTo(6);
        assertThat(floor.end(lengths, 0)).isEqualTo(3);
        assertThat(floor.end(lengths, 3)).isEqualTo(6);
    }

    @Test
    void paddingRoundsUpButNeverPastMaxLength() {
        SubBatchPlan plan = new SubBatchPlan(4096, 8, 16, 250, 0.9);
        assertThat(plan.paddedLength(1)).isEqualTo(16);
        assertThat(plan.paddedLength(17)).isEqualTo(32);
        assertThat(plan.paddedLength(240)).isEqualTo(240);
        assertThat(plan.paddedLength(241)).isEqualTo(250);
        assertThatThrownBy(() -> new SubBatchPlan(4096, 8, 16, 250, 1.5))
                .hasMessageContaining("inference.min-padding-efficiency");
    }
}
