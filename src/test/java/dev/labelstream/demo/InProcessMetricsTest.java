package dev.labelstream.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.metrics.Metrics;
import java.util.Map;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the demo reads from the in-process reporter: labelled gauges through group variables, NaN when absent. */
class InProcessMetricsTest {
    /** A group as Flink hands it to reporters: an identifier with the filtered value, variables with the raw one. */
    static MetricGroup driftGroup(String modelKey) {
        return new UnregisteredMetricsGroup() {
            @Override
            public String getMetricIdentifier(String name) {
                // Flink replaces the scope delimiter inside a group value: @1.1.0 becomes @1_1_0
                return "localhost.taskmanager.tm.job.drift-monitor.0.labelstream.drift.model."
                        + modelKey.replace('.', '_') + "." + name;
            }

            @Override
            public Map<String, String> getAllVariables() {
                return Map.of("<host>", "localhost", "<" + Metrics.MODEL + ">", modelKey);
            }
        };
    }

    @AfterEach
    void clear() {
        InProcessMetrics.clear();
    }

    @Test
    void driftGaugesAreFoundByTheModelVariableNotTheFilteredIdentifier() {
        InProcessMetrics r = new InProcessMetrics();
        MetricGroup g = driftGroup("spam-minilm-l6@1.1.0");
        r.notifyOfAddedMetric((Gauge<Integer>) () -> Metrics.DRIFT_ALERT, Metrics.DRIFT_STATUS, g);
        r.notifyOfAddedMetric((Gauge<Double>) () -> 0.42, "token_length_psi", g);

        Map<String, String> model = Map.of(Metrics.MODEL, "spam-minilm-l6@1.1.0");
        assertThat(InProcessMetrics.gauge(Metrics.DRIFT_STATUS, model)).isEqualTo(Metrics.DRIFT_ALERT);
        assertThat(InProcessMetrics.gauge("token_length_psi", model)).isEqualTo(0.42);
        // the identifier the demo used to build never matched: it read 0 (= OK) right after an ALERT
        assertThat(InProcessMetrics.gauge(".labelstream.drift.model.spam-minilm-l6@1.1.0.status")).isNaN();

        String line = DemoCommand.driftGauges("spam-minilm-l6@1.1.0");
        assertThat(line).contains("status ALERT", "token_length_psi 0.420", "embedding_mmd NaN");
    }

    /** A decoder's group of job {@code jobId}: Flink's identifier names the job by its name only. */
    static MetricGroup decoderGroup(String jobId) {
        return new UnregisteredMetricsGroup() {
            @Override
            public String getMetricIdentifier(String name) {
                return "localhost.taskmanager.tm.labelstream-test.decode.0.labelstream." + name;
            }

            @Override
            public Map<String, String> getAllVariables() {
                return Map.of("<host>", "localhost", "<job_id>", jobId, "<job_name>", "labelstream-test");
            }
        };
    }

    @Test
    void twoJobsOfOneNameKeepTheirOwnCounters() {
        InProcessMetrics r = new InProcessMetrics();
        SimpleCounter a = new SimpleCounter();
        SimpleCounter b = new SimpleCounter();
        a.inc(3);
        b.inc(5);
        r.notifyOfAddedMetric(a, Metrics.RECORDS_IN, decoderGroup("aa"));
        r.notifyOfAddedMetric(b, Metrics.RECORDS_IN, decoderGroup("bb"));

        String suffix = InProcessMetrics.suffix(Metrics.RECORDS_IN);
        assertThat(InProcessMetrics.counter(suffix, "aa")).isEqualTo(3);
        assertThat(InProcessMetrics.counter(suffix, "bb")).isEqualTo(5);
        assertThat(InProcessMetrics.counter(suffix, "cc")).isZero();
        assertThat(InProcessMetrics.counter(suffix)).as("every job").isEqualTo(8);
        // a restarted attempt of a job registers its counter again: it replaces the attempt before
        SimpleCounter again = new SimpleCounter();
        again.inc();
        r.notifyOfAddedMetric(again, Metrics.RECORDS_IN, decoderGroup("aa"));
        assertThat(InProcessMetrics.counter(suffix, "aa")).isEqualTo(1);
    }

    @Test
    void nothingMatchingIsNaNNotZero() {
        assertThat(InProcessMetrics.gauge(Metrics.DRIFT_STATUS, Map.of(Metrics.MODEL, "other@1"))).isNaN();
        assertThat(InProcessMetrics.gauge(InProcessMetrics.suffix(Metrics.IN_FLIGHT_BATCHES))).isNaN();
        assertThat(DemoCommand.driftGauges("other@1")).contains("status NaN", "token_length_psi NaN");
    }

    @Test
    void recordsPerSecondCountFromTheFirstRecordProduced() {
        long second = 1_000_000_000L;
        assertThat(DemoCommand.throughput(0, 0, 5 * second)).as("nothing produced yet").isZero();
        // 48 records classified 4 s after the first was produced: 12/s, whatever the spread of receive times
        assertThat(DemoCommand.throughput(48, 10 * second, 14 * second)).isEqualTo(12.0);
    }
}
