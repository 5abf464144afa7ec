package dev.labelstream.config;

import dev.labelstream.io.KafkaOptions;
import dev.labelstream.settings.JobSettings;
import java.io.File;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.YamlParserUtils;
import org.apache.flink.configuration.description.TextElement;

/**
 * All of labelstream's options in one place: reading them from a YAML file and {@code key=value} overrides,
 * rejecting misspelt keys, and the table that {@code run --help} prints. Keys outside labelstream's prefixes
 * (restart-strategy.*, state.*, metrics.*, ...) are passed to Flink as they are.
 */
public final class Options {
    /** The classes whose ConfigOption fields are labelstream's options (one list, kept by the job). */
    private static final List<Class<?>> OPTION_CLASSES = JobSettings.OPTION_CLASSES;
    /** Key prefixes that belong to labelstream: an unknown key under them is a mistake. */
    private static final Set<String> OWN_PREFIXES = Set.of("kafka.", "input.", "output.", "model.", "inference.",
            "batching.", "async.", "classification.", "moderation.", "job.", "drift.", "shadow.");

    private Options() {}

    /** Every labelstream option, by key. */
    public static Map<String, ConfigOption<?>> all() {
        Map<String, ConfigOption<?>> out = new TreeMap<>();
        for (Class<?> c : OPTION_CLASSES) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        out.put(o.key(), o);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Reads {@code yaml} (nested or flat keys; may be null) and applies {@code overrides} on top. A value may
     * refer to environment variables as {@code ${NAME}} or {@code ${NAME:-default}} ({@code $${} is a literal
     * {@code ${}), so that secrets mounted as environment variables (a Kubernetes Secret, a Compose
     * environment) never have to be written into the file or onto the command line.
     *
     * @throws IllegalArgumentException naming the file or key that is wrong, or the variable that is not set
     */
    public static Configuration load(Path yaml, Map<String, String> overrides) {
        return load(yaml, overrides, System::getenv);
    }

    /** {@link #load(Path, Map)} with {@code env} in place of the process environment. */
    public static Configuration load(Path yaml, Map<String, String> overrides, Function<String, String> env) {
        Map<String, String> flat = new LinkedHashMap<>();
        if (yaml != null) {
            if (!Files.isRegularFile(yaml)) {
                throw new IllegalArgumentException(yaml + ": configuration file not found");
            }
            Map<String, Object> tree;
            try {
                tree = YamlParserUtils.loadYamlFile(yaml.toFile());
            } catch (Exception e) {
                throw new IllegalArgumentException(yaml + ": not valid YAML: " + e.getMessage(), e);
            }
            flatten("", tree == null ? Map.of() : tree, flat);
        }
        flat.putAll(overrides);
        expandPropertiesMap(flat);
        String source = yaml == null ? "--set" : yaml.toString();
        checkKeys(flat.keySet(), source);
        flat.replaceAll((key, value) -> substitute(value, env, source, key));
        return Configuration.fromMap(flat);
    }

    /** {@code ${NAME}}, {@code ${NAME:-default}}, or the literal {@code $${...}}. */
    private static final Pattern ENV_REFERENCE =
            Pattern.compile("\\$(\\$?)\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    /**
     * {@code value} with its environment references replaced. Messages name the option and the variable,
     * never a value: the value may be a secret.
     */
    static String substitute(String value, Function<String, String> env, String source, String key) {
        Matcher m = ENV_REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement;
            if (!m.group(1).isEmpty()) {
                replacement = m.group().substring(1);
            } else {
                String v = env.apply(m.group(2));
                if (v == null || (v.isEmpty() && m.group(3) != null)) {
                    if (m.group(3) == null) {
                        throw new IllegalArgumentException(source + ": " + key + " refers to the environment variable "
                                + m.group(2) + ", which is not set (give a default with ${" + m.group(2)
                                + ":-default})");
                    }
                    v = m.group(3);
                }
                replacement = v;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * {@code kafka.properties} given as one map value ({@code --set kafka.properties=k:v,...}) becomes one key
     * per property ({@code kafka.properties.k}), as YAML nesting gives: Flink hides secret values by key name
     * (keys containing password, secret, jaas.config, ...) in its logs and web UI, and a single key named
     * kafka.properties would show every value, passwords included.
     */
    private static void expandPropertiesMap(Map<String, String> flat) {
        String key = KafkaOptions.PROPERTIES.key();
        String whole = flat.remove(key);
        if (whole == null) {
            return;
        }
        Map<String, String> map;
        try {
            map = Configuration.fromMap(Map.of(key, whole)).get(KafkaOptions.PROPERTIES);
        } catch (IllegalArgumentException e) {
            // no cause and no value in the message: the value may hold a password
            throw new IllegalArgumentException(key + " is not a list of key:value pairs separated by commas (quote"
                    + " values that contain ',' or ':'), or give each as " + key + ".<name>=<value>");
        }
        map.forEach((k, v) -> flat.put(key + "." + k, v));
    }

    static Configuration load(File yaml) {
        return load(yaml == null ? null : yaml.toPath(), Map.of());
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> tree, Map<String, String> out) {
        for (Map.Entry<String, Object> e : tree.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m) {
                flatten(key + ".", (Map<String, Object>) m, out);
            } else if (e.getValue() instanceof List<?> l) {
                out.put(key, String.join(";", l.stream().map(String::valueOf).toList()));
            } else if (e.getValue() != null) {
                out.put(key, String.valueOf(e.getValue()));
            }
        }
    }

    private static void checkKeys(Set<String> keys, String source) {
        Map<String, ConfigOption<?>> known = all();
        for (String key : keys) {
            if (known.containsKey(key) || key.startsWith(KafkaOptions.PROPERTIES.key() + ".")) {
                continue;
            }
            if (OWN_PREFIXES.stream().anyMatch(key::startsWith)) {
                throw new IllegalArgumentException(source + ": unknown option '" + key + "'" + suggestion(key, known)
                        + ". Run 'labelstream run --help' for the list.");
            }
        }
    }

    private static String suggestion(String key, Map<String, ConfigOption<?>> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known.keySet()) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best != null && bestDistance <= 3 ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1,
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * Checks every option before anything is submitted (the one pass {@code run}, {@code demo}, {@code bench} and
     * the job graph builder share) and returns the settings the job is built from.
     *
     * @throws IllegalArgumentException naming the key, topic or file that is wrong and what it accepts
     */
    public static JobSettings validate(Configuration conf) {
        return JobSettings.of(conf);
    }

    /**
     * The option table as a picocli footer: picocli formats footers with String.format, so a '%' in a
     * description ("for a 30% label") must be doubled, or {@code --help} prints "[picocli WARN] Could not format"
     * and the table twice.
     */
    public static String helpFooter() {
        return table().replace("%", "%%");
    }

    /** The option table of {@code run --help}: key, default and description of every option. */
    public static String table() {
        StringBuilder sb = new StringBuilder();
        for (ConfigOption<?> o : all().values()) {
            sb.append(String.format(Locale.ROOT, "  %-32s default: %s%n", o.key(),
                    o.hasDefaultValue() ? String.valueOf(o.defaultValue()) : "(none)"));
            // 6 + 72 columns: picocli wraps the footer again at its usage width, 80
            List<String> lines = wrap(describe(o), 72);
            for (String line : lines) {
                sb.append("      ").append(line).append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    private static String describe(ConfigOption<?> o) {
        StringBuilder sb = new StringBuilder();
        o.description().getBlocks().forEach(b -> {
            if (b instanceof TextElement t) {
                sb.append(t.getFormat());
            }
        });
        return sb.toString();
    }

    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() + word.length() + 1 > width && line.length() > 0) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }
}
