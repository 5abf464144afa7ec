package dev.labelstream.cli;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.config.ModelArgs;
import dev.labelstream.demo.DemoData;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.PolicySettings;
import dev.labelstream.policy.ModelControl;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.policy.PolicyTopic;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelstream policy validate | publish | promote}: check a policy document against a model and see what it
 * would change before it goes live, then publish it to the policy topic (docs/policy.md); promote a model
 * (docs/shadow.md). Exit codes: 0 done, 1 the
 * policy was rejected (the reason names the JSON path), 2 bad arguments (picocli).
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Check and publish moderation policy documents (docs/policy.md).",
        subcommands = {PolicyCommand.Validate.class, PolicyCommand.Publish.class, PolicyCommand.Promote.class})
final class PolicyCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static PolicyDocument read(Path file, PrintWriter err) throws Exception {
        try {
            return PolicyDocument.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (PolicyRejectedException e) {
            err.println(file + ": rejected: " + e.getMessage());
            return null;
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = {"Check a policy against a model bundle (labels, thresholds) and print how its"
                    + " decisions on a sample corpus differ from the bundle's built-in thresholds.",
                    "Example: labelstream policy validate stricter.json --tenant acme"})
    static final class Validate implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The policy document (JSON).")
        Path file;

        @Mixin
        ModelArgs modelArgs;

        @Option(names = "--corpus", paramLabel = "FILE",
                description = "Texts to compare on, one per line. Default: the demo's real messages.")
        Path corpus;

        @Option(names = "--tenant", paramLabel = "NAME", description = "Decide as for this tenant's records.")
        String tenant;

        @Option(names = "--topic", paramLabel = "NAME", description = "Decide as for this input topic's records.")
        String topic;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            PolicyDocument policy = read(file, err);
            if (policy == null) {
                return 1;
            }
            ModelBundle bundle = ModelBundle.load(modelArgs.modelDir());
            try {
                policy.checkFits(bundle.labels());
            } catch (PolicyRejectedException e) {
                err.println(file + ": rejected for model " + bundle.name() + ": " + e.getMessage());
                return 1;
            }
            out.printf("%s: %s fits model %s %s (labels %s)%n", file, policy, bundle.name(), bundle.version(),
                    bundle.labels());
            if (policy.failurePolicy() != null) {
                out.printf("failure policy %s (overrides classification.failure-policy)%n", policy.failurePolicy());
            }
            List<String> texts = corpus != null
                    ? Files.readAllLines(corpus, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList()
                    : DemoData.messages().stream().map(DemoData.Message::text).toList();
            ModerationPolicy bundlePolicy = PolicySettings.bundlePolicy(bundle);
            PolicyDocument builtIn = PolicyDocument.builtIn(policy.id(), bundlePolicy.thresholds(),
                    bundlePolicy.version());
            Map<ModerationAction, Map<ModerationAction, Integer>> moves = new EnumMap<>(ModerationAction.class);
            try (BatchClassifier classifier = BatchClassifier.open(bundle, modelArgs.toConfiguration())) {
                for (int from = 0; from < texts.size(); from += 32) {
                    List<TextInput> inputs = new ArrayList<>();
                    for (String t : texts.subList(from, Math.min(texts.size(), from + 32))) {
                        inputs.add(new TextInput(t, null));
                    }
                    for (Classification c : classifier.classify(inputs).results()) {
                        ModerationAction before = builtIn.decide(c.scores(), bundle.labels(), tenant, topic).action();
                        ModerationAction after = policy.decide(c.scores(), bundle.labels(), tenant, topic).action();
                        moves.computeIfAbsent(before, k -> new EnumMap<>(ModerationAction.class))
                                .merge(after, 1, Integer::sum);
                    }
                }
            }
            out.printf("%d texts (%s), built-in thresholds (%s) -> %s%s%s:%n", texts.size(),
                    corpus != null ? corpus : "the demo's messages", bundlePolicy.version(), policy,
                    tenant != null ? ", tenant " + tenant : "", topic != null ? ", topic " + topic : "");
            int changed = 0;
            for (ModerationAction before : ModerationAction.values()) {
                for (ModerationAction after : ModerationAction.values()) {
                    int n = moves.getOrDefault(before, Map.of()).getOrDefault(after, 0);
                    if (n > 0) {
                        out.printf("  %-6s -> %-6s %6d%s%n", before, after, n, before == after ? "" : "  (changed)");
                        changed += before == after ? 0 : n;
                    }
                }
            }
            out.printf("%d of %d decisions change%n", changed, texts.size());
            out.flush();
            return 0;
        }
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = {"Validate a policy and publish it to the policy topic, keyed by its id (so compaction"
                    + " keeps the newest version of each). Refuses a version not newer than the topic's newest.",
                    "Example: labelstream policy publish stricter.json --bootstrap-servers localhost:9092"
                            + " --topic labelstream-policies"})
    static final class Publish implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The policy document (JSON).")
        Path file;

        @Mixin
        PolicyTopicArgs kafka;

        @Option(names = "--model", paramLabel = "DIR",
                description = "Also check the policy's labels against this model bundle.")
        Path model;


        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            PolicyDocument policy = read(file, err);
            if (policy == null) {
                return 1;
            }
            List<String> labels = null;
            if (model != null) {
                labels = ModelBundle.load(model).labels();
                try {
                    policy.checkFits(labels);
                } catch (PolicyRejectedException e) {
                    err.println(file + ": rejected for " + model + ": " + e.getMessage());
                    return 1;
                }
            }
            Properties props = new Properties();
            props.putAll(kafka.properties);
            props.put("bootstrap.servers", kafka.bootstrapServers);
            Optional<PolicyDocument> newest = PolicyTopic.readNewest(props, kafka.topic, policy.id(), labels, kafka.timeout);
            if (newest.isPresent() && !policy.isNewerThan(newest.get())) {
                err.println(file + ": rejected: $.version: " + policy.version() + " is not newer than " + newest.get()
                        + " on " + kafka.topic + ": publish the change with a version above " + newest.get().version());
                return 1;
            }
            try (KafkaProducer<byte[], byte[]> producer = producer(props, kafka.timeout)) {
                // The file's own text, as validated: its description and layout stay readable on the topic.
                byte[] value = Files.readAllBytes(file);
                RecordMetadata m = producer.send(new ProducerRecord<>(kafka.topic, PolicyTopic.key(policy), value)).get();
                out.printf("published %s to %s-%d@%d%s%n", policy, m.topic(), m.partition(), m.offset(),
                        newest.map(n -> " (replaces " + n + ")").orElse(""));
            }
            out.flush();
            return 0;
        }
    }

    /** A producer for one control record, acknowledged by every replica, bounded by {@code timeout}. */
    static KafkaProducer<byte[], byte[]> producer(Properties props, Duration timeout) {
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(timeout.toMillis(), 1000));
        // delivery.timeout.ms must cover linger.ms + request.timeout.ms, or the producer refuses to start.
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(timeout.toMillis() / 2, 500));
        return new KafkaProducer<>(props);
    }

    // Not mixinStandardHelpOptions: its -V/--version clashes with the bundle's --version below, and picocli then
    // leaves out the whole mixin, --help included. -h/--help is declared here instead.
    @Command(name = "promote",
            description = {"Put a model in force in the running jobs that follow --policy-id, without a restart: a"
                    + " control record keyed <policy-id>/model on the policy topic (docs/shadow.md). Each job checks"
                    + " the bundle (its startup checks, the version, the same labels, the policy in force fits) and"
                    + " either puts it in force for every record batched after it, or rejects it with a policy_event"
                    + " and keeps its model. The bundle is named by an absolute path every TaskManager sees.",
                    "Example: labelstream policy promote --model-dir /models/spam-1.2.0 --version 1.2.0"
                            + " --policy-id community --bootstrap-servers localhost:9092 --topic labelstream-policies"})
    static final class Promote implements Callable<Integer> {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--model-dir", paramLabel = "DIR",
                description = "The bundle to put in force (checked here too, as the jobs will).")
        Path modelDir;

        @Option(names = "--version", paramLabel = "VERSION",
                description = "Its version (default: the bundle's own, read from it).")
        String version;

        @Option(names = "--shadow", description = "Promote each job's own shadow.model.dir instead.")
        boolean shadow;

        @Option(names = "--policy-id", required = true, paramLabel = "ID",
                description = "The jobs' moderation.policy-id.")
        String policyId;

        @Mixin
        PolicyTopicArgs kafka;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (shadow == (modelDir != null)) {
                err.println("give either --model-dir DIR or --shadow");
                return 2;
            }
            if (shadow && version != null) {
                // The record names no version: each job promotes its shadow.model.dir as configured.
                err.println("--version goes with --model-dir: --shadow promotes each job's shadow.model.dir at its"
                        + " own version");
                return 2;
            }
            ModelControl control;
            if (shadow) {
                control = new ModelControl(null, null);
            } else {
                Path dir = modelDir.toAbsolutePath().normalize();
                String bundleVersion;
                try {
                    bundleVersion = ModelBundle.load(dir).identity().version();
                } catch (RuntimeException e) {
                    err.println(dir + ": not a model bundle: " + e.getMessage());
                    return 1;
                }
                if (version != null && !version.equals(bundleVersion)) {
                    err.println(dir + " is version " + bundleVersion + ", not " + version);
                    return 1;
                }
                control = new ModelControl(dir.toString(), bundleVersion);
            }
            Properties props = new Properties();
            props.putAll(kafka.properties);
            props.put("bootstrap.servers", kafka.bootstrapServers);
            try (KafkaProducer<byte[], byte[]> producer = producer(props, kafka.timeout)) {
                RecordMetadata m = producer.send(new ProducerRecord<>(kafka.topic,
                        ModelControl.key(policyId).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        control.toJson())).get();
                out.printf("published %s to %s-%d@%d: the jobs following %s report MODEL_PROMOTED or"
                        + " MODEL_REJECTED on their report topic%n", new String(control.toJson(),
                        java.nio.charset.StandardCharsets.UTF_8), m.topic(), m.partition(), m.offset(), policyId);
            }
            out.flush();
            return 0;
        }
    }

    /** The policy topic and how to reach it: the options publish and promote share. */
    static final class PolicyTopicArgs {
        @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,...]",
                description = "Kafka brokers.")
        String bootstrapServers;

        @Option(names = "--topic", required = true, paramLabel = "TOPIC",
                description = "The policy topic (the jobs' kafka.policy-topic).")
        String topic;

        @Option(names = "--property", paramLabel = "KEY=VALUE",
                description = "Kafka client property (security settings), repeatable.")
        Map<String, String> properties = Map.of();

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "PT30S",
                description = "How long to wait for Kafka (ISO-8601, default: ${DEFAULT-VALUE}).")
        Duration timeout;
    }
}
