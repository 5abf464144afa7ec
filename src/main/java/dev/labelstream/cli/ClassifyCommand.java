package dev.labelstream.cli;

import dev.labelstream.config.ModelArgs;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.moderation.ModerationPolicy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Classifies texts from the command line or stdin: try a model before streaming with it. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classify texts given as arguments, or one per line on stdin, and print labels, scores"
                + " and the moderation action.",
                "Example: java -jar target/labelstream.jar classify \"WIN a FREE cruise, click now\""})
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--pair", paramLabel = "TEXT", description = "Second segment for every text (pair models).")
    String pair;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
            description = "Texts per model call when reading stdin (default: ${DEFAULT-VALUE}).")
    int batch;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to classify; none: read stdin.")
    List<String> texts = new ArrayList<>();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ModelBundle bundle = ModelBundle.load(modelArgs.modelDir());
        ModerationPolicy policy = new ModerationPolicy(bundle.labels(), bundle.thresholds(), bundle.policyVersion());
        try (BatchClassifier classifier = BatchClassifier.open(bundle, modelArgs.toConfiguration())) {
            out.printf("model %s %s on %s%n", bundle.name(), bundle.version(), classifier.provider());
            if (!texts.isEmpty()) {
                print(out, classifier, policy, texts);
            } else {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                List<String> chunk = new ArrayList<>();
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.isBlank()) {
                        chunk.add(line);
                    }
                    if (chunk.size() == batch) {
                        print(out, classifier, policy, chunk);
                        chunk.clear();
                    }
                }
                if (!chunk.isEmpty()) {
                    print(out, classifier, policy, chunk);
                }
            }
        }
        out.flush();
        return 0;
    }

    private void print(PrintWriter out, BatchClassifier classifier, ModerationPolicy policy, List<String> batch) {
        List<TextInput> inputs = new ArrayList<>();
        for (String t : batch) {
            inputs.add(new TextInput(t, pair));
        }
        List<Classification> results = classifier.classify(inputs).results();
        List<String> labels = classifier.bundle().labels();
        for (int i = 0; i < results.size(); i++) {
            Classification c = results.get(i);
            StringBuilder scores = new StringBuilder();
            for (int l = 0; l < labels.size(); l++) {
                scores.append(String.format(Locale.ROOT, " %s=%.4f", labels.get(l), c.scores()[l]));
            }
            String text = batch.get(i);
            String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
            out.printf(Locale.ROOT, "%-8s %-6s%s%s  \"%s\"%n", labels.get(c.top()),
                    policy.decide(c.scores()).action(), scores, c.truncated() ? " (truncated)" : "", shown);
        }
    }
}
