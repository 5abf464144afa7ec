package dev.labelstream.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceProfileTest {
    @TempDir
    Path dir;

    @Test
    void writesAndReadsBackTheSummary() throws Exception {
        DriftAccumulator a = new DriftAccumulator(32, 1);
        Random r = new Random(3);
        for (int i = 0; i < 500; i++) {
            float[] e = new float[24];
            for (int k = 0; k < e.length; k++) {
                e[k] = (float) r.nextGaussian();
            }
            float c = 0.5f + r.nextFloat() / 2;
            a.add(new DriftObservation("m", "2", false, new float[] {c, 1 - c}, 0, c, 10 + r.nextInt(300),
                    r.nextBoolean(), r.nextInt(2), e, 0, 0));
        }
        ReferenceProfile p = ReferenceProfile.of("m", "2", List.of("a", "b"), "test data", a);
        Path file = dir.resolve(ReferenceProfile.FILE_NAME);
        p.write(file);
        ReferenceProfile back = ReferenceProfile.read(file);
        DriftAccumulator b = back.summary();
        assertThat(back.modelName()).isEqualTo("m");
        assertThat(back.modelVersion()).isEqualTo("2");
        assertThat(back.labels()).containsExactly("a", "b");
        assertThat(back.source()).isEqualTo("test data");
        assertThat(back.bandwidth()).isEqualTo(p.bandwidth());
        assertThat(b.records).isEqualTo(500);
        assertThat(b.labelCounts).containsExactly(a.labelCounts);
        assertThat(b.confidenceHistogram).containsExactly(a.confidenceHistogram);
        assertThat(b.tokenHistogram).containsExactly(a.tokenHistogram);
        assertThat(b.truncated).isEqualTo(a.truncated);
        assertThat(b.unknownTokens).isEqualTo(a.unknownTokens);
        for (int k = 0; k < 24; k++) {
            assertThat(b.centroid()[k]).isCloseTo(a.centroid()[k], offset(1e-6));
        }
        assertThat(b.sampleSize).isEqualTo(32);
        // int8 with a scale per row: each value within half a step (row max / 254) of the original
        for (int row = 0; row < 32; row++) {
            double max = 0;
            for (int k = 0; k < 24; k++) {
                max = Math.max(max, Math.abs(a.sample[row * 24 + k]));
            }
            for (int k = 0; k < 24; k++) {
                assertThat((double) b.sample[row * 24 + k]).isCloseTo(a.sample[row * 24 + k],
                        offset(max / 254 + 1e-6));
            }
        }
        // MMD between the original sample and its read-back copy: the copy is as good as the original (the unbiased
        // estimate of a sample against itself is about -1/31 of the mean off-diagonal kernel; against the copy the same)
        double sigma = p.bandwidth();
        assertThat(DriftMath.mmd2(a.sample, 32, b.sample, 32, 24, sigma))
                .isCloseTo(DriftMath.mmd2(a.sample, 32, a.sample, 32, 24, sigma), offset(1e-3));
    }

    @Test
    void rejectsAFileOfAnotherFormat() throws Exception {
        Path file = dir.resolve("p.json");
        Files.writeString(file, "{\"format\": \"something-else\"}");
        assertThatThrownBy(() -> ReferenceProfile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("labelstream profile");
    }
}
