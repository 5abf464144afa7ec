package dev.labelstream.cli;

import dev.labelstream.bench.BenchCommand;
import dev.labelstream.config.Options;
import dev.labelstream.demo.DemoCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code labelstream} command line: {@code java -jar labelstream.jar <command> --help}. */
@Command(
        name = "labelstream",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Streaming text classification on Apache Flink with ONNX Runtime transformer classifiers.",
        subcommands = {RunCommand.class, DemoCommand.class, BenchCommand.class, ClassifyCommand.class,
                ProfileCommand.class, TrainHeadCommand.class, LoadgenCommand.class, PolicyCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        int rc = run(args);
        // 'run' may execute inside a Flink JobManager (application mode): exiting would take it down.
        if (rc != 0 || args.length == 0 || !args[0].equals("run")) {
            System.exit(rc);
        }
    }

    static int run(String... args) {
        return run(null, null, args);
    }

    /** {@link #run(String...)} writing to {@code out} and {@code err} (null: standard out and error). */
    static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = commandLine();
        cli.getSubcommands().get("run").getCommandSpec().usageMessage().footer(Options.helpFooter());
        if (out != null) {
            cli.setOut(out);
        }
        if (err != null) {
            cli.setErr(err);
        }
        return cli.execute(args);
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // Users get the message that says what to fix; the stack trace is for --verbose runs.
                    cmd.getErr().println("labelstream " + cmd.getCommandName() + ": " + e.getMessage());
                    if (Boolean.getBoolean("labelstream.verbose")) {
                        e.printStackTrace(cmd.getErr());
                    }
                    return 2;
                });
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"labelstream " + (v == null ? "(development build)" : v)};
        }
    }
}
