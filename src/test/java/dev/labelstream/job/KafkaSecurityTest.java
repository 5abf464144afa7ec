package dev.labelstream.job;

import dev.labelstream.cli.Main;
import dev.labelstream.config.Options;
import dev.labelstream.demo.EmbeddedKafka;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.io.KafkaPreflight;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.network.ListenerName;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * The job against a broker that requires SASL/SCRAM-SHA-512 over TLS. The test makes a self-signed
 * certificate with keytool, starts a broker of its own with a SASL_SSL listener (next to the plaintext one
 * the test kit needs for itself and for creating topics and users), creates the job's SCRAM user through the
 * Admin API, and configures the job as a user would: a YAML file whose only security settings are the
 * kafka.properties pass-through. Then:
 * <ul>
 *   <li>the job classifies;
 *   <li>a wrong password stops {@code labelstream run} at once with a message naming kafka.properties
 *       ({@link KafkaPreflight}); submitted without that check, the job fails on SaslAuthenticationException
 *       (with no restart strategy: with one, it would restart forever);
 *   <li>no secret (SASL passwords, truststore and keystore passwords) appears in any log event of the JVM at
 *       INFO or above, in any metric name or gauge value, in the REST API's configuration views of the job and
 *       the cluster, or in the failure's exception chain.
 * </ul>
 */
@Tag("slow")
class KafkaSecurityTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1, FaultTestSupport.clusterConf());

    static final String USER = "labelstream-job";
    static final String SECURE = "SECURE";

    @Test
    void theJobClassifiesOverSaslSslWithOnlyPassThroughPropertiesAndNoSecretLeaks(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String scramPassword = "scram-" + UUID.randomUUID();
        String wrongPassword = "wrong-" + UUID.randomUUID();
        String truststorePassword = "trust-" + UUID.randomUUID();
        String keystorePassword = "keys-" + UUID.randomUUID();
        List<String> secrets = List.of(scramPassword, wrongPassword, truststorePassword, keystorePassword);
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "tls-");
        Path keystore = dir.resolve("broker.p12");
        Path truststore = dir.resolve("truststore.p12");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", keystorePassword, "-keypass", keystorePassword);
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", keystorePassword, "-file", dir.resolve("broker.pem").toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", dir.resolve("broker.pem").toString(),
                "-keystore", truststore.toString(), "-storetype", "PKCS12", "-storepass", truststorePassword);

        Map<String, String> broker = new LinkedHashMap<>();
        broker.put("listeners", "EXTERNAL://localhost:0,CONTROLLER://localhost:0," + SECURE + "://localhost:0");
        broker.put("listener.security.protocol.map", "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + SECURE + ":SASL_SSL");
        String l = "listener.name." + SECURE.toLowerCase() + ".";
        broker.put(l + "sasl.enabled.mechanisms", "SCRAM-SHA-512");
        broker.put(l + "scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        broker.put(l + "ssl.keystore.location", keystore.toString());
        broker.put(l + "ssl.keystore.type", "PKCS12");
        broker.put(l + "ssl.keystore.password", keystorePassword);
        broker.put(l + "ssl.key.password", keystorePassword);

        StringBuilder report = new StringBuilder();
        try (FaultTestSupport.LogCapture log = FaultTestSupport.LogCapture.start(Level.INFO);
                EmbeddedKafka kafka = EmbeddedKafka.start(broker)) {
            Properties plain = FaultTestSupport.clientProps(kafka.bootstrapServers());
            try (Admin admin = Admin.create(plain)) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(USER,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), scramPassword))).all().get();
            }
            int securePort = kafka.cluster().brokers().values().iterator().next()
                    .boundPort(ListenerName.normalised(SECURE));
            TestKafka.Topics t = FaultTestSupport.topics(kafka, 1);
            FaultTestSupport.produce(plain, t.input(), inputs(30));

            Path good = yaml(dir.resolve("job.yaml"), "localhost:" + securePort, t, scramPassword, truststore,
                    truststorePassword);
            Path bad = yaml(dir.resolve("job-wrong-password.yaml"), "localhost:" + securePort, t, wrongPassword,
                    truststore, truststorePassword);
            Configuration conf = Options.load(good, Map.of());
            awaitCredentials(conf);

            // 1. the job classifies over SASL_SSL
            InProcessMetrics.clear();
            JobClient job = JobTestSupport.start(conf);
            String restViews;
            try {
                FaultTestSupport.Outputs out = FaultTestSupport.read(plain, t, 30, Duration.ofSeconds(120));
                assertThat(out.copiesById()).hasSize(30);
                assertThat(out.classified()).hasSize(30);
                Counters.assertAddUp(job, 30);
                restViews = restViews(cluster, job.getJobID());
            } finally {
                JobTestSupport.cancel(job);
            }

            // 2. a wrong password: labelstream run stops at once, naming the settings
            StringWriter err = new StringWriter();
            CommandLine cli = Main.commandLine();
            cli.setErr(new PrintWriter(err, true));
            int rc = cli.execute("run", "--config", bad.toString());
            String cliMessage = err.toString();
            assertThat(rc).isEqualTo(2);
            assertThat(cliMessage).contains("kafka.properties").contains("SaslAuthenticationException")
                    .contains("sasl.jaas.config").contains("SCRAM-SHA-512");

            // 3. without the check, the submitted job fails on the login (restart strategy none: no loop)
            Configuration wrong = Options.load(bad, Map.of("restart-strategy.type", "none"));
            JobClient failing = JobTestSupport.start(wrong);
            JobResult result = cluster.requestJobResult(failing.getJobID()).get();
            Throwable failure = result.getSerializedThrowable().orElseThrow()
                    .deserializeError(getClass().getClassLoader());
            StringWriter trace = new StringWriter();
            failure.printStackTrace(new PrintWriter(trace));
            assertThat(causes(failure)).anyMatch(c -> c instanceof SaslAuthenticationException
                    || c.getClass().getName().equals(SaslAuthenticationException.class.getName())
                    || String.valueOf(c.getMessage()).contains("SaslAuthenticationException"));

            // 4. no secret anywhere
            List<String> metrics = metricsText();
            for (String secret : secrets) {
                assertThat(log.containing(secret, Level.INFO)).as("log events with a secret").isEmpty();
                assertThat(metrics).as("metrics").noneMatch(m -> m.contains(secret));
                assertThat(restViews).as("REST configuration views").doesNotContain(secret);
                assertThat(cliMessage).as("CLI message").doesNotContain(secret);
                assertThat(trace.toString()).as("the job's failure").doesNotContain(secret);
            }
            // 5. a cluster whose configuration holds the job's options (what `labelstream run` starts without a
            // Flink cluster; what kafka.properties in Flink's config.yaml or -D give): the view hides them by key
            Configuration mapForm = Options.load(null, Map.of(
                    "kafka.bootstrap-servers", "localhost:" + securePort,
                    "kafka.properties", "security.protocol:SASL_SSL,ssl.truststore.location:" + truststore
                            + ",ssl.truststore.password:" + truststorePassword));
            String yamlView = clusterConfigView(conf);
            String mapView = clusterConfigView(mapForm);
            for (String secret : secrets) {
                assertThat(yamlView).as("configuration view, YAML").doesNotContain(secret);
                assertThat(mapView).as("configuration view, --set kafka.properties=k:v,...").doesNotContain(secret);
            }
            assertThat(yamlView).contains("{\"key\":\"kafka.properties.sasl.jaas.config\",\"value\":\"******\"}")
                    .contains("{\"key\":\"kafka.properties.ssl.truststore.password\",\"value\":\"******\"}")
                    .contains("{\"key\":\"kafka.properties.security.protocol\",\"value\":\"SASL_SSL\"}");
            assertThat(mapView)
                    .contains("{\"key\":\"kafka.properties.ssl.truststore.password\",\"value\":\"******\"}");
            report.append("logEvents=").append(log.events().size()).append(" metrics=").append(metrics.size())
                    .append(" restBytes=").append(restViews.length());
            System.out.println("CLI MESSAGE: " + cliMessage);
            System.out.println("REST VIEWS: " + restViews);
        }
        FaultTestSupport.figures("SASL_SSL + SCRAM-SHA-512", "in=30 classified=30 wrongPassword=rc 2 at startup;"
                + " secrets found: 0 (" + report + ")");
    }

    static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
            out.add(c);
        }
        return out;
    }

    /** Retries the preflight until the new SCRAM user has reached the broker's metadata. */
    static void awaitCredentials(Configuration conf) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                KafkaPreflight.check(conf, Duration.ofSeconds(10));
                return;
            } catch (IllegalStateException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    static Path yaml(Path file, String bootstrap, TestKafka.Topics t, String password, Path truststore,
            String truststorePassword) throws Exception {
        String jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\\\"" + USER
                + "\\\" password=\\\"" + password + "\\\";";
        String yaml = String.join("\n",
                "kafka:",
                "  bootstrap-servers: " + bootstrap,
                "  input-topic: " + t.input(),
                "  output-topic: " + t.output(),
                "  dead-letter-topic: " + t.deadLetters(),
                "  drift-topic: " + t.drift(),
                "  group-id: group-" + t.input(),
                "  transactional-id-prefix: tx-" + t.input(),
                "  starting-offsets: EARLIEST",
                "  properties:",
                "    security.protocol: SASL_SSL",
                "    sasl.mechanism: SCRAM-SHA-512",
                "    sasl.jaas.config: \"" + jaas + "\"",
                "    ssl.truststore.location: " + truststore,
                "    ssl.truststore.type: PKCS12",
                "    ssl.truststore.password: " + truststorePassword,
                "output:",
                "  format: AVRO",
                "model:",
                "  dir: " + FaultTestSupport.faultyModel(),
                "job:",
                "  parallelism: 1",
                "  checkpoint-interval: 500 ms",
                "");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    /** The job's and the cluster's configuration as the REST API (and so the web UI) shows them. */
    static String restViews(MiniCluster cluster, JobID job) throws Exception {
        URI rest = cluster.getRestAddress().get();
        HttpClient http = HttpClient.newHttpClient();
        StringBuilder sb = new StringBuilder();
        for (String path : List.of("/jobs/" + job + "/config", "/jobs/" + job + "/jobmanager/config",
                "/jobmanager/config", "/taskmanagers")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(rest.resolve(path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            sb.append(path).append(" -> ").append(r.statusCode()).append(' ').append(r.body()).append('\n');
        }
        return sb.toString();
    }

    /** /jobmanager/config of a MiniCluster started with {@code conf} as its configuration. */
    static String clusterConfigView(Configuration conf) throws Exception {
        Configuration c = new Configuration(conf);
        c.set(org.apache.flink.configuration.RestOptions.BIND_PORT, "0");
        try (MiniCluster mc = new MiniCluster(new org.apache.flink.runtime.minicluster.MiniClusterConfiguration.Builder()
                .setConfiguration(c).setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build())) {
            mc.start();
            URI rest = mc.getRestAddress().get();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        rest.resolve("/jobmanager/config")).GET().build(), HttpResponse.BodyHandlers.ofString());
                // 503 while the dispatcher's leader election runs
                if (r.statusCode() == 200 || System.nanoTime() > deadline) {
                    return r.body();
                }
                Thread.sleep(200);
            }
        }
    }

    /** Every metric identifier, and the value of every gauge, that the in-JVM reporter has seen. */
    static List<String> metricsText() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Metric> e : FaultTestSupport.metrics().entrySet()) {
            out.add(e.getKey());
            if (e.getValue() instanceof Gauge<?> g) {
                try {
                    out.add(String.valueOf(g.getValue()));
                } catch (RuntimeException ex) {
                    // a gauge of a closed client
                }
            }
        }
        return out;
    }

    static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("keytool %s: %s", args[0], output).isZero();
    }

    static List<TestKafka.Input> inputs(int n) {
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.add(TestKafka.Input.of("s-" + i, FaultTestSupport.json("s-" + i, InferenceFaultsTest.text(i))));
        }
        return in;
    }
}
