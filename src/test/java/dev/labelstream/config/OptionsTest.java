package dev.labelstream.config;

import dev.labelstream.cli.Main;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptionsTest {
    @TempDir
    Path dir;

    @Test
    void yamlNestedAndFlatKeysWithOverrides() throws Exception {
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, """
                kafka:
                  bootstrap-servers: b1:9092
                  input-topic: comments
                  properties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: SCRAM-SHA-512
                input.format: avro
                batching:
                  linger: 50 ms
                restart-strategy.type: fixed-delay
                """);
        Configuration c = Options.load(yaml, Map.of("batching.max-records", "16"));
        assertThat(c.get(KafkaOptions.BOOTSTRAP_SERVERS)).isEqualTo("b1:9092");
        assertThat(c.get(KafkaOptions.INPUT_TOPIC)).isEqualTo("comments");
        assertThat(c.get(KafkaOptions.INPUT_FORMAT)).isEqualTo(InputFormat.AVRO);
        assertThat(c.get(BatchingOptions.LINGER)).isEqualTo(Duration.ofMillis(50));
        assertThat(c.get(BatchingOptions.MAX_RECORDS)).isEqualTo(16);
        assertThat(c.get(KafkaOptions.PROPERTIES)).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(c.getString("restart-strategy.type", null)).isEqualTo("fixed-delay");
    }

    @Test
    void kafkaPropertiesGivenAsOneMapBecomeOneKeyEachSoFlinkHidesTheirSecrets() {
        Configuration c = Options.load(null, Map.of("kafka.properties",
                "security.protocol:SASL_SSL,ssl.truststore.password:hunter2"));
        assertThat(c.toMap()).doesNotContainKey("kafka.properties")
                .containsEntry("kafka.properties.ssl.truststore.password", "hunter2");
        assertThat(c.get(KafkaOptions.PROPERTIES)).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("ssl.truststore.password", "hunter2");
        // what Flink's web UI and logs mask is decided by the key alone
        assertThat(org.apache.flink.configuration.GlobalConfiguration.isSensitive("kafka.properties")).isFalse();
        assertThat(org.apache.flink.configuration.GlobalConfiguration.isSensitive(
                "kafka.properties.ssl.truststore.password")).isTrue();
        assertThat(org.apache.flink.configuration.GlobalConfiguration.isSensitive(
                "kafka.properties.sasl.jaas.config")).isTrue();
        assertThatThrownBy(() -> Options.load(null, Map.of("kafka.properties", "a:'unclosed,password:hunter2")))
                .hasMessageContaining("kafka.properties").satisfies(e -> assertThat(e.getMessage())
                        .doesNotContain("hunter2"));
    }

    @Test
    void misspeltKeysAreRejectedWithASuggestion() throws Exception {
        Path yaml = dir.resolve("job.yaml");
        Files.writeString(yaml, "batching.max-record: 3\n");
        assertThatThrownBy(() -> Options.load(yaml, Map.of()))
                .hasMessageContaining(yaml.toString())
                .hasMessageContaining("unknown option 'batching.max-record'")
                .hasMessageContaining("did you mean 'batching.max-records'");
        assertThatThrownBy(() -> Options.load(null, Map.of("kafka.inputtopic", "x")))
                .hasMessageContaining("--set").hasMessageContaining("kafka.input-topic");
        assertThatThrownBy(() -> Options.load(dir.resolve("missing.yaml"), Map.of()))
                .hasMessageContaining("missing.yaml").hasMessageContaining("not found");
    }

    /** Every option's key is under one of labelstream's own prefixes, so a misspelling of it is refused. */
    @Test
    void aMisspellingOfEveryOptionIsRejected() {
        for (String key : Options.all().keySet()) {
            String misspelt = key.substring(0, key.length() - 1);
            assertThatThrownBy(() -> Options.load(null, Map.of(misspelt, "1"))).as(misspelt)
                    .hasMessageContaining("unknown option '" + misspelt + "'");
        }
        assertThatThrownBy(() -> Options.load(null, Map.of("shadow.model-dir", "/models/candidate")))
                .hasMessageContaining("did you mean 'shadow.model.dir'");
    }

    @Test
    void startupValidationNamesTheOption() {
        assertThatThrownBy(() -> Options.validate(new Configuration()))
                .hasMessageContaining("kafka.bootstrap-servers");
        Configuration c = Options.load(null, Map.of("kafka.bootstrap-servers", "x:1", "kafka.output-topic", "texts"));
        assertThatThrownBy(() -> Options.validate(c)).hasMessageContaining("kafka.input-topic")
                .hasMessageContaining("kafka.output-topic");
    }

    @Test
    void everyOptionHasADescriptionAndAppearsInHelp() {
        String table = Options.table();
        assertThat(Options.all()).isNotEmpty().allSatisfy((key, option) -> {
            assertThat(option.description().getBlocks()).as(key).isNotEmpty();
            assertThat(table).contains(key);
        });
    }

    @Test
    void helpListsTheOptions() {
        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cli = Main.commandLine();
        cli.getSubcommands().get("run").getCommandSpec().usageMessage().footer(Options.table());
        cli.setOut(new java.io.PrintWriter(out));
        assertThat(cli.execute("run", "--help")).isZero();
        assertThat(out.toString()).contains("kafka.bootstrap-servers").contains("batching.linger")
                .contains("classification.failure-policy");
    }
}
