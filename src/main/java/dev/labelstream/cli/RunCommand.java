package dev.labelstream.cli;

import dev.labelstream.job.LabelstreamJob;
import dev.labelstream.config.Options;
import dev.labelstream.io.KafkaPreflight;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    @Override
    public Integer call() throws Exception {
        Configuration conf = Options.load(config, overrides);
        Options.validate(conf);
        // Fail now, with a message that names the settings, rather than restart forever on a rejected login.
        KafkaPreflight.check(conf, KafkaPreflight.DEFAULT_TIMEOUT);
        LabelstreamJob.run(conf);
        return 0;
    }
}
