package dev.labelstream.cli;

import dev.labelstream.settings.JobSettings;
import dev.labelstream.job.LabelstreamJob;
import dev.labelstream.job.PolicyStart;
import dev.labelstream.config.Options;
import dev.labelstream.io.KafkaPreflight;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the job against a real Kafka cluster: locally, or on a Flink cluster through {@code flink run}. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the labelstream job. Locally, it starts an embedded Flink cluster; under 'flink run"
                + " labelstream.jar run ...' or in application mode it runs on that cluster.",
                "Example: java -jar target/labelstream.jar run --config deploy/job.yaml"
                        + " --set kafka.bootstrap-servers=broker:9092"},
        footerHeading = "%nOptions (YAML keys, or --set key=value):%n")
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of options (nested or flat keys). Values may refer to environment"
            + " variables as $${NAME} or $${NAME:-default}, e.g. for secrets.")
    public Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "An option, overriding the YAML file.")
    public Map<String, String> overrides = new LinkedHashMap<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Configuration conf = Options.load(config, overrides);
        // Every option first, before Kafka or Flink is touched: a bad value exits 2 within seconds.
        JobSettings settings = Options.validate(conf);
        // Then Kafka, with a message that names the settings, rather than restart forever on a rejected login, a
        // missing dead-letter topic or a transaction timeout the broker refuses.
        for (String warning : KafkaPreflight.check(settings.configuration(), settings.writtenTopics(),
                KafkaPreflight.DEFAULT_TIMEOUT)) {
            spec.commandLine().getErr().println("labelstream run: warning: " + warning);
        }
        // The policy topic too; and start with its newest valid version rather than the bundle's thresholds.
        settings = PolicyStart.prepare(settings, KafkaPreflight.DEFAULT_TIMEOUT,
                w -> spec.commandLine().getErr().println("labelstream run: warning: " + w));
        spec.commandLine().getErr().flush();
        LabelstreamJob.run(settings);
        return 0;
    }
}
