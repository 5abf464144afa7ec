package dev.labelstream.drift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.metrics.Metrics;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

/** The drift gauges: window end, stale status ("no data"), and not-evaluated windows told apart from OK. */
class DriftGaugesTest {
    static final long WINDOW = 60_000;

    /** A metric group that keeps the gauges registered in it. */
    static final class Capturing extends UnregisteredMetricsGroup {
        final Map<String, Gauge<?>> gauges = new HashMap<>();

        @Override
        public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
            gauges.put(name, gauge);
            return gauge;
        }

        double value(String name) {
            return ((Number) gauges.get(name).getValue()).doubleValue();
        }
    }

    static DriftReport report(long windowEnd, boolean evaluated, DriftStatus status, double labelPsi) {
        DriftStatistic psi = new DriftStatistic("label_psi", labelPsi, null, null, 0.1, 0.25, status);
        return DriftReport.newBuilder().setModelName("m").setModelVersion("1.1.0")
                .setWindowStart(Instant.ofEpochMilli(windowEnd - WINDOW)).setWindowEnd(Instant.ofEpochMilli(windowEnd))
                .setWindowTime("PROCESSING").setEvents(120).setClassified(118).setDeadLetters(2)
                .setEvaluated(evaluated).setReference("r").setStatus(status)
                .setTripped(status == DriftStatus.OK ? List.of() : List.of("label_psi")).setStatistics(List.of(psi))
                .setLabels(List.of()).build();
    }

    @Test
    void anAlertTurnsIntoNoDataWhenNoWindowClosesForTwoWindowLengths() {
        AtomicLong now = new AtomicLong(1_000_000);
        Capturing g = new Capturing();
        DriftGauges gauges = new DriftGauges(g, WINDOW, now::get);
        gauges.update(report(990_000, true, DriftStatus.ALERT, 0.4), false);

        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_ALERT);
        assertThat(g.value("label_psi")).isEqualTo(0.4);
        assertThat(g.value("label_psi" + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX)).isEqualTo(Metrics.DRIFT_ALERT);
        assertThat(g.value(Metrics.DRIFT_WINDOW_END)).isEqualTo(990_000);
        assertThat(g.value(Metrics.DRIFT_EVENTS)).isEqualTo(120);
        // a statistic the window did not compute is NaN, not 0
        assertThat(g.value("embedding_mmd")).isNaN();

        now.addAndGet(2 * WINDOW - 1);
        assertThat(g.value(Metrics.DRIFT_STATUS)).as("one window late is still current").isEqualTo(Metrics.DRIFT_ALERT);
        now.addAndGet(1);
        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_NO_DATA);
        assertThat(Metrics.driftStatusText(g.value(Metrics.DRIFT_STATUS))).isEqualTo("no data");
        assertThat(g.value("label_psi" + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX)).isEqualTo(Metrics.DRIFT_NO_DATA);
        assertThat(g.value("label_psi")).isNaN();
        // the window the numbers came from is still named
        assertThat(g.value(Metrics.DRIFT_WINDOW_END)).isEqualTo(990_000);

        // the next window brings it back
        gauges.update(report(990_000 + 3 * WINDOW, true, DriftStatus.OK, 0.01), false);
        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_OK);
        assertThat(g.value(Metrics.DRIFT_WINDOW_END)).isEqualTo(990_000 + 3 * WINDOW);
    }

    @Test
    void warmUpAndTooSmallWindowsAreNotOk() {
        Capturing g = new Capturing();
        DriftGauges gauges = new DriftGauges(g, WINDOW, () -> 0L);
        gauges.update(report(WINDOW, false, DriftStatus.OK, 0.5), true);
        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_WARMING_UP);
        assertThat(g.value("label_psi" + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX)).isEqualTo(Metrics.DRIFT_WARMING_UP);
        assertThat(g.value(Metrics.DRIFT_EVALUATED)).isEqualTo(0);

        gauges.update(report(2 * WINDOW, false, DriftStatus.OK, 0.5), false);
        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_TOO_FEW_RECORDS);
        assertThat(Metrics.driftStatusText(g.value(Metrics.DRIFT_STATUS))).isEqualTo("too few records");

        gauges.update(report(3 * WINDOW, true, DriftStatus.OK, 0.01), false);
        assertThat(g.value(Metrics.DRIFT_STATUS)).isEqualTo(Metrics.DRIFT_OK);
        assertThat(g.value(Metrics.DRIFT_EVALUATED)).isEqualTo(1);
    }

    @Test
    void everyGaugeOfTheSetIsRegistered() {
        Capturing g = new Capturing();
        new DriftGauges(g, WINDOW, () -> 0L);
        for (Statistic s : Statistic.values()) {
            assertThat(g.gauges).containsKeys(s.id, s.id + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX);
        }
        assertThat(g.gauges).containsKeys(Metrics.DRIFT_STATUS, Metrics.DRIFT_EVENTS, Metrics.DRIFT_EVALUATED,
                Metrics.DRIFT_WINDOW_END);
    }
}
