package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.flink.configuration.Configuration;

/** Helpers shared by the BatchClassifier tests: bundle edits, configurations, generated and real texts. */
final class InferenceTestSupport {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The real GPT-2 tokenizer.json (gzipped), see src/test/resources/fixtures/gpt2/README.md. */
    static final Path GPT2_TOKENIZER = Path.of(TestBundles.GPT2_FIXTURE);

    private InferenceTestSupport() {}

    /** Copies the regular files of bundle {@code from} into a new directory {@code to}. */
    static Path copyBundle(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return to;
    }

    static ObjectNode readObject(Path file) throws IOException {
        return (ObjectNode) JSON.readTree(file.toFile());
    }

    static void writeJson(JsonNode node, Path file) throws IOException {
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }

    /** Merges {@code settings} into the bundle's labelstream.json (created when missing). */
    static Path settings(Path bundle, Map<String, ?> settings) throws IOException {
        Path file = bundle.resolve(ModelBundle.SETTINGS_FILE);
        ObjectNode node = Files.isRegularFile(file) ? readObject(file) : JSON.createObjectNode();
        settings.forEach((k, v) -> node.set(k, JSON.valueToTree(v)));
        writeJson(node, file);
        return bundle;
    }

    /** A Flink configuration from key/value pairs, e.g. {@code conf("inference.token-budget", "256")}. */
    static Configuration conf(String... keyValues) {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return Configuration.fromMap(map);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - b[i]));
        }
        return d;
    }

    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] e = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < e.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            sum += e[i];
        }
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (e[i] / sum);
        }
        return p;
    }

    static float[] sigmoid(float[] logits) {
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (1 / (1 + Math.exp(-logits[i])));
        }
        return p;
    }

    static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    // ------------------------------------------------------------------ generated texts

    private static final String[] WORDS = ("the a of to and in is it you that he was for on are with as his they"
            + " be at one have this from or had by hot word but what some we can out other were all there when up"
            + " use your how said an each she which do their time if will way about many then them write would"
            + " like so these her long make thing see him two has look more day could go come did number sound"
            + " no most people my over know water than call first who may down side been now find any new work"
            + " part take get place made live where after back little only round man year came show every good"
            + " me give our under name very through just form sentence great think say help low line differ turn"
            + " cause much mean before move right boy old too same tell does set three want air well also play"
            + " small end put home read hand port large spell add even land here must big high such follow act"
            + " why ask men change went light kind off need house picture try us again animal point mother world"
            + " unbelievable antidisestablishmentarianism FREE!!! click-here $$$ 100% guaranteed www.example.com"
            + " naïve café Zürich façade résumé straße ÆØÅ ελληνικά привет мир 日本語 中文字符 한국어 שלום مرحبا"
            + " हिन्दी 😀 🚀🔥 emoji👍🏽 ﬁancé Ǆ ℌ №5 ½ x² − … “quoted” ‘single’ «guillemets» — – •")
            .split(" ");

    /** {@code n} words from a mixed English/non-ASCII vocabulary, with some punctuation. */
    static String words(Random random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(random.nextInt(12) == 0 ? ". " : random.nextInt(15) == 0 ? ", " : " ");
            }
            sb.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }

    /**
     * {@code count} inputs of mixed lengths (2 to {@code maxWords} words, most short, some long), about a third of
     * them pairs; seeded, so every run sees the same inputs.
     */
    static List<TextInput> mixedInputs(long seed, int count, int maxWords) {
        Random random = new Random(seed);
        List<TextInput> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = switch (i % 4) {
                case 0 -> 2 + random.nextInt(8);
                case 1 -> 10 + random.nextInt(40);
                case 2 -> 50 + random.nextInt(100);
                default -> 2 + random.nextInt(maxWords - 1);
            };
            String text = words(random, n);
            String pair = random.nextInt(3) == 0 ? words(random, 1 + random.nextInt(Math.max(2, maxWords / 2))) : null;
            out.add(new TextInput(text, pair));
        }
        return out;
    }

    // ------------------------------------------------------------------ real texts

    /** A message of the demo sample (SpamAssassin, public domain): fields id, label, split, text. */
    record Message(String id, String label, String split, String text) {}

    static List<Message> spamAssassinSample() {
        InputStream raw = InferenceTestSupport.class.getResourceAsStream("/demo/spamassassin-sample.jsonl.gz");
        if (raw == null) {
            throw new IllegalStateException("/demo/spamassassin-sample.jsonl.gz is not on the classpath");
        }
        List<Message> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                out.add(new Message(n.path("id").asText(), n.path("label").asText(), n.path("split").asText(),
                        n.path("text").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 128);
    }
}
