package dev.labelstream.job;

import dev.labelstream.config.Options;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.MetricOptions;

/**
 * The configuration keys Flink itself knows, read from its own {@code *Options} classes (flink-core,
 * flink-runtime, flink-streaming-java, flink-clients), so that a deployment file cannot set a key Flink
 * ignores: a typo, or a key Flink 2 removed.
 */
final class FlinkConfigKeys {
    /** Classes in the jars that hold Flink's option classes. */
    private static final List<String> ANCHORS = List.of("org.apache.flink.configuration.CoreOptions",
            "org.apache.flink.runtime.minicluster.MiniCluster",
            "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment",
            "org.apache.flink.client.cli.CliFrontend");
    private static final Pattern REPORTER_KEY = Pattern.compile("metrics\\.reporter\\.([^.]+)\\.(.+)");
    /** Options of Flink's Prometheus reporter (PrometheusReporterFactory reads "port" as a plain string). */
    private static final List<String> PROMETHEUS_REPORTER_OPTIONS = List.of("port");

    /** Key -> the current key when {@code key} is deprecated, else the key itself. */
    private static Map<String, String> keys;
    /** Keys of the options every metric reporter takes under metrics.reporter.NAME. */
    private static Map<String, String> reporterSuffixes;

    private FlinkConfigKeys() {}

    /** Why {@code key} is not a current Flink key, or empty when it is. */
    static synchronized Optional<String> problem(String key) {
        if (keys == null) {
            load();
        }
        Matcher r = REPORTER_KEY.matcher(key);
        if (r.matches()) {
            String suffix = r.group(2);
            if (reporterSuffixes.containsKey(suffix) || PROMETHEUS_REPORTER_OPTIONS.contains(suffix)) {
                return Optional.empty();
            }
            return Optional.of(key + ": '" + suffix + "' is not an option of a metric reporter");
        }
        String current = keys.get(key);
        if (current == null) {
            return Optional.of(key + ": not a Flink " + org.apache.flink.runtime.util.EnvironmentInformation
                    .getVersion() + " configuration key");
        }
        if (!current.equals(key)) {
            return Optional.of(key + ": deprecated, use " + current);
        }
        return Optional.empty();
    }

    private static void load() {
        keys = new HashMap<>();
        reporterSuffixes = new HashMap<>();
        for (String anchor : ANCHORS) {
            try {
                Path jar = Path.of(Class.forName(anchor).getProtectionDomain().getCodeSource().getLocation().toURI());
                try (JarFile f = new JarFile(jar.toFile())) {
                    for (Enumeration<JarEntry> e = f.entries(); e.hasMoreElements(); ) {
                        String name = e.nextElement().getName();
                        if (name.endsWith("Options.class") && !name.contains("$")) {
                            addOptions(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
                        }
                    }
                }
            } catch (ClassNotFoundException | URISyntaxException | java.io.IOException e) {
                throw new IllegalStateException("cannot read Flink's options from " + anchor, e);
            }
        }
        // MetricOptions' reporter options are relative to metrics.reporter.NAME.
        for (ConfigOption<?> o : options(MetricOptions.class)) {
            if (!o.key().startsWith("metrics.")) {
                reporterSuffixes.put(o.key(), o.key());
            }
        }
    }

    private static void addOptions(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, false, FlinkConfigKeys.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return; // a class whose dependencies are not on the test classpath holds no option we use
        }
        for (ConfigOption<?> o : options(c)) {
            keys.put(o.key(), o.key());
            for (FallbackKey k : o.fallbackKeys()) {
                keys.putIfAbsent(k.getKey(), k.isDeprecated() ? o.key() : k.getKey());
            }
        }
    }

    private static List<ConfigOption<?>> options(Class<?> c) {
        java.util.ArrayList<ConfigOption<?>> out = new java.util.ArrayList<>();
        try {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    out.add((ConfigOption<?>) f.get(null));
                }
            }
        } catch (IllegalAccessException | LinkageError e) {
            // not an options holder we can read
        }
        return out;
    }
}
