package dev.labelstream.cli;

import dev.labelstream.config.ModelArgs;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decision;
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
        try (Classifier classifier = Classifier.open(modelArgs.toConfiguration())) {
            out.printf("model %s %s on %s%n", classifier.model().name(), classifier.model().version(),
                    classifier.provider());
            if (!texts.isEmpty()) {
                print(out, classifier, texts);
            } else {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                List<String> chunk = new ArrayList<>();
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.isBlank()) {
                        chunk.add(line);
                    }
                    if (chunk.size() == batch) {
                        print(out, classifier, chunk);
                        chunk.clear();
                    }
                }
                if (!chunk.isEmpty()) {
                    print(out, classifier, chunk);
                }
            }
        }
        out.flush();
        return 0;
    }

    private void print(PrintWriter out, Classifier classifier, List<String> batch) {
        List<Classifier.Request> requests = new ArrayList<>();
        for (String t : batch) {
            requests.add(new Classifier.Request(null, t, pair));
        }
        List<Decision> decisions = classifier.classify(requests, null).decisions();
        List<String> labels = classifier.model().labels();
        for (int i = 0; i < decisions.size(); i++) {
            Decision d = decisions.get(i);
            float[] s = d.scores();
            StringBuilder scores = new StringBuilder();
            for (int l = 0; l < labels.size(); l++) {
                scores.append(String.format(Locale.ROOT, " %s=%.4f", labels.get(l), s[l]));
            }
            String text = batch.get(i);
            String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
            out.printf(Locale.ROOT, "%-8s %-6s%s%s  \"%s\"%n", d.topLabel(), d.action(), scores,
                    d.truncated() ? " (truncated)" : "", shown);
        }
    }
}
