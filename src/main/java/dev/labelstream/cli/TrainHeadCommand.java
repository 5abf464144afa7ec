package dev.labelstream.cli;

import dev.labelstream.config.ModelArgs;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.HeadTrainer;
import dev.labelstream.inference.ModelBundle;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Trains the linear head of a head-less encoder bundle; reproduces the default model's head. */
@Command(name = "train-head", mixinStandardHelpOptions = true,
        description = {"Train the classification head of a bundle whose graph is a head-less encoder (labelstream.json"
                + " with pooling and head) on labeled JSON lines {\"text\", \"label\", \"split\"}, and report"
                + " held-out accuracy on the lines with split=test.",
                "Reproduce the default model: see README, 'The default model'."})
final class TrainHeadCommand implements Callable<Integer> {
    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "Labeled JSON lines.")
    Path corpus;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write head.json.")
    Path out;

    @Option(names = "--limit", defaultValue = "3000", paramLabel = "N",
            description = "Use at most N examples, sampled with --seed (default: ${DEFAULT-VALUE}; 0 = all).")
    int limit;

    @Option(names = "--seed", defaultValue = "20261125", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        ModelBundle bundle = ModelBundle.load(modelArgs.toConfiguration());
        try (BatchClassifier classifier = BatchClassifier.open(bundle, modelArgs.toConfiguration())) {
            HeadTrainer.Report r = HeadTrainer.train(classifier, corpus, limit, seed, out, System.err);
            w.printf(Locale.ROOT, "train examples %d, accuracy %.4f%n", r.trainExamples(), r.trainAccuracy());
            w.printf(Locale.ROOT, "test examples %d, held-out accuracy %.4f%n", r.testExamples(), r.testAccuracy());
            w.println("confusion (rows = true label, columns = predicted): " + r.labels());
            for (int i = 0; i < r.confusion().length; i++) {
                w.printf("  %-8s %s%n", r.labels().get(i), java.util.Arrays.toString(r.confusion()[i]));
            }
            w.println("wrote " + out);
        }
        w.flush();
        return 0;
    }
}
