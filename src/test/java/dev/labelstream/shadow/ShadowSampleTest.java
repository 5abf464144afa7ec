package dev.labelstream.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.io.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The shadow's sample: deterministic by key (the Kafka key, else the source position), the requested share of the
 * records, one key all in or all out, and nested across rates.
 */
class ShadowSampleTest {
    static final double[] RATES = {0.1, 0.25, 0.5};
    static final int RECORDS = 20_000;

    /** 20,000 distinct source positions over a few topics and partitions, no key. */
    static List<SourceRecord> positions() {
        List<SourceRecord> out = new ArrayList<>();
        String[] topics = {"texts", "other-texts"};
        for (int i = 0; i < RECORDS; i++) {
            String topic = topics[i % 2];
            int partition = (i / 2) % 4;
            long offset = i / 8;
            out.add(new SourceRecord(topic, partition, offset, 1_000L + i, null, new byte[] {1}, List.of()));
        }
        return out;
    }

    static SourceRecord keyed(String key, String topic, int partition, long offset) {
        return new SourceRecord(topic, partition, offset, offset, key.getBytes(StandardCharsets.UTF_8),
                ("v" + offset).getBytes(StandardCharsets.UTF_8), List.of());
    }

    @Test
    void theSameRecordGetsTheSameAnswerFromEveryInstance() {
        Random r = new Random(5);
        for (double rate : RATES) {
            ShadowSample a = new ShadowSample(rate);
            for (SourceRecord rec : positions()) {
                // a copy of the record (as a replay reads it), asked of a new instance
                SourceRecord replay = new SourceRecord(rec.topic(), rec.partition(), rec.offset(), rec.timestamp() + 7,
                        null, new byte[] {2}, List.of());
                boolean first = a.sampled(rec);
                assertThat(a.sampled(rec)).isEqualTo(first);
                assertThat(new ShadowSample(rate).sampled(replay)).isEqualTo(first);
            }
            for (int i = 0; i < 2_000; i++) {
                String key = "user-" + r.nextInt(1_000_000);
                assertThat(new ShadowSample(rate).sampled(keyed(key, "t", 0, i)))
                        .isEqualTo(a.sampled(keyed(key, "t", 0, i)));
            }
        }
    }

    @Test
    void rateOneSamplesEverything() {
        ShadowSample all = new ShadowSample(1.0);
        assertThat(all.rate()).isEqualTo(1.0);
        assertThat(positions()).allMatch(all::sampled);
        Random r = new Random(9);
        for (int i = 0; i < 1_000; i++) {
            assertThat(all.sampled(keyed("k" + r.nextLong(), "texts", r.nextInt(8), r.nextInt(1 << 20)))).isTrue();
        }
    }

    @Test
    void theSampledShareIsWithinThreeStandardDeviationsOfTheRate() {
        List<SourceRecord> records = positions();
        for (double rate : RATES) {
            ShadowSample s = new ShadowSample(rate);
            long in = records.stream().filter(s::sampled).count();
            double share = (double) in / RECORDS;
            double sd = Math.sqrt(rate * (1 - rate) / RECORDS);
            assertThat(Math.abs(share - rate)).as("share %s at rate %s (sd %s)", share, rate, sd)
                    .isLessThanOrEqualTo(3 * sd);

            // keyed records too: 20,000 distinct keys
            long keyedIn = 0;
            for (int i = 0; i < RECORDS; i++) {
                keyedIn += s.sampled(keyed("conversation-" + i, "texts", 0, i)) ? 1 : 0;
            }
            double keyedShare = (double) keyedIn / RECORDS;
            assertThat(Math.abs(keyedShare - rate)).as("keyed share %s at rate %s", keyedShare, rate)
                    .isLessThanOrEqualTo(3 * sd);
        }
    }

    @Test
    void recordsOfOneKeyAreAllInOrAllOut() {
        Random r = new Random(13);
        for (double rate : RATES) {
            ShadowSample s = new ShadowSample(rate);
            int keysIn = 0;
            for (int k = 0; k < 500; k++) {
                String key = "user-" + k;
                boolean first = s.sampled(keyed(key, "texts", r.nextInt(6), r.nextInt(1 << 24)));
                keysIn += first ? 1 : 0;
                for (int i = 0; i < 20; i++) {
                    String topic = r.nextBoolean() ? "texts" : "texts-replayed";
                    assertThat(s.sampled(keyed(key, topic, r.nextInt(6), r.nextInt(1 << 24))))
                            .as("key %s at rate %s", key, rate).isEqualTo(first);
                }
            }
            // both answers occur: the key decides, not a constant
            assertThat(keysIn).isStrictlyBetween(0, 500);
        }
    }

    @Test
    void aLowerRatesSampleIsASubsetOfAHigherRates() {
        List<SourceRecord> records = new ArrayList<>(positions());
        for (int i = 0; i < 5_000; i++) {
            records.add(keyed("key-" + i, "texts", i % 3, i));
        }
        double[] rates = {0.01, 0.1, 0.25, 0.5, 0.75, 0.999, 1.0};
        for (int i = 0; i < rates.length; i++) {
            for (int j = i + 1; j < rates.length; j++) {
                ShadowSample low = new ShadowSample(rates[i]);
                ShadowSample high = new ShadowSample(rates[j]);
                for (SourceRecord rec : records) {
                    if (low.sampled(rec)) {
                        assertThat(high.sampled(rec)).as("%s in the %s sample, so in the %s one", rec.position(),
                                rates[i], rates[j]).isTrue();
                    }
                }
            }
        }
    }

    @Test
    void fractionIsInTheUnitInterval() {
        Random r = new Random(21);
        for (int i = 0; i < 10_000; i++) {
            byte[] key = new byte[r.nextInt(40)];
            r.nextBytes(key);
            assertThat(ShadowSample.fraction(key)).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
        }
    }

    @Test
    void ratesOutsideZeroToOneAreRefusedNamingTheOption() {
        for (double bad : new double[] {0, -1, 1.5, Double.NaN, Double.POSITIVE_INFINITY, -0.0}) {
            assertThatThrownBy(() -> new ShadowSample(bad)).as("rate %s", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(ShadowOptions.SAMPLE_RATE.key())
                    .hasMessageContaining(String.valueOf(bad));
        }
        assertThat(new ShadowSample(Double.MIN_VALUE).rate()).isEqualTo(Double.MIN_VALUE);
    }
}
