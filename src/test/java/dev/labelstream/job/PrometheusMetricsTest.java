package dev.labelstream.job;

import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.inference.ModelBundle;
import dev.labelstream.io.InputFormat;
import dev.labelstream.metrics.Metrics;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every metric the Grafana dashboard (deploy/grafana/labelstream.json) queries is really exported: the real job
 * runs on a MiniCluster with Flink's Prometheus reporter on a free localhost port, classifies real messages and
 * dead-letters malformed ones from the test broker, reports drift over short windows, and its /metrics page,
 * scraped over HTTP, must name every metric of every dashboard query.
 */
class PrometheusMetricsTest {
    static final int PORT = freePort();

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1, reporter());

    /**
     * The same reporter settings the image and the FlinkDeployment use, on a free port; and the in-JVM reporter
     * next to it, for the job's own counters ({@link Counters}).
     */
    static Configuration reporter() {
        Configuration c = FaultTestSupport.clusterConf();
        c.setString("metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        c.setString("metrics.reporter.prom.port", Integer.toString(PORT));
        return c;
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws Exception {
        Set<String> wanted = DeployFiles.dashboardMetricNames();
        Set<String> regexes = DeployFiles.dashboardMetricNameRegexes();
        assertThat(wanted).as("metric names in the dashboard's queries").hasSizeGreaterThan(20);

        TestKafka.Topics t = TestKafka.Topics.create(2);
        List<DemoData.Message> messages = DemoData.messages();
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            DemoData.Produced p = DemoData.event(messages.get(i), "");
            in.add(new TestKafka.Input(p.key(), p.value(), java.util.Map.of()));
        }
        for (DemoData.Produced p : DemoData.malformed(64 * 1024)) {
            in.add(new TestKafka.Input(p.key(), p.value(), java.util.Map.of()));
        }
        TestKafka.produce(t.input(), in);
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(dev.labelstream.io.KafkaOptions.INPUT_MAX_BYTES, 64 * 1024);
        conf.set(dev.labelstream.batching.BatchingOptions.MAX_RECORDS, 8);
        conf.set(dev.labelstream.drift.DriftOptions.WINDOW, Duration.ofSeconds(2));
        InProcessMetrics.clear();
        JobClient job = JobTestSupport.start(conf);
        String page = "";
        Set<String> exported = Set.of();
        Set<String> missing = new TreeSet<>(wanted);
        try {
            // Outputs are committed with checkpoints: once they are all there, every operator has processed data.
            assertThat(JobTestSupport.read(t, in.size(), Duration.ofSeconds(120)).count()).isEqualTo(in.size());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                page = scrape();
                exported = names(page);
                missing = new TreeSet<>(wanted);
                missing.removeAll(exported);
                // Source metrics such as the consumer lag appear with the first fetch, checkpoint gauges with the
                // first completed checkpoint, drift gauges with the first drift window: poll until all are there.
                if (missing.isEmpty() && exported.contains("flink_jobmanager_job_lastCheckpointDuration")) {
                    break;
                }
                Thread.sleep(500);
            }
            Counters.assertAddUp(job, in.size());
        } finally {
            JobTestSupport.cancel(job);
            Path dump = Path.of("target", "prometheus-scrape.txt");
            Files.createDirectories(dump.getParent());
            Files.writeString(dump, page);
        }
        assertThat(missing).as("metrics the dashboard queries that the job does not export (scrape in"
                + " target/prometheus-scrape.txt)").isEmpty();
        for (String regex : regexes) {
            Pattern p = Pattern.compile(regex);
            assertThat(exported).as("a metric matching %s", regex).anyMatch(n -> p.matcher(n).matches());
        }

        // ... and the other way round: every labelstream metric the job exports has a place on the dashboard.
        Set<String> uncharted = new TreeSet<>();
        for (String n : exported) {
            if (n.startsWith(Metrics.PROMETHEUS_PREFIX) && !n.endsWith("_count")
                    && !wanted.contains(n) && regexes.stream().noneMatch(r -> n.matches(r))) {
                uncharted.add(n);
            }
        }
        assertThat(uncharted).as("labelstream metrics no dashboard panel shows").isEmpty();

        // The values behind the panels are live, not just registered.
        TreeMap<String, Double> values = values(page);
        String p = Metrics.PROMETHEUS_PREFIX;
        assertThat(sum(values, p + Metrics.RECORDS_OUT)).isEqualTo(30.0);
        assertThat(sum(values, p + Metrics.RECORDS_IN)).isEqualTo(in.size());
        assertThat(sum(values, p + Metrics.REASON + "_" + Metrics.DEAD_LETTERS)).isEqualTo(in.size() - 30.0);
        assertThat(values).containsKey(p + Metrics.PROVIDER + "_" + Metrics.EXECUTION_PROVIDER
                + "{provider=\"CPU\"}");

        // The drift gauges' model label as the reporter really exports it (deploy/README.md and docs/drift.md
        // document this value, and their alert examples use it), and the window they describe.
        ModelBundle bundle = ModelBundle.load(conf);
        String model = "model=\"" + Metrics.prometheusLabelValue(bundle.name() + "@" + bundle.version()) + "\"";
        String driftStatus = p + Metrics.DRIFT + "_" + Metrics.MODEL + "_" + Metrics.DRIFT_STATUS;
        assertThat(page).containsPattern("(?m)^" + Pattern.quote(driftStatus) + "\\{.*" + Pattern.quote(model));
        assertThat(model).isEqualTo("model=\"spam_minilm_l6_" + bundle.version().replace('.', '_') + "\"");
        double windowEnd = sum(values, p + Metrics.DRIFT + "_" + Metrics.MODEL + "_" + Metrics.DRIFT_WINDOW_END);
        assertThat(windowEnd).as("end of the latest drift window").isGreaterThan(0)
                .isLessThanOrEqualTo(System.currentTimeMillis());
    }

    /** Sum of every sample of {@code name}, whatever its labels. */
    static double sum(TreeMap<String, Double> values, String name) {
        return values.entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                .mapToDouble(java.util.Map.Entry::getValue).sum();
    }

    static String scrape() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + PORT + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** Metric names of a Prometheus text exposition. */
    static Set<String> names(String page) {
        Set<String> out = new TreeSet<>();
        for (String line : page.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = line.indexOf('{');
            out.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
        }
        return out;
    }

    /**
     * Samples by name and the labels that tell them apart here (reason, action, provider, quantile), summed over
     * the rest (subtasks, operators, hosts).
     */
    static TreeMap<String, Double> values(String page) {
        TreeMap<String, Double> out = new TreeMap<>();
        Pattern kept = Pattern.compile("(reason|action|provider|quantile)=\"[^\"]*\"");
        for (String line : page.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name = line.substring(0, brace >= 0 ? brace : space);
            List<String> labels = new ArrayList<>();
            if (brace >= 0) {
                var m = kept.matcher(line.substring(brace, line.lastIndexOf('}')));
                while (m.find()) {
                    labels.add(m.group());
                }
            }
            String key = labels.isEmpty() ? name : name + "{" + String.join(",", labels) + "}";
            double v;
            try {
                v = Double.parseDouble(line.substring(space + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            out.merge(key, v, Double::sum);
        }
        return out;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
