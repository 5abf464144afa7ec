package dev.labelstream.job;

import dev.labelstream.metrics.Metrics;
import dev.labelstream.cli.Main;
import dev.labelstream.cli.LoadgenCommand;
import dev.labelstream.cli.RunCommand;
import dev.labelstream.config.Options;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.settings.JobOptions;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.UpgradeMode;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The deployment files parse and agree with the code: docker-compose.yml (+ deploy/compose.cpu.yml),
 * deploy/Dockerfile, deploy/kubernetes (the FlinkDeployment read with the Flink Kubernetes Operator's own model
 * classes), Prometheus and Grafana provisioning, and the dashboard. Image tags follow the pom's versions, every
 * labelstream option they set exists and validates, every Flink key is one Flink knows, topics and paths line
 * up. What needs a Docker engine or a cluster (building the image, `docker compose up`, applying the manifests)
 * is described in deploy/README.md.
 */
class DeploymentFilesTest {
    static final Map<String, String> POM = DeployFiles.pom();
    static final String VERSION = POM.get("project.version");
    static final String FLINK = POM.get("flink.version");
    static final String PROM_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
    static final String JOB_JAR_IN_IMAGE = "/opt/flink/usrlib/labelstream-job.jar";

    // ---------------------------------------------------------------------------------------------- image

    @Test
    void dockerfileBuildsOnTheFlinkImageOfThePomsVersionWithTheLayoutTheDeploymentsUse() {
        String dockerfile = DeployFiles.text(DeployFiles.DOCKERFILE);
        assertThat(arg(dockerfile, "FLINK_IMAGE")).isEqualTo("flink:" + FLINK + "-scala_2.12-java17");
        assertThat(arg(dockerfile, "CUDA_IMAGE")).matches("nvidia/cuda:12\\.[0-9.]+-cudnn-runtime-ubuntu24\\.04");
        assertThat(arg(dockerfile, "VARIANT")).isEqualTo("gpu");
        assertThat(dockerfile).contains("FROM variant-${VARIANT}", "AS variant-cpu", "AS variant-gpu");
        // The jars the pom builds land where Flink and the deployments look for them.
        String pom = DeployFiles.text(DeployFiles.ROOT.resolve("pom.xml"));
        assertThat(pom).contains("<outputFile>${project.build.directory}/labelstream-job.jar</outputFile>",
                "<outputDirectory>${project.build.directory}/flink-lib</outputDirectory>");
        assertThat(dockerfile).contains("cp target/labelstream-job.jar /out/usrlib/",
                "cp target/flink-lib/*.jar /out/lib/", "/out/usrlib/ /opt/flink/usrlib/", "/out/lib/ /opt/flink/lib/",
                "-Dcli-jar.skip=true", "LABELSTREAM_CACHE_DIR=/opt/labelstream/cache");
        // Every key the image bakes into Flink's config.yaml is a Flink key; the reporter is Prometheus on 9249.
        Map<String, String> baked = new LinkedHashMap<>();
        Matcher m = Pattern.compile("-D([A-Za-z0-9_.\\-]+)=(\\S+)").matcher(dockerfile);
        while (m.find()) {
            baked.put(m.group(1), m.group(2));
        }
        baked.remove("java.io.tmpdir"); // a JVM property of the build-time check, not Flink's
        baked.remove("maven.test.skip");
        baked.remove("cli-jar.skip");
        assertFlinkKeys(baked, "deploy/Dockerfile");
        assertThat(baked).containsEntry("metrics.reporter.prom.factory.class", PROM_FACTORY)
                .containsEntry("metrics.reporter.prom.port", "9249");
    }

    @Test
    void dockerIgnoreLetsThroughWhatTheBuildCopies() {
        String ignore = DeployFiles.text(DeployFiles.ROOT.resolve(".dockerignore"));
        assertThat(ignore).contains("!pom.xml", "!schemas/", "!src/main/");
        assertThat(DeployFiles.text(DeployFiles.DOCKERFILE)).contains("COPY pom.xml ./", "COPY schemas schemas",
                "COPY src/main src/main");
    }

    // -------------------------------------------------------------------------------------------- compose

    @Test
    void composeImagesFollowThePom() throws Exception {
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE).get("services");
        assertThat(names(services)).contains("kafka", "kafka-init", "jobmanager", "taskmanager", "loadgen",
                "prometheus", "grafana");
        assertThat(services.at("/kafka/image").asText()).isEqualTo("apache/kafka:" + POM.get("kafka.version"));
        assertThat(services.at("/kafka-init/image").asText()).isEqualTo("apache/kafka:" + POM.get("kafka.version"));
        for (String s : List.of("jobmanager", "taskmanager", "loadgen")) {
            JsonNode svc = services.get(s);
            assertThat(svc.at("/image").asText()).as(s).isEqualTo("labelstream:" + VERSION);
            assertThat(svc.at("/build/context").asText()).as(s).isEqualTo(".");
            assertThat(svc.at("/build/dockerfile").asText()).as(s).isEqualTo("deploy/Dockerfile");
            assertThat(svc.at("/build/args/VARIANT").asText()).as(s).isEqualTo("gpu");
        }
        assertThat(services.at("/prometheus/image").asText()).startsWith("prom/prometheus:v");
        assertThat(services.at("/grafana/image").asText()).startsWith("grafana/grafana:");
        // Every host file the stack mounts exists.
        for (JsonNode svc : services) {
            for (JsonNode v : svc.path("volumes")) {
                String source = v.asText().split(":")[0];
                if (source.startsWith("./")) {
                    assertThat(DeployFiles.ROOT.resolve(source)).as(v.asText()).exists();
                }
            }
        }
    }

    @Test
    void composeRunsTheJobWithItsOwnConfigurationOnTheTopicsItCreates() throws Exception {
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE).get("services");
        JsonNode jm = services.get("jobmanager");
        List<String> command = strings(jm.get("command"));
        assertThat(command.subList(0, 3)).containsExactly("standalone-job", "--job-classname", Main.class.getName());
        List<String> programArgs = command.subList(3, command.size());
        RunCommand run = runCommand(programArgs);
        Path config = hostFileMountedAt(jm, run.config.toString());
        Map<String, String> env = environment(jm);
        Configuration conf = Options.load(config, run.overrides, env::get);
        Options.validate(conf);

        // kafka-init creates exactly the four topics the job uses, with partitions for its parallelism.
        Map<String, Integer> topics = new LinkedHashMap<>();
        for (String spec : environment(services.get("kafka-init")).get("TOPICS").split("\\s+")) {
            String[] p = spec.split(":");
            topics.put(p[0], Integer.parseInt(p[1]));
        }
        assertThat(topics.keySet()).containsExactlyInAnyOrder(conf.get(KafkaOptions.INPUT_TOPIC),
                conf.get(KafkaOptions.OUTPUT_TOPIC), conf.get(KafkaOptions.DEAD_LETTER_TOPIC),
                conf.get(KafkaOptions.DRIFT_TOPIC));
        assertThat(topics.get(conf.get(KafkaOptions.INPUT_TOPIC)))
                .isGreaterThanOrEqualTo(conf.getOptional(JobOptions.PARALLELISM).orElse(1));
        assertThat(DeployFiles.text(DeployFiles.COMPOSE)).contains("$$TOPICS", "--if-not-exists");

        // The broker the job and the load generator use is the one Kafka advertises to the containers.
        String bootstrap = conf.get(KafkaOptions.BOOTSTRAP_SERVERS);
        assertThat(environment(services.get("kafka")).get("KAFKA_ADVERTISED_LISTENERS"))
                .contains("PLAINTEXT://" + bootstrap);
        JsonNode loadgen = services.get("loadgen");
        List<String> entry = strings(loadgen.get("entrypoint"));
        assertThat(entry).containsSequence(Main.class.getName(), "loadgen");
        assertThat(entry.get(entry.indexOf("-cp") + 1)).isEqualTo("/opt/flink/usrlib/*:/opt/flink/lib/*");
        List<String> loadgenArgs = new ArrayList<>(entry.subList(entry.indexOf("loadgen"), entry.size()));
        loadgenArgs.addAll(strings(loadgen.get("command")));
        LoadgenCommand lg = (LoadgenCommand) Main.commandLine().parseArgs(loadgenArgs.toArray(String[]::new))
                .subcommand().commandSpec().userObject();
        assertThat(lg.topic).isEqualTo(conf.get(KafkaOptions.INPUT_TOPIC));
        assertThat(lg.bootstrapServers).isEqualTo(bootstrap);
        for (String s : List.of("jobmanager", "loadgen")) {
            assertThat(services.at("/" + s + "/depends_on/kafka-init/condition").asText()).as(s)
                    .isEqualTo("service_completed_successfully");
        }
        assertThat(services.at("/kafka-init/depends_on/kafka/condition").asText()).isEqualTo("service_healthy");
    }

    @Test
    void composeFlinkSettingsAreFlinkKeysAndTheTaskManagerHasOneSlotAndOneGpu() {
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE).get("services");
        for (String s : List.of("jobmanager", "taskmanager")) {
            Map<String, String> props = DeployFiles.flinkProperties(environment(services.get(s)).get("FLINK_PROPERTIES"));
            assertFlinkKeys(props, "docker-compose.yml " + s);
            // Flink's docker-entrypoint.sh deletes every blank of a FLINK_PROPERTIES line.
            assertThat(props).as(s).allSatisfy((k, v) -> assertThat(v).doesNotContainPattern("\\s"));
            assertThat(props).as(s).containsEntry("jobmanager.rpc.address", "jobmanager");
            // Checkpoints go to the volume both processes share.
            String dir = props.get("execution.checkpointing.dir");
            assertThat(dir).as(s).startsWith("file:///opt/flink/state/");
            assertThat(strings(services.get(s).get("volumes"))).as(s).contains("flink-state:/opt/flink/state");
        }
        JsonNode tm = services.get("taskmanager");
        assertThat(DeployFiles.flinkProperties(environment(tm).get("FLINK_PROPERTIES")))
                .containsEntry("taskmanager.numberOfTaskSlots", "1");
        assertThat(strings(tm.get("command"))).containsExactly("taskmanager");
        JsonNode gpu = tm.at("/deploy/resources/reservations/devices/0");
        assertThat(gpu.get("driver").asText()).isEqualTo("nvidia");
        assertThat(gpu.get("count").asInt()).isEqualTo(1);
        assertThat(strings(gpu.get("capabilities"))).containsExactly("gpu");
    }

    @Test
    void theCpuOverrideDropsTheGpuAndSelectsTheCpuImageAndProvider() {
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE_CPU).get("services");
        Set<String> base = names(DeployFiles.yaml(DeployFiles.COMPOSE).get("services"));
        assertThat(base).containsAll(names(services));
        for (String s : List.of("jobmanager", "taskmanager", "loadgen")) {
            assertThat(services.at("/" + s + "/image").asText()).as(s).isEqualTo("labelstream:" + VERSION + "-cpu");
            assertThat(services.at("/" + s + "/build/args/VARIANT").asText()).as(s).isEqualTo("cpu");
        }
        assertThat(environment(services.get("jobmanager"))).containsEntry("LABELSTREAM_PROVIDER", "CPU");
        JsonNode devices = services.at("/taskmanager/deploy/resources/reservations/devices");
        assertThat(devices.isArray() && devices.isEmpty()).as("devices: !reset []").isTrue();
        assertThat(DeployFiles.text(DeployFiles.COMPOSE_CPU)).contains("devices: !reset []");
        // ... and the job's file takes the provider from that variable.
        Path config = DeployFiles.ROOT.resolve("deploy/compose/labelstream.yaml");
        Configuration cpu = Options.load(config, Map.of(), Map.of("LABELSTREAM_PROVIDER", "CPU")::get);
        assertThat(cpu.get(dev.labelstream.inference.InferenceOptions.PROVIDER))
                .isEqualTo(dev.labelstream.inference.InferenceOptions.Provider.CPU);
    }

    // --------------------------------------------------------------------------------- Prometheus, Grafana

    @Test
    void prometheusScrapesTheReporterOfTheJobManagerAndEveryTaskManager() {
        JsonNode config = DeployFiles.yaml(DeployFiles.PROMETHEUS);
        Map<String, JsonNode> jobs = new HashMap<>();
        config.get("scrape_configs").forEach(j -> jobs.put(j.get("job_name").asText(), j));
        assertThat(strings(jobs.get("flink-jobmanager").at("/static_configs/0/targets")))
                .containsExactly("jobmanager:9249");
        JsonNode tms = jobs.get("flink-taskmanager").at("/dns_sd_configs/0");
        assertThat(strings(tms.get("names"))).containsExactly("taskmanager");
        assertThat(tms.get("port").asInt()).isEqualTo(9249);
        assertThat(tms.get("type").asText()).isEqualTo("A");
        assertThat(classExists(PROM_FACTORY)).isTrue();
    }

    @Test
    void grafanaProvisionsThePrometheusDataSourceAndTheDashboard() {
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE).get("services");
        JsonNode ds = DeployFiles.yaml(DeployFiles.GRAFANA_PROVISIONING.resolve("datasources/prometheus.yml"))
                .at("/datasources/0");
        assertThat(ds.get("type").asText()).isEqualTo("prometheus");
        assertThat(ds.get("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(strings(services.at("/prometheus/ports"))).contains("9090:9090");
        String uid = ds.get("uid").asText();

        JsonNode provider = DeployFiles.yaml(GRAFANA_DASHBOARDS).at("/providers/0");
        String dashboardDir = provider.at("/options/path").asText();
        assertThat(strings(services.at("/grafana/volumes")))
                .contains("./deploy/grafana/labelstream.json:" + dashboardDir + "/labelstream.json:ro")
                .contains("./deploy/grafana/provisioning:/etc/grafana/provisioning:ro");

        JsonNode dashboard = DeployFiles.json(DeployFiles.DASHBOARD);
        assertThat(dashboard.get("uid").asText()).isEqualTo("labelstream");
        Set<Integer> ids = new LinkedHashSet<>();
        List<JsonNode> panels = new ArrayList<>();
        dashboard.get("panels").forEach(panels::add);
        for (JsonNode p : panels) {
            assertThat(ids.add(p.get("id").asInt())).as("unique panel id %s", p.get("id")).isTrue();
            assertThat(p.has("gridPos")).isTrue();
            if (p.get("type").asText().equals("row")) {
                continue;
            }
            assertThat(p.at("/datasource/uid").asText()).as(p.get("title").asText()).isEqualTo(uid);
            assertThat(p.get("targets")).as(p.get("title").asText()).isNotEmpty();
            for (JsonNode t : p.get("targets")) {
                assertThat(t.at("/datasource/uid").asText()).isEqualTo(uid);
                assertThat(t.get("expr").asText()).isNotBlank().contains("flink_");
            }
        }
        assertThat(dashboard.at("/templating/list/0/datasource/uid").asText()).isEqualTo(uid);
    }

    static final Path GRAFANA_DASHBOARDS = DeployFiles.GRAFANA_PROVISIONING.resolve("dashboards/labelstream.yml");

    @Test
    void theDashboardShowsWhatOperatorsAskFor() {
        String all = String.join("\n", DeployFiles.dashboardQueries());
        String p = Metrics.PROMETHEUS_PREFIX;
        // throughput, latency percentiles, batching, in-flight, dead letters by reason, action mix
        assertThat(all).contains(p + Metrics.RECORDS_IN, p + Metrics.RECORDS_OUT, p + Metrics.END_TO_END_LATENCY_MS + "{",
                p + Metrics.INFERENCE_LATENCY_MS + "{", "quantile=\"0.99\"", p + Metrics.BATCH_SIZE + "{",
                p + Metrics.PADDING_EFFICIENCY, p + Metrics.IN_FLIGHT_BATCHES,
                "sum by (reason) (rate(" + p + Metrics.REASON + "_" + Metrics.DEAD_LETTERS,
                "sum by (action) (rate(" + p + Metrics.ACTION + "_" + Metrics.ACTIONS);
        // drift statistics, status and the age of the latest window, consumer lag, execution provider
        String drift = p + Metrics.DRIFT + "_" + Metrics.MODEL + "_";
        assertThat(all).contains(drift + Metrics.DRIFT_STATUS, drift + "label_psi", drift + "embedding_mmd",
                "__name__=~\"" + drift + ".+" + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX + "\"",
                drift + Metrics.DRIFT_WINDOW_END,
                "flink_taskmanager_job_task_operator_pendingRecords",
                "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max",
                "max by (provider) (" + p + Metrics.PROVIDER + "_" + Metrics.EXECUTION_PROVIDER);
    }

    @Test
    void theDocumentedDriftLabelIsTheOneTheReporterExports() throws Exception {
        JsonNode settings = DeployFiles.json(DeployFiles.ROOT.resolve(
                "src/main/resources/models/spam-minilm-l6/labelstream.json"));
        String exported = "model=\"" + Metrics.prometheusLabelValue(settings.get("name").asText() + "@"
                + settings.get("version").asText()) + "\"";
        assertThat(exported).isEqualTo("model=\"spam_minilm_l6_1_1_0\"");
        for (Path doc : List.of(DeployFiles.ROOT.resolve("deploy/README.md"), DeployFiles.ROOT.resolve("docs/drift.md"))) {
            String text = java.nio.file.Files.readString(doc);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("model=\"[^\"]*\"").matcher(text);
            List<String> labels = new ArrayList<>();
            while (m.find()) {
                labels.add(m.group());
            }
            // every label example, alert rules included, uses the exported value
            assertThat(labels).as(doc.toString()).isNotEmpty().allMatch(exported::equals);
        }
    }

    // ----------------------------------------------------------------------------------------- Kubernetes

    @Test
    void theFlinkDeploymentIsReadByTheOperatorsOwnModel() throws Exception {
        JsonNode tree = DeployFiles.yaml(DeployFiles.KUBERNETES.resolve("flinkdeployment.yaml"));
        // The 1.10 model (the newest the registry here serves) predates Flink 2: FlinkVersion v2_2 arrived in
        // operator 1.13. Check the version against the pom, then read the rest strictly.
        String[] v = FLINK.split("\\.");
        assertThat(tree.at("/spec/flinkVersion").asText()).isEqualTo("v" + v[0] + "_" + v[1]);
        ((ObjectNode) tree.get("spec")).remove("flinkVersion");
        FlinkDeployment d = DeployFiles.YAML.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .treeToValue(tree, FlinkDeployment.class);
        // The model ignores fields it does not know: everything written must come back out of it.
        assertRoundTrips(tree, DeployFiles.YAML.valueToTree(d), "");
        assertThat(tree.get("apiVersion").asText()).isEqualTo(new FlinkDeployment().getApiVersion());
        assertThat(tree.get("kind").asText()).isEqualTo(new FlinkDeployment().getKind());
        var spec = d.getSpec();
        assertThat(spec.getImage()).endsWith("/labelstream:" + VERSION);

        // Application mode: the image's job jar, labelstream's main(), `run --config <mounted file>`.
        assertThat(spec.getJob().getJarURI()).isEqualTo("local://" + JOB_JAR_IN_IMAGE);
        assertThat(spec.getJob().getEntryClass()).isEqualTo(Main.class.getName());
        assertThat(spec.getJob().getUpgradeMode()).isEqualTo(UpgradeMode.LAST_STATE);
        RunCommand run = runCommand(spec.getJob().getArgs() == null ? List.of() : List.of(spec.getJob().getArgs()));

        Map<String, String> flink = spec.getFlinkConfiguration();
        assertFlinkKeys(flink, "flinkdeployment.yaml");
        assertThat(flink).containsEntry("metrics.reporter.prom.factory.class", PROM_FACTORY)
                .containsEntry("taskmanager.numberOfTaskSlots", "1")
                .containsEntry("high-availability.type", "kubernetes")
                .containsKeys("high-availability.storageDir", "execution.checkpointing.dir");
        String metricsPort = flink.get("metrics.reporter.prom.port");

        PodSpec jm = spec.getJobManager().getPodTemplate().getSpec();
        PodSpec tm = spec.getTaskManager().getPodTemplate().getSpec();
        for (PodSpec pod : List.of(jm, tm)) {
            Container c = mainContainer(pod);
            assertThat(c.getPorts()).anySatisfy(port -> {
                assertThat(port.getName()).isEqualTo("metrics");
                assertThat(port.getContainerPort()).isEqualTo(Integer.parseInt(metricsPort));
            });
            assertThat(env(c)).containsEntry("ENABLE_BUILT_IN_PLUGINS", "flink-s3-fs-presto-" + FLINK + ".jar");
        }
        // GPUs: one per TaskManager, on tainted GPU nodes.
        Container tmc = mainContainer(tm);
        assertThat(tmc.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(tm.getTolerations()).anySatisfy(t -> {
            assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
        assertThat(spec.getJob().getParallelism()).isPositive();

        // The job's file comes from the ConfigMap kustomize generates, mounted where --config points.
        Container jmc = mainContainer(jm);
        String mountDir = run.config.getParent().toString();
        var mount = jmc.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(mountDir)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + mountDir));
        var volume = jm.getVolumes().stream().filter(vol -> vol.getName().equals(mount.getName())).findFirst()
                .orElseThrow();
        JsonNode generator = DeployFiles.yaml(DeployFiles.KUBERNETES.resolve("kustomization.yaml"))
                .at("/configMapGenerator/0");
        assertThat(generator.get("name").asText()).isEqualTo(volume.getConfigMap().getName());
        assertThat(strings(generator.get("files"))).contains(run.config.getFileName().toString());
        Path config = DeployFiles.KUBERNETES.resolve(run.config.getFileName().toString());

        // Every ${VAR} of the file is set in the JobManager's container (which runs main()), from the Secret.
        Map<String, String> placeholders = new HashMap<>();
        for (EnvVar e : jmc.getEnv()) {
            placeholders.put(e.getName(), "placeholder-" + e.getName());
        }
        Configuration conf = Options.load(config, run.overrides, placeholders::get);
        Options.validate(conf);
        assertThat(conf.get(KafkaOptions.BOOTSTRAP_SERVERS)).isEqualTo("placeholder-KAFKA_BOOTSTRAP_SERVERS");
        assertThat(conf.get(KafkaOptions.PROPERTIES).get("sasl.jaas.config"))
                .contains("password=\"placeholder-KAFKA_PASSWORD\"");
        assertThat(DeployFiles.text(config)).doesNotContainPattern("password=\"[^$]");
        Map<String, Set<String>> secretKeys = exampleSecrets();
        for (EnvVar e : jmc.getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                var ref = e.getValueFrom().getSecretKeyRef();
                assertThat(secretKeys.get(ref.getName())).as("secrets.example.yaml %s", ref.getName())
                        .contains(ref.getKey());
            }
        }
    }

    @Test
    void thePodMonitorScrapesTheFlinkPodsMetricsPort() {
        JsonNode monitor = DeployFiles.yaml(DeployFiles.KUBERNETES.resolve("podmonitor.yaml"));
        JsonNode deployment = DeployFiles.yaml(DeployFiles.KUBERNETES.resolve("flinkdeployment.yaml"));
        assertThat(monitor.get("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(monitor.get("kind").asText()).isEqualTo("PodMonitor");
        // Flink's native Kubernetes integration labels every pod app=<cluster id>, type=flink-native-kubernetes.
        assertThat(monitor.at("/spec/selector/matchLabels/app").asText())
                .isEqualTo(deployment.at("/metadata/name").asText());
        assertThat(monitor.at("/spec/selector/matchLabels/type").asText()).isEqualTo("flink-native-kubernetes");
        assertThat(monitor.at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo("metrics");
    }

    @Test
    void kustomizationAppliesTheManifestsButNotTheExampleSecrets() {
        JsonNode k = DeployFiles.yaml(DeployFiles.KUBERNETES.resolve("kustomization.yaml"));
        List<String> resources = strings(k.get("resources"));
        assertThat(resources).containsExactlyInAnyOrder("flinkdeployment.yaml", "podmonitor.yaml");
        for (String r : resources) {
            assertThat(DeployFiles.KUBERNETES.resolve(r)).exists();
        }
        assertThat(k.at("/generatorOptions/disableNameSuffixHash").asBoolean()).isTrue();
        for (JsonNode doc : DeployFiles.yamlDocuments(DeployFiles.KUBERNETES.resolve("secrets.example.yaml"))) {
            assertThat(doc.get("kind").asText()).isEqualTo("Secret");
        }
    }

    // ------------------------------------------------------------------------------------------- helpers

    static void assertFlinkKeys(Map<String, String> settings, String where) {
        List<String> problems = new ArrayList<>();
        for (String key : settings.keySet()) {
            if (Options.all().containsKey(key)) {
                problems.add(key + ": a labelstream option, which belongs in the job's labelstream.yaml");
                continue;
            }
            FlinkConfigKeys.problem(key).ifPresent(problems::add);
        }
        assertThat(problems).as("Flink settings in %s", where).isEmpty();
    }

    /** Every field of {@code written} is in {@code read} with the same value: nothing was dropped as unknown. */
    static void assertRoundTrips(JsonNode written, JsonNode read, String path) {
        assertThat(read).as("%s: not in the operator's model (misspelt, or newer than it)", path).isNotNull();
        if (written.isObject()) {
            written.fields().forEachRemaining(e -> assertRoundTrips(e.getValue(), read.get(e.getKey()),
                    path + "/" + e.getKey()));
        } else if (written.isArray()) {
            assertThat(read.size()).as(path).isEqualTo(written.size());
            for (int i = 0; i < written.size(); i++) {
                assertRoundTrips(written.get(i), read.get(i), path + "/" + i);
            }
        } else if (written.isNumber() && read.isNumber()) {
            assertThat(read.decimalValue()).as(path).isEqualByComparingTo(written.decimalValue());
        } else {
            assertThat(read.asText()).as(path).isEqualTo(written.asText());
        }
    }

    static RunCommand runCommand(List<String> args) {
        CommandLine.ParseResult r = Main.commandLine().parseArgs(args.toArray(String[]::new));
        assertThat(r.subcommand()).as("program arguments %s", args).isNotNull();
        assertThat(r.subcommand().commandSpec().name()).isEqualTo("run");
        RunCommand run = (RunCommand) r.subcommand().commandSpec().userObject();
        assertThat(run.config).as("run --config").isNotNull();
        return run;
    }

    /** The host file of a Compose service's bind mount at {@code containerPath}. */
    static Path hostFileMountedAt(JsonNode service, String containerPath) {
        for (JsonNode v : service.get("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts.length >= 2 && parts[1].equals(containerPath)) {
                Path host = DeployFiles.ROOT.resolve(parts[0]).normalize();
                assertThat(host).exists();
                return host;
            }
        }
        throw new AssertionError("no volume mounted at " + containerPath);
    }

    static Map<String, String> environment(JsonNode service) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode env = service.path("environment");
        if (env.isArray()) {
            for (JsonNode e : env) {
                String[] kv = e.asText().split("=", 2);
                out.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        } else {
            env.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }

    static Container mainContainer(PodSpec pod) {
        return pod.getContainers().stream().filter(c -> c.getName().equals("flink-main-container")).findFirst()
                .orElseThrow(() -> new AssertionError("no flink-main-container in the pod template"));
    }

    static Map<String, String> env(Container c) {
        Map<String, String> out = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            out.put(e.getName(), e.getValue());
        }
        return out;
    }

    static Map<String, Set<String>> exampleSecrets() {
        Map<String, Set<String>> out = new HashMap<>();
        for (JsonNode doc : DeployFiles.yamlDocuments(DeployFiles.KUBERNETES.resolve("secrets.example.yaml"))) {
            out.put(doc.at("/metadata/name").asText(), names(doc.get("stringData")));
        }
        return out;
    }

    static String arg(String dockerfile, String name) {
        Matcher m = Pattern.compile("(?m)^ARG " + name + "=(\\S+)$").matcher(dockerfile);
        assertThat(m.find()).as("ARG %s in deploy/Dockerfile", name).isTrue();
        return m.group(1);
    }

    static Set<String> names(JsonNode object) {
        Set<String> out = new LinkedHashSet<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    static boolean classExists(String name) {
        try {
            Class.forName(name);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
