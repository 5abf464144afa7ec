package dev.labelstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.config.Options;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.job.JobTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every option of every *Options class (found by reflection through {@link Options#all()}, so options added
 * later are covered too) with a bad value: {@code labelstream run} exits 2 and says which key, before Kafka or
 * Flink is touched (the bootstrap address given here has no broker behind it).
 */
class InvalidOptionsTest {
    /** Bad values of the free-text options that have one. */
    private static final Map<String, String> BAD_STRINGS = Map.ofEntries(
            Map.entry("kafka.bootstrap-servers", ""),
            Map.entry("kafka.input-topic", "bad topic!"),
            Map.entry("kafka.output-topic", "bad topic!"),
            Map.entry("kafka.dead-letter-topic", "texts"),
            Map.entry("kafka.drift-topic", "texts"),
            Map.entry("kafka.group-id", " "),
            Map.entry("kafka.transactional-id-prefix", " "),
            Map.entry("job.name", " "),
            Map.entry("model.dir", "/nonexistent/labelstream-model"),
            Map.entry("drift.reference-profile", "/nonexistent/reference-profile.json"),
            Map.entry("shadow.model.dir", "/nonexistent/labelstream-shadow-model"),
            // checked with or without a shadow model, as a name
            Map.entry("kafka.shadow-topic", "bad topic!"),
            // the input topic: a policy topic must be none of the job's own
            Map.entry("kafka.policy-topic", "texts"),
            Map.entry("moderation.policy-id", "bad id!"),
            Map.entry("moderation.tenant-attribute", " "));
    /** Options with no invalid value of their own, and why. */
    private static final Map<String, String> EXEMPT = Map.of(
            "moderation.policy-version", "any non-blank text is a version; it is checked together with"
                    + " moderation.thresholds (see policyVersionIsRequiredWithThresholds)");
    /** Numbers for which a negative value is legitimate. */
    private static final Set<String> NEGATIVE_ALLOWED_SUFFIXES = Set.of(
            // a warn threshold need only be <= its alert threshold: a negative one warns on every window
            ".warn");
    /** Durations that must be positive (0 is refused). */
    private static final Set<String> POSITIVE_DURATIONS = Set.of("job.checkpoint-interval", "job.checkpoint-timeout",
            "async.timeout", "drift.window");
    /** Extra bad values for specific options, beyond the one from their type. */
    private static final Map<String, List<String>> EXTRA = Map.of(
            "inference.token-budget", List.of("1"),
            "inference.min-padding-efficiency", List.of("1.5", "NaN"),
            "moderation.thresholds", List.of("{\"spam\": {\"review\": 0.9, \"block\": 0.5}}",
                    "{\"spam\": {\"review\": 2}}", "{\"nolabel\": {\"review\": 0.5}}", "[1, 2]"),
            "kafka.properties", List.of("transaction.timeout.ms:1000"),
            "inference.max-length", List.of("4"),
            "async.max-retries", List.of("100"));

    static Stream<Arguments> badValues() {
        Map<String, Type> types = new TreeMap<>();
        JobSettings.optionTypes().forEach((o, t) -> types.put(o.key(), t));
        assertThat(types.keySet()).isEqualTo(Options.all().keySet());
        List<Arguments> out = new ArrayList<>();
        for (ConfigOption<?> o : Options.all().values()) {
            String key = o.key();
            Type type = types.get(key);
            List<String> bad = new ArrayList<>(EXTRA.getOrDefault(key, List.of()));
            if (type == Integer.class || type == Double.class) {
                bad.add("x");
                if (NEGATIVE_ALLOWED_SUFFIXES.stream().noneMatch(key::endsWith)) {
                    bad.add("-1");
                }
            } else if (type == Boolean.class) {
                bad.add("maybe");
            } else if (type == Duration.class) {
                bad.add("10 parsecs");
                if (POSITIVE_DURATIONS.contains(key)) {
                    bad.add("0 ms");
                }
            } else if (type == MemorySize.class) {
                bad.add("lots");
                bad.add("0");
            } else if (type instanceof Class<?> c && c.isEnum()) {
                bad.add("BOGUS");
            } else if (type instanceof ParameterizedType p && p.getRawType() == Map.class) {
                bad.add("a:'unclosed");
            } else if (type == String.class) {
                if (key.equals("moderation.thresholds")) {
                    bad.add("{");
                } else if (BAD_STRINGS.containsKey(key)) {
                    bad.add(BAD_STRINGS.get(key));
                } else {
                    assertThat(EXEMPT).as("option %s needs a bad value in BAD_STRINGS or a reason in EXEMPT", key)
                            .containsKey(key);
                }
            } else {
                throw new AssertionError("option " + key + " has a type this test does not know: " + type);
            }
            for (String b : bad) {
                out.add(Arguments.of(key, b));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void runExitsTwoNamingTheKey(String key, String bad) {
        List<String> args = new ArrayList<>(List.of("run", "--set", "kafka.bootstrap-servers=localhost:1",
                "--set", "model.dir=" + JobTestSupport.defaultModel().toAbsolutePath()));
        if (key.startsWith("moderation.thresholds")) {
            args.addAll(List.of("--set", "moderation.policy-version=p1"));
        }
        args.addAll(List.of("--set", key + "=" + bad));
        Result r = run(args.toArray(String[]::new));
        assertThat(r.code).as("exit code; stderr: %s", r.err).isEqualTo(2);
        assertThat(r.err).as("stderr").contains(key).doesNotContain("Exception:").doesNotContain("\tat ");
        assertThat(r.millis).as("ms to refuse").isLessThan(20_000);
    }

    @Test
    void policyVersionIsRequiredWithThresholds() {
        Result r = run("run", "--set", "kafka.bootstrap-servers=localhost:1", "--set",
                "model.dir=" + JobTestSupport.defaultModel().toAbsolutePath(), "--set",
                "moderation.thresholds={\"spam\": {\"review\": 0.5, \"block\": 0.9}}");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("moderation.policy-version").contains("moderation.thresholds");
    }

    @Test
    void policyIdIsRequiredWithThePolicyTopic() {
        Result r = run("run", "--set", "kafka.bootstrap-servers=localhost:1", "--set",
                "model.dir=" + JobTestSupport.defaultModel().toAbsolutePath(), "--set",
                "kafka.policy-topic=policies");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("moderation.policy-id").contains("kafka.policy-topic");
    }

    @Test
    void everyCommandsHelpPrintsNoWarning() {
        for (List<String> command : commands(Main.commandLine(), List.of())) {
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            Result r = run(args.toArray(String[]::new));
            assertThat(r.code).as("%s; stderr: %s", args, r.err).isZero();
            assertThat(r.out + r.err).as(args.toString()).doesNotContain("[picocli WARN]").doesNotContain("Could not format");
        }
        Result run = run("run", "--help");
        // the '%' of a description printed as itself, the per-job defaults documented
        assertThat(run.out).contains("30% label").contains("kafka.group-id").contains("<job.name>.<input");
    }

    /** Every command and subcommand below {@code cli}, as the words that run it (e.g. [policy, promote]). */
    private static List<List<String>> commands(picocli.CommandLine cli, List<String> prefix) {
        List<List<String>> out = new ArrayList<>();
        cli.getSubcommands().forEach((name, sub) -> {
            List<String> path = new ArrayList<>(prefix);
            path.add(name);
            out.add(path);
            out.addAll(commands(sub, path));
        });
        return out;
    }

    record Result(int code, String out, String err, long millis) {}

    /** Runs the command line; picocli's own warnings go to System.err, so that is captured too. */
    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        long t0 = System.nanoTime();
        int code;
        try {
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        } finally {
            System.setErr(saved);
        }
        return new Result(code, out.toString(), err + stderr.toString(StandardCharsets.UTF_8),
                (System.nanoTime() - t0) / 1_000_000);
    }
}
