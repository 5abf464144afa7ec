package dev.labelstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchStats.Summary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The printed tables and the JSON report of {@code bench}. */
final class BenchReport {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchReport() {}

    /** One measured figure: min / median / max over its runs. */
    record Row(String figure, Summary value, String unit, String note) {}

    /** A ratio of two medians, with how it was formed. */
    record Ratio(String name, double value, String formula) {}

    /** A number with about three significant digits; "n/a" when missing. */
    static String fmt(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        String f = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, f, v);
    }

    /** A ratio as "0.87x". */
    static String fmtRatio(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** The figures table: figure, min, median, max, runs, unit, note; numbers right-aligned. */
    static String table(List<Row> rows) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"figure", "min", "median", "max", "runs", "unit", "note"});
        for (Row r : rows) {
            Summary s = r.value();
            boolean single = s.n() <= 1;
            cells.add(new String[] {r.figure(), single ? "" : fmt(s.min()), fmt(s.median()), single ? "" : fmt(s.max()),
                    Integer.toString(s.n()), r.unit(), r.note() == null ? "" : r.note()});
        }
        return columns(cells, new boolean[] {false, true, true, true, true, false, false});
    }

    /** The ratios table: name, value, how it was formed. */
    static String ratios(List<Ratio> ratios) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"ratio (of medians)", "value", "from"});
        for (Ratio r : ratios) {
            cells.add(new String[] {r.name(), fmtRatio(r.value()), r.formula()});
        }
        return columns(cells, new boolean[] {false, true, false});
    }

    /** Lays out rows of cells in columns two spaces apart; the first row is the header, underlined. */
    static String columns(List<String[]> rows, boolean[] rightAligned) {
        int n = rows.get(0).length;
        int[] width = new int[n];
        for (String[] row : rows) {
            for (int c = 0; c < n; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < n; c++) {
                String cell = rows.get(r)[c];
                String pad = " ".repeat(width[c] - cell.length());
                if (c > 0) {
                    line.append("  ");
                }
                line.append(rightAligned[c] ? pad + cell : cell + (c == n - 1 ? "" : pad));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
            if (r == 0) {
                int total = 0;
                for (int c = 0; c < n; c++) {
                    total += width[c] + (c > 0 ? 2 : 0);
                }
                sb.append("-".repeat(total)).append('\n');
            }
        }
        return sb.toString();
    }

    /** A summary as JSON: {"min":..,"median":..,"max":..,"runs":..}; missing values as null. */
    static ObjectNode json(Summary s) {
        ObjectNode n = JSON.createObjectNode();
        put(n, "min", s.min());
        put(n, "median", s.median());
        put(n, "max", s.max());
        n.put("runs", s.n());
        return n;
    }

    /** Puts a number, or null when it is NaN (JSON has no NaN). */
    static void put(ObjectNode n, String field, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            n.putNull(field);
        } else {
            n.put(field, v);
        }
    }

    static void writeJson(Path file, JsonNode report) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, JSON.writeValueAsBytes(report));
    }
}
