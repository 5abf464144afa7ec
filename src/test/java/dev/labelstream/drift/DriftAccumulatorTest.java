package dev.labelstream.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class DriftAccumulatorTest {
    static final int DIM = 384;

    static DriftObservation obs(int top, float confidence, int tokens, boolean truncated, int unknown, float[] e) {
        float[] scores = {1 - confidence, confidence};
        if (top == 0) {
            scores = new float[] {confidence, 1 - confidence};
        }
        return new DriftObservation("m", "1", false, scores, top, confidence, tokens, truncated, unknown, e, 0L, 0L);
    }

    @Test
    void countsHistogramsAndRates() {
        DriftAccumulator a = new DriftAccumulator(4, 1);
        a.add(obs(1, 0.95f, 10, false, 0, null));
        a.add(obs(0, 0.55f, 300, true, 3, null));
        a.add(obs(1, 0.60f, 16, false, 1, null));
        a.add(DriftObservation.unclassified("m", "1", 0L, 0L));
        assertThat(a.records).isEqualTo(4);
        assertThat(a.classified()).isEqualTo(3);
        assertThat(a.labelCounts).containsExactly(1, 2);
        assertThat(a.meanConfidence()).isCloseTo((0.95 + 0.55 + 0.60) / 3, offset(1e-6));
        // below 0.6: only 0.55 (0.60 falls in the bin [0.60, 0.61))
        assertThat(a.shareBelow(0.6)).isCloseTo(1.0 / 3, offset(1e-9));
        assertThat(a.shareBelow(0.61)).isCloseTo(2.0 / 3, offset(1e-9));
        // token bins: 10 -> [0,16), 16 -> [16,32), 300 -> [256,384)
        assertThat(a.tokenHistogram[0]).isEqualTo(1);
        assertThat(a.tokenHistogram[1]).isEqualTo(1);
        assertThat(a.tokenHistogram[6]).isEqualTo(1);
        assertThat(a.truncationRate()).isCloseTo(1.0 / 3, offset(1e-9));
        assertThat(a.unknownTokenRate()).isCloseTo(4.0 / 326, offset(1e-9));
        assertThat(a.deadLetterRate()).isCloseTo(0.25, offset(1e-9));
        assertThat(a.embeddings).isZero();
        assertThat(a.centroid()).isNull();
    }

    @Test
    void tokenBinEdges() {
        assertThat(DriftAccumulator.tokenBin(0)).isEqualTo(0);
        assertThat(DriftAccumulator.tokenBin(15)).isEqualTo(0);
        assertThat(DriftAccumulator.tokenBin(16)).isEqualTo(1);
        assertThat(DriftAccumulator.tokenBin(256)).isEqualTo(6);
        assertThat(DriftAccumulator.tokenBin(1023)).isEqualTo(8);
        assertThat(DriftAccumulator.tokenBin(5000)).isEqualTo(9);
    }

    @Test
    void theReservoirIsAUniformSampleOfAllEmbeddingsAndTheCentroidTheirMean() {
        // 10,000 one-dimensional embeddings 0..9999 into a sample of 100, 200 times with different seeds: each
        // value is kept with chance 1/100, so the mean of the sample means is ~4999.5.
        double meanOfMeans = 0;
        int runs = 200;
        for (int run = 0; run < runs; run++) {
            DriftAccumulator a = new DriftAccumulator(100, run);
            for (int i = 0; i < 10_000; i++) {
                a.add(obs(0, 0.9f, 20, false, 0, new float[] {i}));
            }
            assertThat(a.sampleSize).isEqualTo(100);
            assertThat(a.centroid()[0]).isCloseTo(4999.5, offset(1e-6));
            double m = 0;
            for (int i = 0; i < 100; i++) {
                m += a.sample[i];
            }
            meanOfMeans += m / 100 / runs;
        }
        // standard error of the mean of means: 2887 / sqrt(100 * 200) ~ 20
        assertThat(meanOfMeans).isCloseTo(4999.5, offset(100.0));
    }

    @Test
    void sameSeedSameSample() {
        DriftAccumulator a = new DriftAccumulator(8, 7);
        DriftAccumulator b = new DriftAccumulator(8, 7);
        for (int i = 0; i < 1000; i++) {
            a.add(obs(0, 0.9f, 20, false, 0, new float[] {i, -i}));
            b.add(obs(0, 0.9f, 20, false, 0, new float[] {i, -i}));
        }
        assertThat(a.sample).containsExactly(b.sample);
    }

    @Test
    void mergeAddsCountsAndKeepsTheSampleBounded() {
        DriftAccumulator a = new DriftAccumulator(16, 1);
        DriftAccumulator b = new DriftAccumulator(16, 2);
        DriftAccumulator all = new DriftAccumulator(16, 3);
        Random r = new Random(5);
        for (int i = 0; i < 300; i++) {
            DriftObservation o = obs(r.nextInt(3), r.nextFloat(), r.nextInt(600), r.nextBoolean(), r.nextInt(3),
                    new float[] {r.nextFloat(), r.nextFloat()});
            (i % 3 == 0 ? a : b).add(o);
            all.add(o);
        }
        a.merge(b);
        assertThat(a.records).isEqualTo(all.records);
        assertThat(a.labelCounts).containsExactly(all.labelCounts);
        assertThat(a.confidenceHistogram).containsExactly(all.confidenceHistogram);
        assertThat(a.tokenHistogram).containsExactly(all.tokenHistogram);
        assertThat(a.tokens).isEqualTo(all.tokens);
        assertThat(a.unknownTokens).isEqualTo(all.unknownTokens);
        assertThat(a.truncated).isEqualTo(all.truncated);
        assertThat(a.embeddings).isEqualTo(300);
        assertThat(a.centroid()[0]).isCloseTo(all.centroid()[0], offset(1e-9));
        assertThat(a.sampleSize).isEqualTo(16);
        assertThat(a.sample).hasSize(16 * 2);
    }

    @Test
    void isAFlinkPojoAndTheObservationToo() {
        assertThat(TypeInformation.of(DriftAccumulator.class)).isInstanceOf(PojoTypeInfo.class);
        assertThat(TypeInformation.of(DriftObservation.class)).isInstanceOf(PojoTypeInfo.class);
    }

    /**
     * The window state is one accumulator: its serialized size (Flink's own serializer for it, as the window
     * operator writes it) is the same after 1,000 and after 1,000,000 inputs, and below a fixed bound.
     */
    @Test
    void serializedSizeIsBoundedWhateverTheNumberOfInputs() throws Exception {
        TypeSerializer<DriftAccumulator> serializer = TypeInformation.of(DriftAccumulator.class)
                .createSerializer(new SerializerConfigImpl());
        DriftAccumulator a = new DriftAccumulator(128, DriftSettings.SEED);
        float[][] embeddings = new float[64][DIM];
        Random r = new Random(1);
        for (float[] e : embeddings) {
            for (int i = 0; i < DIM; i++) {
                e[i] = (float) r.nextGaussian();
            }
        }
        int n = 0;
        for (; n < 1_000; n++) {
            a.add(obs(n % 2, 0.5f + (n % 50) / 100f, n % 700, n % 7 == 0, n % 3, embeddings[n % 64]));
        }
        int after1k = size(serializer, a);
        for (; n < 1_000_000; n++) {
            a.add(n % 100 == 0 ? DriftObservation.unclassified("m", "1", 0L, 0L)
                    : obs(n % 2, 0.5f + (n % 50) / 100f, n % 700, n % 7 == 0, n % 3, embeddings[n % 64]));
        }
        int after1m = size(serializer, a);
        assertThat(a.records).isEqualTo(1_000_000);
        assertThat(after1m).isEqualTo(after1k);
        // 128 x 384 floats of sample + 384 doubles of sum + ~120 longs of histograms and counters
        assertThat(after1m).isLessThan(128 * DIM * 4 + DIM * 8 + 4096);
        // and it reads back equal
        DriftAccumulator back = serializer.deserialize(new org.apache.flink.core.memory.DataInputDeserializer(
                bytes(serializer, a)));
        assertThat(back.records).isEqualTo(a.records);
        assertThat(back.sample).containsExactly(a.sample);
    }

    static int size(TypeSerializer<DriftAccumulator> s, DriftAccumulator a) throws Exception {
        return bytes(s, a).length;
    }

    static byte[] bytes(TypeSerializer<DriftAccumulator> s, DriftAccumulator a) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        s.serialize(a, out);
        return out.getCopyOfBuffer();
    }
}
