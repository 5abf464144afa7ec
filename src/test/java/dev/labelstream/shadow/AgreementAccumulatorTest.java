package dev.labelstream.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.labelstream.shadow.AgreementObservation.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Properties of one window's agreement accumulator, over seeded random streams of observations: every figure it
 * gives equals the same figure counted directly from the stream, for models with the same labels, with the same
 * labels in another order, and with different label sets; and splitting a stream anywhere and merging the parts in
 * order gives the accumulator of the whole stream.
 */
class AgreementAccumulatorTest {
    static final List<String> HAM_SPAM = List.of("ham", "spam");
    static final List<String> SPAM_HAM = List.of("spam", "ham");
    static final List<String> HAM_SPAM_PHISHING = List.of("ham", "spam", "phishing");
    static final List<String> ACTIONS = List.of("ALLOW", "REVIEW", "BLOCK");
    static final long[] SEEDS = {1, 2, 3, 17, 42, 1234, 99_991};
    /** Label sets (primary, shadow) the properties hold for. */
    static final List<List<List<String>>> LABEL_SETS = List.of(
            List.of(HAM_SPAM, HAM_SPAM),
            List.of(HAM_SPAM, SPAM_HAM),
            List.of(HAM_SPAM, HAM_SPAM_PHISHING),
            List.of(HAM_SPAM_PHISHING, HAM_SPAM));
    static final String PAIR = AgreementObservation.pair("primary@1", "shadow@2");

    // ------------------------------------------------------------------------------------ random streams

    /** Random positive scores summing to ~1; sometimes one label dominates. */
    static float[] scores(Random r, int n) {
        float[] s = new float[n];
        float sum = 0;
        for (int i = 0; i < n; i++) {
            s[i] = r.nextFloat() + 1e-3f;
            sum += s[i];
        }
        if (r.nextInt(3) == 0) {
            s[r.nextInt(n)] += 3 * sum;
            sum *= 4;
        }
        for (int i = 0; i < n; i++) {
            s[i] /= sum;
        }
        return s;
    }

    /** {@code primary}'s scores re-ordered for {@code shadow}'s labels (0 for a label the primary lacks). */
    static float[] sameScores(float[] primary, List<String> primaryLabels, List<String> shadowLabels) {
        float[] s = new float[shadowLabels.size()];
        for (int j = 0; j < s.length; j++) {
            int i = primaryLabels.indexOf(shadowLabels.get(j));
            s[j] = i < 0 ? 0 : primary[i];
        }
        return s;
    }

    /**
     * {@code n} observations, ~80% compared (some with the shadow's scores equal to the primary's), the rest shed
     * or failed; unique input ids.
     */
    static List<AgreementObservation> stream(Random r, int n, List<String> primaryLabels, List<String> shadowLabels) {
        List<AgreementObservation> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] p = scores(r, primaryLabels.size());
            String pa = ACTIONS.get(r.nextInt(3));
            String id = "in-" + i;
            String decision = "d-" + i;
            int kind = r.nextInt(10);
            if (kind == 0) {
                out.add(new AgreementObservation(PAIR, i, Status.SHED, id, decision, primaryLabels, p, pa, null, null,
                        null));
            } else if (kind == 1) {
                out.add(new AgreementObservation(PAIR, i, Status.FAILED, id, decision, primaryLabels, p, pa, null,
                        null, null));
            } else {
                float[] s = kind == 2 ? sameScores(p, primaryLabels, shadowLabels) : scores(r, shadowLabels.size());
                String sa = r.nextBoolean() ? pa : ACTIONS.get(r.nextInt(3));
                out.add(new AgreementObservation(PAIR, i, Status.COMPARED, id, decision, primaryLabels, p, pa,
                        shadowLabels, s, sa));
            }
        }
        return out;
    }

    /** Observations where the shadow gives the primary's scores and action: always in agreement. */
    static List<AgreementObservation> agreeingStream(Random r, int n, List<String> labels) {
        List<AgreementObservation> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] p = scores(r, labels.size());
            String a = ACTIONS.get(r.nextInt(3));
            out.add(new AgreementObservation(PAIR, i, Status.COMPARED, "in-" + i, "d-" + i, labels, p, a, labels,
                    p.clone(), a));
        }
        return out;
    }

    static AgreementAccumulator fold(List<AgreementObservation> obs, int maxExamples) {
        AgreementAccumulator a = new AgreementAccumulator(maxExamples);
        obs.forEach(a::add);
        return a;
    }

    // ------------------------------------------------------------------------------------ direct counts

    /** First index of the highest score. */
    static int top(float[] s) {
        int best = 0;
        for (int i = 1; i < s.length; i++) {
            if (s[i] > s[best]) {
                best = i;
            }
        }
        return best;
    }

    static String topLabel(List<String> labels, float[] s) {
        return labels.get(top(s));
    }

    static List<AgreementObservation> compared(List<AgreementObservation> obs) {
        return obs.stream().filter(o -> o.status() == Status.COMPARED).toList();
    }

    static long count(List<AgreementObservation> obs, Status status) {
        return obs.stream().filter(o -> o.status() == status).count();
    }

    static long confusion(List<AgreementObservation> obs, String primary, String shadow) {
        return compared(obs).stream().filter(o -> topLabel(o.primaryLabels(), o.primaryScores()).equals(primary)
                && topLabel(o.shadowLabels(), o.shadowScores()).equals(shadow)).count();
    }

    static long agreed(List<AgreementObservation> obs) {
        return compared(obs).stream().filter(o -> topLabel(o.primaryLabels(), o.primaryScores())
                .equals(topLabel(o.shadowLabels(), o.shadowScores()))).count();
    }

    static long actions(List<AgreementObservation> obs, String from, String to) {
        return compared(obs).stream().filter(o -> o.primaryAction().equals(from) && o.shadowAction().equals(to))
                .count();
    }

    static double meanAbsDifference(List<AgreementObservation> obs, String label) {
        List<AgreementObservation> c = compared(obs);
        double sum = 0;
        for (AgreementObservation o : c) {
            sum += Math.abs(o.primaryScores()[o.primaryLabels().indexOf(label)]
                    - o.shadowScores()[o.shadowLabels().indexOf(label)]);
        }
        return sum / c.size();
    }

    /** Total variation over the labels both have, plus 1 when the top labels differ. */
    static double distance(AgreementObservation o) {
        double tv = 0;
        for (int i = 0; i < o.primaryLabels().size(); i++) {
            int j = o.shadowLabels().indexOf(o.primaryLabels().get(i));
            if (j >= 0) {
                tv += Math.abs(o.primaryScores()[i] - o.shadowScores()[j]);
            }
        }
        return tv / 2 + (disagrees(o) ? 1 : 0);
    }

    static boolean disagrees(AgreementObservation o) {
        return !topLabel(o.primaryLabels(), o.primaryScores()).equals(topLabel(o.shadowLabels(), o.shadowScores()));
    }

    /** The records of {@code obs} with the {@code k} largest (non-zero) distances, largest first, ties by id. */
    static List<String> largest(List<AgreementObservation> obs, int k) {
        return compared(obs).stream().filter(o -> distance(o) > 0)
                .sorted(Comparator.comparingDouble(AgreementAccumulatorTest::distance).reversed()
                        .thenComparing(AgreementObservation::inputId))
                .limit(k).map(AgreementObservation::inputId).toList();
    }

    static List<String> union(List<String> primary, List<String> shadow) {
        LinkedHashSet<String> all = new LinkedHashSet<>(primary);
        all.addAll(shadow);
        return List.copyOf(all);
    }

    // ------------------------------------------------------------------------------------ properties

    /** Every figure of {@code a} equals the direct count over {@code obs}. */
    static void assertMatchesDirectCounts(AgreementAccumulator a, List<AgreementObservation> obs, int maxExamples,
            List<String> primaryLabels, List<String> shadowLabels) {
        long compared = count(obs, Status.COMPARED);
        assertThat(a.compared()).as("compared").isEqualTo(compared);
        assertThat(a.shed()).as("shed").isEqualTo(count(obs, Status.SHED));
        assertThat(a.failed()).as("failed").isEqualTo(count(obs, Status.FAILED));
        assertThat(a.compared() + a.shed() + a.failed()).isEqualTo(obs.size());
        assertThat(a.primaryLabels()).isEqualTo(primaryLabels);
        assertThat(a.shadowLabels()).isEqualTo(shadowLabels);

        long cells = 0;
        long diagonal = 0;
        for (String p : primaryLabels) {
            for (String s : shadowLabels) {
                long n = a.confusion(p, s);
                assertThat(n).as("confusion(%s, %s)", p, s).isEqualTo(confusion(obs, p, s));
                cells += n;
                diagonal += p.equals(s) ? n : 0;
            }
        }
        // a label neither model has, and one only the other side has, count nothing
        assertThat(a.confusion("nolabel", shadowLabels.get(0))).isZero();
        assertThat(cells).as("confusion cells").isEqualTo(compared);
        assertThat(a.agreed()).isEqualTo(diagonal).isEqualTo(agreed(obs));
        assertThat(a.agreement()).isEqualTo((double) diagonal / compared);

        long actionCells = 0;
        long offDiagonal = 0;
        for (String from : ACTIONS) {
            for (String to : ACTIONS) {
                long n = a.actions(from, to);
                assertThat(n).as("actions(%s, %s)", from, to).isEqualTo(actions(obs, from, to));
                actionCells += n;
                offDiagonal += from.equals(to) ? 0 : n;
            }
        }
        assertThat(actionCells).as("action cells").isEqualTo(compared);
        assertThat(a.actionsChanged()).isEqualTo(offDiagonal);

        for (String l : union(primaryLabels, shadowLabels)) {
            if (primaryLabels.contains(l) && shadowLabels.contains(l)) {
                assertThat(a.meanAbsScoreDifference(l)).as("mean abs difference of %s", l)
                        .isCloseTo(meanAbsDifference(obs, l), offset(1e-9));
            } else {
                assertThat(a.meanAbsScoreDifference(l)).as("mean abs difference of %s (one side only)", l).isNaN();
            }
        }

        assertExamples(a, obs, maxExamples);

        // label-mix PSI: 0 exactly when both sides' top-label mixes are equal, positive otherwise
        boolean sameMix = union(primaryLabels, shadowLabels).stream().allMatch(l ->
                compared(obs).stream().filter(o -> topLabel(o.primaryLabels(), o.primaryScores()).equals(l)).count()
                        == compared(obs).stream().filter(o -> topLabel(o.shadowLabels(), o.shadowScores()).equals(l))
                        .count());
        if (sameMix) {
            assertThat(a.labelMixPsi()).as("PSI of equal mixes").isZero();
        } else {
            assertThat(a.labelMixPsi()).as("PSI of different mixes").isPositive();
        }
    }

    static void assertExamples(AgreementAccumulator a, List<AgreementObservation> obs, int maxExamples) {
        List<AgreementAccumulator.Example> ex = a.examples();
        assertThat(ex.size()).isLessThanOrEqualTo(Math.max(0, maxExamples));
        for (int i = 1; i < ex.size(); i++) {
            assertThat(ex.get(i).distance()).as("sorted by distance, largest first")
                    .isLessThanOrEqualTo(ex.get(i - 1).distance());
        }
        assertThat(ex).extracting(AgreementAccumulator.Example::inputId)
                .as("the records with the largest distances").isEqualTo(largest(obs, maxExamples));
        List<AgreementObservation> c = compared(obs);
        for (AgreementAccumulator.Example e : ex) {
            AgreementObservation o = c.stream().filter(x -> x.inputId().equals(e.inputId())).findFirst().orElseThrow();
            assertThat(e.distance()).isCloseTo(distance(o), offset(1e-12));
            assertThat(e.primaryDecisionId()).isEqualTo(o.primaryDecisionId());
            assertThat(e.primaryLabel()).isEqualTo(topLabel(o.primaryLabels(), o.primaryScores()));
            assertThat(e.shadowLabel()).isEqualTo(topLabel(o.shadowLabels(), o.shadowScores()));
        }
        // a record whose top labels differ ranks above every record whose top labels agree
        long disagreements = c.stream().filter(AgreementAccumulatorTest::disagrees).count();
        long shown = ex.stream().filter(e -> !e.primaryLabel().equals(e.shadowLabel())).count();
        assertThat(shown).as("disagreements among the examples")
                .isEqualTo(Math.min(disagreements, Math.max(0, maxExamples)));
        for (int i = 0; i < ex.size(); i++) {
            boolean differs = !ex.get(i).primaryLabel().equals(ex.get(i).shadowLabel());
            assertThat(differs).as("example %d is a disagreement iff it is among the first %d", i, shown)
                    .isEqualTo(i < shown);
        }
    }

    @Test
    void everyFigureEqualsTheDirectCountOverRandomStreams() {
        for (List<List<String>> labels : LABEL_SETS) {
            for (long seed : SEEDS) {
                Random r = new Random(seed);
                int n = 1 + r.nextInt(400);
                int maxExamples = List.of(0, 1, 3, 5, 50).get(r.nextInt(5));
                List<AgreementObservation> obs = stream(r, n, labels.get(0), labels.get(1));
                if (compared(obs).isEmpty()) {
                    continue;
                }
                assertMatchesDirectCounts(fold(obs, maxExamples), obs, maxExamples, labels.get(0), labels.get(1));
            }
        }
    }

    @Test
    void mergingTheAccumulatorsOfASplitStreamEqualsTheWholeStream() {
        for (List<List<String>> labels : LABEL_SETS) {
            for (long seed : SEEDS) {
                Random r = new Random(seed);
                int n = 2 + r.nextInt(300);
                int maxExamples = 1 + r.nextInt(6);
                List<AgreementObservation> obs = stream(r, n, labels.get(0), labels.get(1));
                AgreementAccumulator whole = fold(obs, maxExamples);
                // every two-way split, at the ends too (an empty part), for a short prefix; random ones beyond
                List<int[]> splits = new ArrayList<>();
                for (int at = 0; at <= Math.min(n, 12); at++) {
                    splits.add(new int[] {at});
                }
                splits.add(new int[] {n});
                for (int k = 0; k < 20; k++) {
                    int a = r.nextInt(n + 1);
                    int b = a + r.nextInt(n - a + 1);
                    splits.add(new int[] {a, b});
                }
                for (int[] split : splits) {
                    AgreementAccumulator merged = new AgreementAccumulator(maxExamples);
                    int from = 0;
                    for (int i = 0; i <= split.length; i++) {
                        int to = i < split.length ? split[i] : n;
                        merged = merged.merge(fold(obs.subList(from, to), maxExamples));
                        from = to;
                    }
                    assertSame(merged, whole, labels.get(0), labels.get(1));
                    if (!compared(obs).isEmpty()) {
                        assertMatchesDirectCounts(merged, obs, maxExamples, labels.get(0), labels.get(1));
                    }
                }
            }
        }
    }

    /** {@code a} and {@code b} give the same figures (sums of doubles to rounding). */
    static void assertSame(AgreementAccumulator a, AgreementAccumulator b, List<String> primaryLabels,
            List<String> shadowLabels) {
        assertThat(a.compared()).isEqualTo(b.compared());
        assertThat(a.shed()).isEqualTo(b.shed());
        assertThat(a.failed()).isEqualTo(b.failed());
        assertThat(a.agreed()).isEqualTo(b.agreed());
        assertThat(a.agreement()).isEqualTo(b.agreement());
        assertThat(a.primaryLabels()).isEqualTo(b.primaryLabels());
        assertThat(a.shadowLabels()).isEqualTo(b.shadowLabels());
        for (String p : primaryLabels) {
            for (String s : shadowLabels) {
                assertThat(a.confusion(p, s)).isEqualTo(b.confusion(p, s));
            }
        }
        for (String from : ACTIONS) {
            for (String to : ACTIONS) {
                assertThat(a.actions(from, to)).isEqualTo(b.actions(from, to));
            }
        }
        assertThat(a.actionsChanged()).isEqualTo(b.actionsChanged());
        for (String l : union(primaryLabels, shadowLabels)) {
            double x = a.meanAbsScoreDifference(l);
            double y = b.meanAbsScoreDifference(l);
            if (Double.isNaN(y)) {
                assertThat(x).isNaN();
            } else {
                assertThat(x).isCloseTo(y, offset(1e-9));
            }
        }
        if (Double.isNaN(b.labelMixPsi())) {
            assertThat(a.labelMixPsi()).isNaN();
        } else {
            assertThat(a.labelMixPsi()).isEqualTo(b.labelMixPsi());
        }
        assertThat(a.examples()).isEqualTo(b.examples());
    }

    @Test
    void nothingComparedGivesNaNsAndEmptyLabels() {
        AgreementAccumulator a = new AgreementAccumulator(5);
        assertThat(a.agreement()).isNaN();
        assertThat(a.labelMixPsi()).isNaN();
        Random r = new Random(3);
        List<AgreementObservation> notScored = stream(r, 200, HAM_SPAM, HAM_SPAM).stream()
                .filter(o -> o.status() != Status.COMPARED).toList();
        notScored.forEach(a::add);
        assertThat(a.compared()).isZero();
        assertThat(a.shed() + a.failed()).isEqualTo(notScored.size());
        assertThat(a.shed()).isEqualTo(count(notScored, Status.SHED)).isPositive();
        assertThat(a.agreement()).isNaN();
        assertThat(a.labelMixPsi()).isNaN();
        assertThat(a.meanAbsScoreDifference("ham")).isNaN();
        assertThat(a.primaryLabels()).isEmpty();
        assertThat(a.shadowLabels()).isEmpty();
        assertThat(a.confusion("ham", "ham")).isZero();
        assertThat(a.actionsChanged()).isZero();
        assertThat(a.examples()).isEmpty();
    }

    @Test
    void labelMixPsiIsZeroForEqualMixesAndPositiveOtherwise() {
        for (long seed : SEEDS) {
            Random r = new Random(seed);
            // the shadow agrees everywhere: the same mix
            AgreementAccumulator same = fold(agreeingStream(r, 1 + r.nextInt(200), HAM_SPAM), 5);
            assertThat(same.agreement()).isEqualTo(1.0);
            assertThat(same.labelMixPsi()).isZero();
            assertThat(same.actionsChanged()).isZero();
            assertThat(same.examples()).isEmpty();
        }
        // every record disagrees, but as many go ham -> spam as spam -> ham: the mixes are equal
        AgreementAccumulator swapped = new AgreementAccumulator(5);
        float[] ham = {0.8f, 0.2f};
        float[] spam = {0.3f, 0.7f};
        for (int i = 0; i < 50; i++) {
            swapped.add(new AgreementObservation(PAIR, i, Status.COMPARED, "a" + i, "d", HAM_SPAM, ham, "ALLOW",
                    HAM_SPAM, spam, "BLOCK"));
            swapped.add(new AgreementObservation(PAIR, i, Status.COMPARED, "b" + i, "d", HAM_SPAM, spam, "BLOCK",
                    HAM_SPAM, ham, "ALLOW"));
        }
        assertThat(swapped.agreement()).isZero();
        assertThat(swapped.labelMixPsi()).isZero();
        assertThat(swapped.actionsChanged()).isEqualTo(100);
        // one more ham -> spam: different mixes
        swapped.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "c", "d", HAM_SPAM, ham, "ALLOW", HAM_SPAM,
                spam, "BLOCK"));
        assertThat(swapped.labelMixPsi()).isPositive();
        // a shadow label the primary lacks is a bin of its own
        AgreementAccumulator phishing = new AgreementAccumulator(5);
        phishing.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "p", "d", HAM_SPAM, ham, "ALLOW",
                HAM_SPAM_PHISHING, new float[] {0.5f, 0.1f, 0.4f}, "ALLOW"));
        phishing.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "q", "d", HAM_SPAM, ham, "ALLOW",
                HAM_SPAM_PHISHING, new float[] {0.1f, 0.1f, 0.8f}, "ALLOW"));
        assertThat(phishing.confusion("ham", "phishing")).isEqualTo(1);
        assertThat(phishing.labelMixPsi()).isPositive();
    }

    @Test
    void differentLabelSetsCompareTheSharedLabelsOnly() {
        float[] p = {0.9f, 0.1f};
        float[] s = {0.2f, 0.1f, 0.7f};
        AgreementAccumulator a = new AgreementAccumulator(5);
        a.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "x", "dx", HAM_SPAM, p, "ALLOW", HAM_SPAM_PHISHING,
                s, "REVIEW"));
        assertThat(a.primaryLabels()).isEqualTo(HAM_SPAM);
        assertThat(a.shadowLabels()).isEqualTo(HAM_SPAM_PHISHING);
        assertThat(a.confusion("ham", "phishing")).isEqualTo(1);
        assertThat(a.agreement()).isZero();
        assertThat(a.meanAbsScoreDifference("ham")).isCloseTo(0.7, offset(1e-6));
        assertThat(a.meanAbsScoreDifference("spam")).isCloseTo(0.0, offset(1e-6));
        // phishing is the shadow's only: no difference to give
        assertThat(a.meanAbsScoreDifference("phishing")).isNaN();
        // total variation over ham and spam (0.7 / 2), plus 1 for the different top label
        assertThat(a.examples()).singleElement().satisfies(e -> {
            assertThat(e.distance()).isCloseTo(1.35, offset(1e-6));
            assertThat(e.primaryLabel()).isEqualTo("ham");
            assertThat(e.shadowLabel()).isEqualTo("phishing");
        });

        // the other way round: a label only the primary has
        AgreementAccumulator b = new AgreementAccumulator(5);
        b.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "y", "dy", HAM_SPAM_PHISHING, s, "BLOCK", HAM_SPAM,
                p, "ALLOW"));
        assertThat(b.meanAbsScoreDifference("phishing")).isNaN();
        assertThat(b.meanAbsScoreDifference("ham")).isCloseTo(0.7, offset(1e-6));
        assertThat(b.confusion("phishing", "ham")).isEqualTo(1);
        assertThat(b.actions("BLOCK", "ALLOW")).isEqualTo(1);
        assertThat(b.actionsChanged()).isEqualTo(1);
    }

    /**
     * The accumulator is the window's state, written by Flink's serializer for it at every checkpoint: it reads back
     * with the same figures, and its size does not grow with the records.
     */
    @Test
    void flinksSerializerRoundTripsItAndItsSizeIsBounded() throws Exception {
        TypeSerializer<AgreementAccumulator> serializer = TypeInformation.of(AgreementAccumulator.class)
                .createSerializer(new SerializerConfigImpl());
        for (List<List<String>> labels : LABEL_SETS) {
            Random r = new Random(7);
            List<AgreementObservation> obs = stream(r, 1_000, labels.get(0), labels.get(1));
            AgreementAccumulator a = fold(obs, 5);
            int after1k = bytes(serializer, a).length;
            AgreementAccumulator back = serializer.deserialize(new DataInputDeserializer(bytes(serializer, a)));
            assertSame(back, a, labels.get(0), labels.get(1));
            assertSame(serializer.copy(a), a, labels.get(0), labels.get(1));
            // the read-back accumulator keeps folding as the original does
            List<AgreementObservation> more = stream(r, 1_000, labels.get(0), labels.get(1));
            more.forEach(back::add);
            more.forEach(a::add);
            assertSame(back, a, labels.get(0), labels.get(1));
            for (int i = 0; i < 20; i++) {
                stream(r, 1_000, labels.get(0), labels.get(1)).forEach(a::add);
            }
            // the same structure; the counters' bytes may vary a little with the serializer's integer encoding
            assertThat(bytes(serializer, a).length).isBetween(after1k - 64, after1k + 64);
        }
        AgreementAccumulator empty = new AgreementAccumulator(5);
        AgreementAccumulator back = serializer.deserialize(new DataInputDeserializer(bytes(serializer, empty)));
        assertThat(back.compared()).isZero();
        assertThat(back.agreement()).isNaN();
    }

    static byte[] bytes(TypeSerializer<AgreementAccumulator> s, AgreementAccumulator a) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(1 << 12);
        s.serialize(a, out);
        return out.getCopyOfBuffer();
    }
}
