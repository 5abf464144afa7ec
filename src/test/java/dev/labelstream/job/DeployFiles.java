package dev.labelstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** Reading the deployment files (deploy/, docker-compose.yml) and the pom, for the tests that check them. */
final class DeployFiles {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    static final Path COMPOSE_CPU = ROOT.resolve("deploy/compose.cpu.yml");
    static final Path DOCKERFILE = ROOT.resolve("deploy/Dockerfile");
    static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
    static final Path DASHBOARD = ROOT.resolve("deploy/grafana/labelstream.json");
    static final Path PROMETHEUS = ROOT.resolve("deploy/prometheus/prometheus.yml");
    static final Path GRAFANA_PROVISIONING = ROOT.resolve("deploy/grafana/provisioning");

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    /** A metric name in PromQL: Flink's Prometheus reporter prefixes every metric with flink_. */
    private static final Pattern METRIC_NAME = Pattern.compile("\\bflink_[A-Za-z0-9_]+");
    /** A selector on the name itself: {__name__=~"regex"}. */
    private static final Pattern NAME_REGEX = Pattern.compile("__name__\\s*=~\\s*\"([^\"]+)\"");

    private DeployFiles() {}

    static JsonNode yaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Every document of a multi-document YAML file. */
    static List<JsonNode> yamlDocuments(Path file) {
        try (YAMLParser p = new YAMLFactory().createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            for (var it = YAML.readValues(p, JsonNode.class); it.hasNext(); ) {
                JsonNode n = it.next();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    docs.add(n);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    static String text(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The pom's project version and properties (flink.version, kafka.version, ...). */
    static Map<String, String> pom() {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document d = f.newDocumentBuilder().parse(ROOT.resolve("pom.xml").toFile());
            Element project = d.getDocumentElement();
            Map<String, String> out = new LinkedHashMap<>();
            for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && e.getTagName().equals("version")) {
                    out.put("project.version", e.getTextContent().trim());
                }
                if (n instanceof Element e && e.getTagName().equals("properties")) {
                    for (Node p = e.getFirstChild(); p != null; p = p.getNextSibling()) {
                        if (p instanceof Element pe) {
                            out.put(pe.getTagName(), pe.getTextContent().trim());
                        }
                    }
                }
            }
            return out;
        } catch (Exception e) {
            throw new IllegalStateException("pom.xml: " + e.getMessage(), e);
        }
    }

    /** Every PromQL expression of the dashboard (rows' panels included) and of its template variables. */
    static List<String> dashboardQueries() {
        JsonNode d = json(DASHBOARD);
        List<String> out = new ArrayList<>();
        collectPanelQueries(d.path("panels"), out);
        for (JsonNode v : d.path("templating").path("list")) {
            JsonNode q = v.path("query");
            if (q.isTextual()) {
                out.add(q.asText());
            } else if (q.has("query")) {
                out.add(q.get("query").asText());
            }
        }
        return out;
    }

    private static void collectPanelQueries(JsonNode panels, List<String> out) {
        for (JsonNode panel : panels) {
            for (JsonNode t : panel.path("targets")) {
                if (t.hasNonNull("expr")) {
                    out.add(t.get("expr").asText());
                }
            }
            collectPanelQueries(panel.path("panels"), out);
        }
    }

    /** The metric names the dashboard queries by name. */
    static Set<String> dashboardMetricNames() {
        Set<String> names = new LinkedHashSet<>();
        for (String q : dashboardQueries()) {
            // Quoted strings are label values and regular expressions (label_replace), not metric names.
            Matcher m = METRIC_NAME.matcher(q.replaceAll("\"[^\"]*\"", "\"\""));
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    /** The regular expressions the dashboard matches metric names with ({__name__=~"..."}). */
    static Set<String> dashboardMetricNameRegexes() {
        Set<String> out = new LinkedHashSet<>();
        for (String q : dashboardQueries()) {
            Matcher m = NAME_REGEX.matcher(q);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** {@code key: value} lines (FLINK_PROPERTIES) as a map. */
    static Map<String, String> flinkProperties(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int colon = l.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("not a key: value line: " + l);
            }
            out.put(l.substring(0, colon).strip(), l.substring(colon + 1).strip());
        }
        return out;
    }

    /** A YAML object as flat dotted keys (as Flink and labelstream read YAML). */
    static Map<String, String> flatten(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", node, out);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node instanceof ObjectNode o) {
            o.fields().forEachRemaining(e -> flatten(prefix + e.getKey() + ".", e.getValue(), out));
        } else if (!node.isNull()) {
            out.put(prefix.substring(0, prefix.length() - 1), node.asText());
        }
    }
}
