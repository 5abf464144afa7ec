package dev.labelstream.job;

import dev.labelstream.cli.LoadgenCommand;
import dev.labelstream.cli.Main;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The cluster artifacts the image is made of (after `package`): target/labelstream-job.jar for
 * /opt/flink/usrlib and target/flink-lib for /opt/flink/lib. The job jar must leave out Flink and the
 * JNI-carrying jars, flink-lib must hold exactly those, and the two together with Flink's own jars only must
 * classify a text with the real default model, which is what deploy/Dockerfile checks at build time.
 */
class JobJarIT {
    static final Path JOB_JAR = Path.of("target", "labelstream-job.jar");
    static final Path FLINK_LIB = Path.of("target", "flink-lib");

    /** The jars that stand in for the Flink image's lib/ (flink-dist and Log4j), picked from the test classpath. */
    static final Pattern FLINK_DIST = Pattern.compile(".*/(org/apache/flink/flink-(annotations|core|core-api"
            + "|metrics-core|runtime|streaming-java|clients|datastream|datastream-api|file-sink-common"
            + "|connector-datagen|hadoop-fs|queryable-state-client-java|rpc-[^/]+|shaded-[^/]+)|org/snakeyaml"
            + "|com/esotericsoftware|org/objenesis|commons-collections|commons-cli|commons-io|org/apache/commons/"
            + "commons-(math3|text)|org/javassist|org/xerial/snappy|at/yawk/lz4|tools/profiler|com/google/code/"
            + "findbugs|org/slf4j|org/apache/logging/log4j)/.*\\.jar");

    @Test
    void theJobJarLeavesOutFlinkTheJniJarsAndTheDemoBroker() throws Exception {
        assertThat(JOB_JAR).exists();
        Set<String> entries = new TreeSet<>();
        try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
            jar.stream().forEach(e -> entries.add(e.getName()));
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo(Main.class.getName());
        }
        assertThat(entries).contains("dev/labelstream/cli/Main.class", "dev/labelstream/cli/LoadgenCommand.class",
                "org/apache/flink/connector/kafka/source/KafkaSource.class",
                "org/apache/kafka/clients/consumer/KafkaConsumer.class", "picocli/CommandLine.class",
                "org/apache/avro/Schema.class", "all-minilm-l6-v2.onnx", "models/spam-minilm-l6/head.json",
                "all-minilm-l6-v2-q.onnx", "models/spam-minilm-l6-int8/head.json",
                "models/spam-minilm-l6-int8/reference-profile.json", "demo/spamassassin-sample.jsonl.gz");
        for (String prefix : List.of("ai/onnxruntime/", "ai/djl/", "com/sun/jna/", "com/google/gson/",
                "org/apache/flink/runtime/", "org/apache/flink/api/common/", "org/apache/flink/streaming/api/",
                "org/apache/flink/metrics/prometheus/", "org/apache/logging/log4j/", "org/slf4j/",
                "com/esotericsoftware/kryo/", "kafka/server/", "org/apache/kafka/raft/", "scala/")) {
            assertThat(entries).as("no %s in the job jar", prefix).noneMatch(e -> e.startsWith(prefix));
        }
    }

    @Test
    void flinkLibHoldsExactlyTheJniCarryingJars() throws Exception {
        List<String> jars;
        try (Stream<Path> s = Files.list(FLINK_LIB)) {
            jars = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(jars).hasSize(5);
        assertThat(jars).anyMatch(j -> j.matches("onnxruntime(_gpu)?-[0-9.]+\\.jar"))
                .anyMatch(j -> j.matches("tokenizers-[0-9.]+\\.jar"))
                .anyMatch(j -> j.matches("api-[0-9.]+\\.jar"))
                .anyMatch(j -> j.matches("jna-[0-9.]+\\.jar"))
                .anyMatch(j -> j.matches("gson-[0-9.]+\\.jar"));
    }

    @Test
    void theJobJarAndFlinkLibAloneClassifyWithTheDefaultModel() throws Exception {
        List<String> flinkDist = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (FLINK_DIST.matcher(entry.replace(File.separatorChar, '/')).matches()) {
                flinkDist.add(entry);
            }
        }
        assertThat(flinkDist).as("Flink's jars on the test classpath").hasSizeGreaterThan(10);
        List<String> classpath = new ArrayList<>(List.of(JOB_JAR.toAbsolutePath().toString(),
                FLINK_LIB.toAbsolutePath() + File.separator + "*"));
        classpath.addAll(flinkDist);

        Path work = Files.createDirectories(Path.of("target", "job-jar-it"));
        String out = java(classpath, work, "classify", "WIN a FREE cruise!!! Click here now to claim your prize",
                "Are we still meeting for lunch tomorrow at noon?");
        assertThat(out).contains("model spam-minilm-l6").containsPattern("(?m)^spam .*WIN a FREE cruise")
                .containsPattern("(?m)^ham .*lunch tomorrow");
        assertThat(java(classpath, work, "loadgen", "--help")).contains("--bootstrap-servers");
        assertThat(java(classpath, work, "run", "--help")).contains("kafka.bootstrap-servers");
    }

    /** Runs Main in a fresh JVM on {@code classpath} (through CLASSPATH: see STACK-NOTES on long -cp); stdout. */
    static String java(List<String> classpath, Path work, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + Files.createDirectories(work.resolve("tmp")).toAbsolutePath(),
                "-Dlabelstream.cache-dir=" + work.resolve("cache").toAbsolutePath(),
                Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(work.resolve("out.txt").toFile());
        pb.environment().put("CLASSPATH", String.join(File.pathSeparator, classpath));
        Process p = pb.start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("%s finished", List.of(args)).isTrue();
        String out = Files.readString(work.resolve("out.txt"), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("exit status of %s; output:%n%s", List.of(args), out).isZero();
        return out;
    }
}
