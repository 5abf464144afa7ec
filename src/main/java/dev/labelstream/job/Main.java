package dev.labelstream.job;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code labelstream} command line: {@code java -jar labelstream.jar <command> --help}. */
@Command(
        name = "labelstream",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Streaming text classification on Apache Flink with ONNX Runtime transformer classifiers.",
        subcommands = {ClassifyCommand.class, TrainHeadCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // Users get the message that says what to fix; the stack trace is for --verbose runs.
                    cmd.getErr().println("labelstream " + cmd.getCommandName() + ": " + e.getMessage());
                    if (Boolean.getBoolean("labelstream.verbose")) {
                        e.printStackTrace(cmd.getErr());
                    }
                    return 2;
                })
                .execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"labelstream " + (v == null ? "(development build)" : v)};
        }
    }
}
