package dev.labelstream.shadow;

import static dev.labelstream.shadow.AgreementAccumulatorTest.ACTIONS;
import static dev.labelstream.shadow.AgreementAccumulatorTest.HAM_SPAM;
import static dev.labelstream.shadow.AgreementAccumulatorTest.HAM_SPAM_PHISHING;
import static dev.labelstream.shadow.AgreementAccumulatorTest.LABEL_SETS;
import static dev.labelstream.shadow.AgreementAccumulatorTest.PAIR;
import static dev.labelstream.shadow.AgreementAccumulatorTest.SEEDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.labelstream.avro.ActionPair;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.LabelPair;
import dev.labelstream.avro.LabelValue;
import dev.labelstream.shadow.AgreementObservation.Status;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The agreement report of one window ({@link AgreementMonitor#report}): its status and its lists. */
class AgreementMonitorTest {
    static final float[] HAM = {0.8f, 0.2f};
    static final float[] SPAM = {0.3f, 0.7f};

    /** {@code n} compared records of which {@code agreeing} have the same top label, plus shed and failed ones. */
    static AgreementAccumulator window(int n, int agreeing, int shed, int failed) {
        AgreementAccumulator a = new AgreementAccumulator(5);
        for (int i = 0; i < n; i++) {
            a.add(new AgreementObservation(PAIR, i, Status.COMPARED, "in-" + i, "d-" + i, HAM_SPAM, HAM, "ALLOW",
                    HAM_SPAM, i < agreeing ? HAM : SPAM, i < agreeing ? "ALLOW" : "BLOCK"));
        }
        for (int i = 0; i < shed + failed; i++) {
            a.add(new AgreementObservation(PAIR, i, i < shed ? Status.SHED : Status.FAILED, "x-" + i, "dx-" + i,
                    HAM_SPAM, HAM, "ALLOW", null, null, null));
        }
        return a;
    }

    static Configuration conf(int minRecords, double warn, double alert) {
        Configuration c = new Configuration();
        c.set(ShadowOptions.MIN_RECORDS, minRecords);
        c.set(ShadowOptions.AGREEMENT_WARN, warn);
        c.set(ShadowOptions.AGREEMENT_ALERT, alert);
        return c;
    }

    static AgreementReport report(AgreementAccumulator a, Configuration c) {
        return AgreementMonitor.report(PAIR, 1_000, 61_000, a, c);
    }

    /** What the status must be, from the option descriptions. */
    static String expectedStatus(long compared, double agreement, int minRecords, double warn, double alert) {
        if (compared < minRecords) {
            return AgreementMonitor.TOO_FEW;
        }
        if (agreement < alert) {
            return AgreementMonitor.ALERT;
        }
        return agreement < warn ? AgreementMonitor.WARN : AgreementMonitor.OK;
    }

    @Test
    void statusAtTheDefaultThresholds() {
        Configuration c = new Configuration();
        // defaults: min-records 20, warn 0.95, alert 0.90
        assertThat(report(window(19, 19, 50, 50), c).getStatus()).isEqualTo(AgreementMonitor.TOO_FEW);
        assertThat(report(window(19, 0, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.TOO_FEW);
        assertThat(report(window(20, 20, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.OK);
        assertThat(report(window(100, 89, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.ALERT);
        // at a threshold is not below it
        assertThat(report(window(100, 90, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.WARN);
        assertThat(report(window(100, 94, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.WARN);
        assertThat(report(window(100, 95, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.OK);
        assertThat(report(window(100, 100, 0, 0), c).getStatus()).isEqualTo(AgreementMonitor.OK);
        // shed and failed records are not compared: they neither judge a window nor lower its agreement
        assertThat(report(window(10, 0, 1_000, 1_000), c).getStatus()).isEqualTo(AgreementMonitor.TOO_FEW);
        assertThat(report(window(20, 20, 1_000, 1_000), c).getStatus()).isEqualTo(AgreementMonitor.OK);
    }

    @Test
    void statusFollowsTheThresholdsForRandomWindows() {
        Random r = new Random(11);
        for (int k = 0; k < 500; k++) {
            int n = 1 + r.nextInt(120);
            int agreeing = r.nextInt(n + 1);
            int minRecords = 1 + r.nextInt(60);
            double warn = r.nextInt(5) == 0 ? (double) r.nextInt(n + 1) / n : r.nextDouble();
            double alert = r.nextInt(5) == 0 ? warn : warn * r.nextDouble();
            Configuration c = conf(minRecords, warn, alert);
            AgreementReport rep = report(window(n, agreeing, r.nextInt(5), r.nextInt(5)), c);
            double agreement = (double) agreeing / n;
            assertThat(rep.getAgreement()).isEqualTo(agreement);
            assertThat(rep.getStatus()).as("n %d, agreeing %d, min %d, warn %s, alert %s", n, agreeing, minRecords,
                    warn, alert).isEqualTo(expectedStatus(n, agreement, minRecords, warn, alert));
            assertThat(rep.getAgreementWarn()).isEqualTo(warn);
            assertThat(rep.getAgreementAlert()).isEqualTo(alert);
        }
    }

    @Test
    void theListsHoldExactlyTheNonZeroCellsAndTheCountsAddUp() {
        Configuration c = new Configuration();
        for (List<List<String>> labels : LABEL_SETS) {
            for (long seed : SEEDS) {
                Random r = new Random(seed);
                List<AgreementObservation> obs = AgreementAccumulatorTest.stream(r, 1 + r.nextInt(300),
                        labels.get(0), labels.get(1));
                AgreementAccumulator a = AgreementAccumulatorTest.fold(obs, 5);
                AgreementReport rep = report(a, c);

                assertThat(rep.getSampled()).isEqualTo(obs.size())
                        .isEqualTo(rep.getCompared() + rep.getShed() + rep.getFailed());
                assertThat(rep.getCompared()).isEqualTo(AgreementAccumulatorTest.count(obs, Status.COMPARED));
                assertThat(rep.getShed()).isEqualTo(AgreementAccumulatorTest.count(obs, Status.SHED));
                assertThat(rep.getFailed()).isEqualTo(AgreementAccumulatorTest.count(obs, Status.FAILED));

                Set<List<Object>> cells = new HashSet<>();
                for (String p : labels.get(0)) {
                    for (String s : labels.get(1)) {
                        long n = AgreementAccumulatorTest.confusion(obs, p, s);
                        if (n > 0) {
                            cells.add(List.of(p, s, n));
                        }
                    }
                }
                List<List<Object>> reported = new ArrayList<>();
                for (LabelPair l : rep.getConfusion()) {
                    assertThat(l.getCount()).isPositive();
                    reported.add(List.of(l.getPrimary(), l.getShadow(), l.getCount()));
                }
                assertThat(reported).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(cells);

                Set<List<Object>> actionCells = new HashSet<>();
                for (String from : ACTIONS) {
                    for (String to : ACTIONS) {
                        long n = AgreementAccumulatorTest.actions(obs, from, to);
                        if (n > 0) {
                            actionCells.add(List.of(from, to, n));
                        }
                    }
                }
                List<List<Object>> reportedActions = new ArrayList<>();
                for (ActionPair p : rep.getActions()) {
                    assertThat(p.getCount()).isPositive();
                    reportedActions.add(List.of(p.getPrimary(), p.getShadow(), p.getCount()));
                }
                assertThat(reportedActions).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(actionCells);
                assertThat(rep.getActionsChanged()).isEqualTo(rep.getActions().stream()
                        .filter(p -> !p.getPrimary().equals(p.getShadow())).mapToLong(ActionPair::getCount).sum());

                assertThat(rep.getPrimaryLabels()).isEqualTo(labels.get(0));
                assertThat(rep.getShadowLabels()).isEqualTo(labels.get(1));
                // mean absolute differences: the labels both models have, none other
                List<String> shared = labels.get(0).stream().filter(labels.get(1)::contains).toList();
                assertThat(rep.getMeanAbsScoreDifference()).extracting(LabelValue::getLabel)
                        .containsExactlyElementsOf(shared);
                for (LabelValue v : rep.getMeanAbsScoreDifference()) {
                    assertThat(v.getValue()).isCloseTo(AgreementAccumulatorTest.meanAbsDifference(obs, v.getLabel()),
                            offset(1e-9));
                }
                assertThat(rep.getLargestDisagreements()).extracting(d -> d.getInputId())
                        .isEqualTo(AgreementAccumulatorTest.largest(obs, 5));
                assertThat(rep.getAgreement()).isEqualTo(a.agreement());
                assertThat(rep.getLabelMixPsi()).isEqualTo(a.labelMixPsi());
            }
        }
    }

    @Test
    void nothingComparedHasNoAgreementAndIsNotJudged() {
        AgreementReport rep = report(window(0, 0, 7, 3), conf(1, 0.95, 0.9));
        assertThat(rep.getAgreement()).isNull();
        assertThat(rep.getLabelMixPsi()).isNull();
        assertThat(rep.getStatus()).isEqualTo(AgreementMonitor.TOO_FEW);
        assertThat(rep.getSampled()).isEqualTo(10);
        assertThat(rep.getCompared()).isZero();
        assertThat(rep.getShed()).isEqualTo(7);
        assertThat(rep.getFailed()).isEqualTo(3);
        assertThat(rep.getConfusion()).isEmpty();
        assertThat(rep.getActions()).isEmpty();
        assertThat(rep.getActionsChanged()).isZero();
        assertThat(rep.getMeanAbsScoreDifference()).isEmpty();
        assertThat(rep.getLargestDisagreements()).isEmpty();
        assertThat(rep.getPrimaryLabels()).isEmpty();

        AgreementReport empty = report(new AgreementAccumulator(5), new Configuration());
        assertThat(empty.getAgreement()).isNull();
        assertThat(empty.getSampled()).isZero();
        assertThat(empty.getStatus()).isEqualTo(AgreementMonitor.TOO_FEW);
    }

    @Test
    void theReportNamesBothModelsAndTheWindow() {
        Configuration c = new Configuration();
        c.set(ShadowOptions.SAMPLE_RATE, 0.25);
        AgreementAccumulator a = new AgreementAccumulator(5);
        a.add(new AgreementObservation(PAIR, 0, Status.COMPARED, "x", "dx", HAM_SPAM, HAM, "ALLOW",
                HAM_SPAM_PHISHING, new float[] {0.1f, 0.1f, 0.8f}, "BLOCK"));
        String pair = AgreementObservation.pair("spam-minilm-l6@1.1.0", "cand@2.0-rc");
        AgreementReport rep = AgreementMonitor.report(pair, 5_000, 65_000, a, c);
        assertThat(rep.getPrimaryModelName()).isEqualTo("spam-minilm-l6");
        assertThat(rep.getPrimaryModelVersion()).isEqualTo("1.1.0");
        assertThat(rep.getShadowModelName()).isEqualTo("cand");
        assertThat(rep.getShadowModelVersion()).isEqualTo("2.0-rc");
        assertThat(rep.getWindowStart()).isEqualTo(Instant.ofEpochMilli(5_000));
        assertThat(rep.getWindowEnd()).isEqualTo(Instant.ofEpochMilli(65_000));
        assertThat(rep.getSampleRate()).isEqualTo(0.25);
        assertThat(rep.getLargestDisagreements()).singleElement().satisfies(d -> {
            assertThat(d.getInputId()).isEqualTo("x");
            assertThat(d.getPrimaryDecisionId()).isEqualTo("dx");
            assertThat(d.getPrimaryLabel()).isEqualTo("ham");
            assertThat(d.getShadowLabel()).isEqualTo("phishing");
        });
        assertThat(AgreementMonitor.headline(rep)).contains("TOO_FEW").contains("cand@2.0-rc")
                .contains("spam-minilm-l6@1.1.0").contains("ALLOW->BLOCK 1");
    }
}
