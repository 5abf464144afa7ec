package dev.labelstream.cli;

import dev.labelstream.config.ModelArgs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.drift.DriftAccumulator;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.ReferenceProfile;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.ModelBundle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Computes a model's drift reference profile over a reference data set: the texts are classified by the same
 * {@link BatchClassifier} as in the job, and summarised by the same {@link DriftAccumulator} as a drift window.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = {"Compute the drift reference profile of a model over a reference data set (texts the model"
                + " should see in normal traffic) and write it next to the model as " + ReferenceProfile.FILE_NAME
                + ", where the job's drift monitor finds it.",
                "Input: one text per line, or JSON lines with a \"text\" field (optionally .gz).",
                "Example: java -jar target/labelstream.jar profile --model DIR --input corpus.jsonl"
                        + " --filter split=train --sample 1500"})
final class ProfileCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    ModelArgs modelArgs;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "Reference texts: one per line, or JSONL with \"text\" (.gz is read compressed).")
    Path input;

    @Option(names = "--output", paramLabel = "FILE",
            description = "Where to write the profile (default: " + ReferenceProfile.FILE_NAME + " in the model"
                    + " directory).")
    Path output;

    @Option(names = "--filter", paramLabel = "FIELD=VALUE",
            description = "JSONL only: keep lines whose FIELD equals VALUE (repeatable; all must hold).")
    List<String> filters = new ArrayList<>();

    @Option(names = "--sample", paramLabel = "N",
            description = "Use N texts drawn at random (seeded) instead of all.")
    Integer sample;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of --sample (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N",
            description = "Texts per model call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--embedding-sample-size", paramLabel = "N",
            description = "Embeddings kept for MMD (default: drift.embedding-sample-size, 128).")
    Integer embeddingSampleSize;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> where = parseFilters();
        List<String> texts = read(input, where);
        String source = input.getFileName().toString();
        if (!where.isEmpty()) {
            source += " where " + where.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .reduce((a, b) -> a + ", " + b).orElse("");
        }
        if (sample != null && sample < texts.size()) {
            Collections.shuffle(texts, new Random(seed));
            texts = new ArrayList<>(texts.subList(0, sample));
            source += ", random sample of " + sample + " (seed " + seed + ")";
        }
        if (texts.isEmpty()) {
            throw new IllegalArgumentException(input + ": no texts" + (where.isEmpty() ? "" : " match " + where));
        }
        ModelBundle bundle = ModelBundle.load(modelArgs.toConfiguration());
        int sampleSize = embeddingSampleSize != null ? embeddingSampleSize
                : DriftOptions.EMBEDDING_SAMPLE_SIZE.defaultValue();
        ReferenceProfile profile;
        long t0 = System.nanoTime();
        try (BatchClassifier classifier = BatchClassifier.open(bundle, modelArgs.toConfiguration())) {
            out.printf("profiling %s %s on %s over %d texts of %s%n", bundle.name(), bundle.version(),
                    classifier.provider(), texts.size(), source);
            out.flush();
            List<String> all = texts;
            profile = ReferenceProfile.compute(classifier, texts, source, sampleSize, batch, done -> {
                out.printf("  %d of %d%n", done, all.size());
                out.flush();
            });
        }
        Path to = output != null ? output : bundle.dir().resolve(ReferenceProfile.FILE_NAME);
        profile.write(to);
        DriftAccumulator a = profile.summary();
        out.printf(Locale.ROOT, "wrote %s (%d bytes) in %.0f s%n", to, Files.size(to), (System.nanoTime() - t0) / 1e9);
        StringBuilder shares = new StringBuilder();
        for (int i = 0; i < profile.labels().size() && i < a.labelCounts.length; i++) {
            shares.append(String.format(Locale.ROOT, " %s %.1f%%", profile.labels().get(i),
                    100.0 * a.labelCounts[i] / a.classified()));
        }
        out.printf(Locale.ROOT, "  records %d; top labels:%s; mean confidence %.3f; mean tokens %.1f; truncated"
                        + " %.1f%%; unknown tokens %.2f%%; embeddings %d (dim %d, sample %d, MMD bandwidth %.4f)%n",
                a.classified(), shares, a.confidenceSum / a.classified(), (double) a.tokens / a.classified(),
                100.0 * a.truncated / a.classified(), a.tokens == 0 ? 0 : 100.0 * a.unknownTokens / a.tokens,
                a.embeddings, a.dimension(), a.sampleSize, profile.bandwidth());
        out.flush();
        return 0;
    }

    private Map<String, String> parseFilters() {
        Map<String, String> where = new LinkedHashMap<>();
        for (String f : filters) {
            int eq = f.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--filter " + f + ": expected FIELD=VALUE");
            }
            where.put(f.substring(0, eq), f.substring(eq + 1));
        }
        return where;
    }

    /** The texts of {@code file}: JSON objects with "text" per line, or plain lines. */
    static List<String> read(Path file, Map<String, String> where) throws IOException {
        List<String> texts = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = null;
                if (line.stripLeading().startsWith("{")) {
                    try {
                        n = JSON.readTree(line);
                    } catch (IOException e) {
                        n = null;
                    }
                }
                if (n != null && n.isObject()) {
                    JsonNode text = n.get("text");
                    if (text == null || !text.isTextual()) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": a JSON line without a \"text\""
                                + " string");
                    }
                    boolean keep = true;
                    for (Map.Entry<String, String> e : where.entrySet()) {
                        keep &= e.getValue().equals(n.path(e.getKey()).asText(null));
                    }
                    if (keep && !text.asText().isBlank()) {
                        texts.add(text.asText());
                    }
                } else {
                    if (!where.isEmpty()) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": --filter needs JSON lines");
                    }
                    texts.add(line);
                }
            }
        }
        return texts;
    }
}
