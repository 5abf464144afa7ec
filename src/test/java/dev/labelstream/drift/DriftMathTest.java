package dev.labelstream.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

/** Each measure against numbers worked out by hand (the working is in the comments). */
class DriftMathTest {
    private static final double TOL = 1e-6;

    @Test
    void psiOfAShiftedTwoBinDistribution() {
        // shares r = (0.5, 0.5), c = (0.8, 0.2)
        // PSI = (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5 = 0.3 ln 4 = 0.4158883
        assertThat(DriftMath.psi(new long[] {50, 50}, new long[] {80, 20})).isCloseTo(0.4158883, offset(TOL));
        // PSI is symmetric in its two arguments
        assertThat(DriftMath.psi(new long[] {80, 20}, new long[] {50, 50})).isCloseTo(0.4158883, offset(TOL));
        // counts, not shares: the scale of either side does not matter
        assertThat(DriftMath.psi(new long[] {1, 1}, new long[] {4000, 1000})).isCloseTo(0.4158883, offset(TOL));
    }

    @Test
    void psiOfAThreeBinDistribution() {
        // r = (0.2, 0.3, 0.5), c = (0.3, 0.3, 0.4)
        // (0.1) ln(1.5) + 0 + (-0.1) ln(0.8) = 0.1 * 0.4054651 + 0.1 * 0.2231436 = 0.0628609
        assertThat(DriftMath.psi(new long[] {20, 30, 50}, new long[] {3, 3, 4})).isCloseTo(0.0628609, offset(TOL));
    }

    @Test
    void psiReplacesAnEmptyBinByEpsilon() {
        // r = (1, 0 -> 1e-4), c = (0.9, 0.1)
        // (0.9-1) ln(0.9) + (0.1-0.0001) ln(0.1/0.0001) = 0.0105361 + 0.0999 * 6.9077553 = 0.7006208
        assertThat(DriftMath.psi(new long[] {100, 0}, new long[] {90, 10})).isCloseTo(0.7006208, offset(TOL));
        // a bin empty on both sides adds (eps - eps) ln 1 = 0
        assertThat(DriftMath.psi(new long[] {30, 70, 0}, new long[] {3, 7, 0})).isCloseTo(0, offset(1e-12));
        // labels the reference never saw: arrays of different lengths are padded with empty bins
        assertThat(DriftMath.psi(new long[] {100}, new long[] {90, 10})).isCloseTo(0.7006208, offset(TOL));
    }

    @Test
    void psiOfNothingIsNaN() {
        assertThat(DriftMath.psi(new long[] {0, 0}, new long[] {1, 2})).isNaN();
        assertThat(DriftMath.psi(new long[] {1, 2}, new long[0])).isNaN();
    }

    @Test
    void jensenShannonDistance() {
        // p = (0.5, 0.5), q = (1, 0), m = (0.75, 0.25)
        // KL(p|m) = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) = -0.2027326 + 0.3465736 = 0.1438410
        // KL(q|m) = ln(1/0.75) = 0.2876821
        // JSD = (0.1438410 + 0.2876821) / 2 = 0.2157616; distance = sqrt(JSD) = 0.4645014
        // (scipy.spatial.distance.jensenshannon([.5, .5], [1, 0]) gives the same)
        assertThat(DriftMath.jensenShannonDistance(new long[] {5, 5}, new long[] {7, 0})).isCloseTo(0.4645014,
                offset(TOL));
        // disjoint supports: JSD = ln 2, distance = sqrt(ln 2) = 0.8325546, the largest possible
        assertThat(DriftMath.jensenShannonDistance(new long[] {1, 0}, new long[] {0, 1})).isCloseTo(0.8325546,
                offset(TOL));
        // same shares
        assertThat(DriftMath.jensenShannonDistance(new long[] {2, 6}, new long[] {10, 30})).isCloseTo(0, offset(1e-9));
        // p = (0.2, 0.8), q = (0.4, 0.6), m = (0.3, 0.7)
        // KL(p|m) = 0.2 ln(2/3) + 0.8 ln(8/7) = -0.0810930 + 0.1068251 = 0.0257321
        // KL(q|m) = 0.4 ln(4/3) + 0.6 ln(6/7) = 0.1150728 - 0.0924906 = 0.0225822
        // JSD = 0.0241572; distance = 0.1554260
        assertThat(DriftMath.jensenShannonDistance(new long[] {2, 8}, new long[] {4, 6})).isCloseTo(0.1554260,
                offset(TOL));
    }

    @Test
    void cosineDistance() {
        // cos((1,0),(1,1)) = 1/sqrt(2) = 0.7071068 -> distance 0.2928932
        assertThat(DriftMath.cosineDistance(new double[] {1, 0}, new double[] {1, 1})).isCloseTo(0.2928932,
                offset(TOL));
        assertThat(DriftMath.cosineDistance(new double[] {1, 2, 3}, new double[] {2, 4, 6})).isCloseTo(0, offset(1e-12));
        assertThat(DriftMath.cosineDistance(new double[] {1, 0}, new double[] {0, 1})).isCloseTo(1, offset(1e-12));
        assertThat(DriftMath.cosineDistance(new double[] {1, 0}, new double[] {-1, 0})).isCloseTo(2, offset(1e-12));
        assertThat(DriftMath.cosineDistance(new double[] {0, 0}, new double[] {0, 1})).isNaN();
    }

    @Test
    void mmdOfTwoSmallSamples() {
        // x = {0, 1}, y = {2, 3} (one dimension), sigma = 1: k(d) = exp(-d^2 / 2)
        // xx term: 2/(2*1) * k(1) = 0.6065307; yy term: the same
        // xy: k(2) + k(3) + k(1) + k(2) = 0.1353353 + 0.0111090 + 0.6065307 + 0.1353353 = 0.8883102
        //     2/(2*2) * 0.8883102 = 0.4441551
        // MMD^2_u = 0.6065307 + 0.6065307 - 0.4441551 = 0.7689062
        float[] x = {0, 1};
        float[] y = {2, 3};
        assertThat(DriftMath.mmd2(x, 2, y, 2, 1, 1.0)).isCloseTo(0.7689062, offset(TOL));
        // symmetric
        assertThat(DriftMath.mmd2(y, 2, x, 2, 1, 1.0)).isCloseTo(0.7689062, offset(TOL));
    }

    @Test
    void mmdOfTheSameSampleIsBelowZeroAsTheUnbiasedEstimateCanBe() {
        // x = y = {0, 1}, sigma = 1: k(1) + k(1) - (2 + 2 k(1)) / 2 = k(1) - 1 = 0.6065307 - 1 = -0.3934693
        float[] x = {0, 1};
        assertThat(DriftMath.mmd2(x, 2, x, 2, 1, 1.0)).isCloseTo(-0.3934693, offset(TOL));
    }

    @Test
    void mmdInTwoDimensionsWithAnotherBandwidth() {
        // x = {(0,0), (0,1)}, y = {(1,0), (1,1), (2,0)}, sigma = 2: k(d^2) = exp(-d^2 / 8)
        // xx: 2/(2*1) * k(1) = exp(-0.125) = 0.8824969
        // yy: pairs (1,0)-(1,1) d^2=1, (1,0)-(2,0) d^2=1, (1,1)-(2,0) d^2=2
        //     2/(3*2) * (2 exp(-0.125) + exp(-0.25)) = (1.7649938 + 0.7788008) / 3 = 0.8479315
        // xy: (0,0)-(1,0) 1, (0,0)-(1,1) 2, (0,0)-(2,0) 4, (0,1)-(1,0) 2, (0,1)-(1,1) 1, (0,1)-(2,0) 5
        //     sum = 2 exp(-1/8) + 2 exp(-2/8) + exp(-4/8) + exp(-5/8)
        //         = 1.7649938 + 1.5576016 + 0.6065307 + 0.5352614 = 4.4643875
        //     2/(2*3) * 4.4643875 = 1.4881292
        // MMD^2_u = 0.8824969 + 0.8479315 - 1.4881292 = 0.2422992
        float[] x = {0, 0, 0, 1};
        float[] y = {1, 0, 1, 1, 2, 0};
        assertThat(DriftMath.mmd2(x, 2, y, 3, 2, 2.0)).isCloseTo(0.2422992, offset(TOL));
    }

    @Test
    void mmdNeedsTwoRowsOnEachSide() {
        assertThat(DriftMath.mmd2(new float[] {0}, 1, new float[] {0, 1}, 2, 1, 1.0)).isNaN();
    }

    @Test
    void medianHeuristic() {
        // {0, 1, 3}: distances 1, 3, 2 -> median 2
        assertThat(DriftMath.medianDistance(new float[] {0, 1, 3}, 3, 1)).isEqualTo(2.0);
        // {0, 1, 3, 7}: distances 1, 3, 7, 2, 6, 4 -> sorted 1 2 3 4 6 7 -> median (3 + 4) / 2 = 3.5
        assertThat(DriftMath.medianDistance(new float[] {0, 1, 3, 7}, 4, 1)).isEqualTo(3.5);
        // 2-d: (0,0), (3,4), (0,4): distances 5, 4, 3 -> 4
        assertThat(DriftMath.medianDistance(new float[] {0, 0, 3, 4, 0, 4}, 3, 2)).isEqualTo(4.0);
    }
}
