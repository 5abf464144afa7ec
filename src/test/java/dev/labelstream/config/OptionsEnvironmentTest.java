package dev.labelstream.config;

import dev.labelstream.cli.Main;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.KafkaOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ${NAME} and ${NAME:-default} in option values: how Kubernetes Secrets and Compose settings reach the job. */
class OptionsEnvironmentTest {
    @TempDir
    Path dir;

    @Test
    void referencesAreReplacedFromTheEnvironment() throws Exception {
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, """
                kafka:
                  bootstrap-servers: "${BOOTSTRAP}"
                  input-topic: "${TOPIC:-texts}"
                  properties:
                    sasl.jaas.config: 'ScramLoginModule required username="${USER_NAME}" password="${PASSWORD}";'
                inference.provider: "${PROVIDER:-CUDA}"
                model.dir: "/models/$${NOT_A_VARIABLE}"
                """);
        Map<String, String> env = Map.of("BOOTSTRAP", "b1:9092,b2:9092", "USER_NAME", "ls", "PASSWORD", "p$w\\d}",
                "PROVIDER", "cpu");
        Configuration c = Options.load(yaml, Map.of("kafka.group-id", "g-${USER_NAME}"), env::get);
        assertThat(c.get(KafkaOptions.BOOTSTRAP_SERVERS)).isEqualTo("b1:9092,b2:9092");
        assertThat(c.get(KafkaOptions.INPUT_TOPIC)).isEqualTo("texts");
        assertThat(c.get(KafkaOptions.PROPERTIES)).containsEntry("sasl.jaas.config",
                "ScramLoginModule required username=\"ls\" password=\"p$w\\d}\";");
        assertThat(c.get(InferenceOptions.PROVIDER)).isEqualTo(InferenceOptions.Provider.CPU);
        assertThat(c.get(InferenceOptions.MODEL_DIR)).isEqualTo("/models/${NOT_A_VARIABLE}");
        assertThat(c.get(KafkaOptions.GROUP_ID)).isEqualTo("g-ls");
    }

    @Test
    void anEmptyVariableTakesTheDefaultAndAMissingOneIsAnErrorThatShowsNoValue() throws Exception {
        assertThat(Options.substitute("${A:-x}", Map.of("A", "")::get, "f", "k")).isEqualTo("x");
        assertThat(Options.substitute("${A}", Map.of("A", "")::get, "f", "k")).isEmpty();
        assertThat(Options.substitute("no reference", Map.<String, String>of()::get, "f", "k")).isEqualTo("no reference");
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, "kafka.properties.sasl.jaas.config: 'password=\"${KAFKA_PASSWORD}\" user=\"secret-user\"'\n");
        assertThatThrownBy(() -> Options.load(yaml, Map.of(), Map.<String, String>of()::get))
                .hasMessageContaining(yaml.toString())
                .hasMessageContaining("kafka.properties.sasl.jaas.config")
                .hasMessageContaining("KAFKA_PASSWORD")
                .hasMessageNotContaining("secret-user");
    }

    @Test
    void runHelpExplainsReferences() {
        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cli = Main.commandLine();
        cli.setOut(new java.io.PrintWriter(out));
        assertThat(cli.execute("run", "--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", "")).contains("${NAME}or${NAME:-default}");
    }
}
