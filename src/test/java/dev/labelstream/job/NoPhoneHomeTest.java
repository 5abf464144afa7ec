package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.labelstream.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DJL's {@code HuggingFaceTokenizer.newInstance} calls {@code Ec2Utils.callHome} (cloud metadata address,
 * telemetry URL) unless OPT_OUT_TRACKING is true: it is set in code before the first tokenizer of every entry
 * point, and in every deployment file.
 */
class NoPhoneHomeTest {
    private static final Path MAIN = Path.of("src/main/java");

    @Test
    void everyTokenizerIsBuiltByTheClassThatOptsOutFirst() throws Exception {
        List<Path> builders;
        try (Stream<Path> files = Files.walk(MAIN)) {
            builders = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> read(p).contains("HuggingFaceTokenizer.newInstance")).toList();
        }
        // One place builds tokenizers (the job, classify, the demo and the bench all go through it) ...
        assertThat(builders).containsExactly(MAIN.resolve("dev/labelstream/inference/TextEncoder.java"));
        String source = read(builders.get(0));
        // ... and its static initializer, which runs before any of its code, opts out.
        assertThat(source.indexOf("System.setProperty(\"OPT_OUT_TRACKING\", \"true\")"))
                .isPositive().isLessThan(source.indexOf("return HuggingFaceTokenizer.newInstance"));
        assertThat(source).contains("static {");
    }

    @Test
    void classifyRunsWithTrackingOptedOut() {
        StringWriter out = new StringWriter();
        int rc = Main.commandLine().setOut(new PrintWriter(out, true)).execute("classify", "--model",
                JobTestSupport.defaultModel().toString(), "win a free prize now");
        assertThat(rc).as(out.toString()).isZero();
        assertThat(System.getProperty("OPT_OUT_TRACKING")).isEqualTo("true");
    }

    @Test
    void deploymentFilesOptOut() {
        assertThat(DeployFiles.text(DeployFiles.DOCKERFILE)).containsPattern("(?m)^\\s*OPT_OUT_TRACKING=true");
        JsonNode services = DeployFiles.yaml(DeployFiles.COMPOSE).get("services");
        for (String s : List.of("jobmanager", "taskmanager", "loadgen")) {
            assertThat(services.at("/" + s + "/environment/OPT_OUT_TRACKING").asText()).as(s).isEqualTo("true");
        }
        String k8s = DeployFiles.text(DeployFiles.KUBERNETES.resolve("flinkdeployment.yaml"));
        // JobManager and TaskManager pod templates both.
        assertThat(k8s.split("name: OPT_OUT_TRACKING\\s+value: \"true\"", -1)).hasSize(3);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
