package dev.labelstream.bench;

import dev.labelstream.demo.DemoData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The texts the benchmark sends: the demo's SpamAssassin sample (real short and long messages), or a file with
 * one text per line, or JSON Lines with a {@code "text"} field (optional {@code "id"} and {@code "label"});
 * {@code .gz} files are read compressed. Runs longer than the corpus cycle through it.
 */
final class BenchCorpus {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One text of the corpus. */
    record Text(String id, String text, String label) {}

    private final String name;
    private final List<Text> texts;

    BenchCorpus(String name, List<Text> texts) {
        if (texts.isEmpty()) {
            throw new IllegalArgumentException(name + ": the corpus has no texts");
        }
        this.name = name;
        this.texts = List.copyOf(texts);
    }

    /** The demo sample: 400 held-out SpamAssassin messages. */
    static BenchCorpus demo() {
        List<Text> out = new ArrayList<>();
        for (DemoData.Message m : DemoData.messages()) {
            out.add(new Text(m.id(), m.text(), m.label()));
        }
        return new BenchCorpus("demo sample (SpamAssassin, src/main/resources/demo)", out);
    }

    /** Reads {@code file}: JSON Lines when its first non-blank line is a JSON object, else one text per line. */
    static BenchCorpus load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": corpus file not found");
        }
        List<String> lines = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        }
        return new BenchCorpus(file.toString(), parse(lines, file.toString()));
    }

    static List<Text> parse(List<String> lines, String source) {
        boolean jsonl = !lines.isEmpty() && lines.get(0).stripLeading().startsWith("{");
        List<Text> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!jsonl) {
                out.add(new Text("t" + i, line, null));
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(source + ": line " + (i + 1) + " is not JSON: " + e.getMessage(), e);
            }
            JsonNode text = n.get("text");
            if (text == null || !text.isTextual() || text.asText().isBlank()) {
                throw new IllegalArgumentException(source + ": line " + (i + 1) + " has no non-empty \"text\" field");
            }
            out.add(new Text(n.path("id").asText("t" + i), text.asText(),
                    n.hasNonNull("label") ? n.get("label").asText() : null));
        }
        return out;
    }

    String name() {
        return name;
    }

    int size() {
        return texts.size();
    }

    /** Text number {@code i} of an endless stream that cycles through the corpus. */
    String text(long i) {
        return texts.get((int) (i % texts.size())).text();
    }

    /** {@code n} texts starting at position {@code from} of the cycled stream. */
    List<String> texts(long from, int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(text(from + i));
        }
        return out;
    }

    double meanChars() {
        return texts.stream().mapToInt(t -> t.text().length()).average().orElse(0);
    }

    int maxChars() {
        return texts.stream().mapToInt(t -> t.text().length()).max().orElse(0);
    }

    int minChars() {
        return texts.stream().mapToInt(t -> t.text().length()).min().orElse(0);
    }
}
