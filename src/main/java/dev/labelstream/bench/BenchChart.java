package dev.labelstream.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A hand-written SVG chart of a bench run, readable in any browser: throughput per configuration (bars at the
 * median, whiskers from min to max), end-to-end latency percentiles, and the batch size distribution.
 */
final class BenchChart {
    private static final int WIDTH = 900;
    private static final int LABEL_WIDTH = 330;
    private static final int PLOT_WIDTH = 470;
    private static final int BAR = 20;
    private static final int GAP = 8;
    private static final String[] LATENCY_COLORS = {"#4c78a8", "#f58518", "#e45756"};

    private BenchChart() {}

    /** A throughput bar: median, with min and max as whiskers. */
    record Bar(String label, double min, double median, double max) {}

    /** Latency percentiles of one run, in milliseconds. */
    record Latency(String label, double p50, double p95, double p99) {}

    static String svg(String title, List<Bar> throughput, List<Latency> latencies, Map<String, Integer> batchBuckets) {
        StringBuilder body = new StringBuilder();
        int y = 30;
        text(body, 20, y, title, "font-size:16px;font-weight:bold", "start");
        y += 30;

        text(body, 20, y, "Throughput (records/s; bar: median, whiskers: min to max)", "font-weight:bold", "start");
        y += 12;
        double maxRate = throughput.stream().mapToDouble(b -> finite(b.max(), b.median())).max().orElse(1);
        for (Bar b : throughput) {
            text(body, LABEL_WIDTH - 10, y + BAR - 6, b.label(), "", "end");
            if (!Double.isNaN(b.median())) {
                double w = scale(b.median(), maxRate);
                body.append(String.format(Locale.ROOT,
                        "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#4c78a8\"/>%n",
                        LABEL_WIDTH, y, w, BAR));
                if (!Double.isNaN(b.min()) && !Double.isNaN(b.max()) && b.max() > b.min()) {
                    double x1 = LABEL_WIDTH + scale(b.min(), maxRate);
                    double x2 = LABEL_WIDTH + scale(b.max(), maxRate);
                    int cy = y + BAR / 2;
                    body.append(String.format(Locale.ROOT,
                            "<path d=\"M%.1f %d H%.1f M%.1f %d V%d M%.1f %d V%d\" stroke=\"#222\" fill=\"none\"/>%n",
                            x1, cy, x2, x1, cy - 5, cy + 5, x2, cy - 5, cy + 5));
                }
                text(body, (int) (LABEL_WIDTH + Math.max(w, scale(finite(b.max(), b.median()), maxRate)) + 6),
                        y + BAR - 6, BenchReport.fmt(b.median()), "", "start");
            } else {
                text(body, LABEL_WIDTH + 4, y + BAR - 6, "not measured", "fill:#888", "start");
            }
            y += BAR + GAP;
        }
        y += 20;

        if (!latencies.isEmpty()) {
            text(body, 20, y, "End-to-end latency (ms, produce to committed output)", "font-weight:bold", "start");
            y += 12;
            double maxMs = latencies.stream().mapToDouble(l -> finite(l.p99(), 1)).max().orElse(1);
            for (Latency l : latencies) {
                double[] values = {l.p50(), l.p95(), l.p99()};
                String[] names = {"p50", "p95", "p99"};
                for (int i = 0; i < 3; i++) {
                    text(body, LABEL_WIDTH - 10, y + BAR - 6, (i == 0 ? l.label() + "  " : "") + names[i], "", "end");
                    double w = Double.isNaN(values[i]) ? 0 : scale(values[i], maxMs);
                    body.append(String.format(Locale.ROOT,
                            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
                            LABEL_WIDTH, y, w, BAR, LATENCY_COLORS[i]));
                    text(body, (int) (LABEL_WIDTH + w + 6), y + BAR - 6, BenchReport.fmt(values[i]) + " ms", "",
                            "start");
                    y += BAR + 2;
                }
                y += GAP;
            }
            y += 20;
        }

        if (batchBuckets != null && !batchBuckets.isEmpty()) {
            text(body, 20, y, "Batch sizes in the latency run (records per batch: batches)", "font-weight:bold",
                    "start");
            y += 12;
            int maxCount = batchBuckets.values().stream().mapToInt(Integer::intValue).max().orElse(1);
            for (Map.Entry<String, Integer> e : batchBuckets.entrySet()) {
                text(body, LABEL_WIDTH - 10, y + BAR - 6, e.getKey(), "", "end");
                double w = scale(e.getValue(), Math.max(1, maxCount));
                body.append(String.format(Locale.ROOT,
                        "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#72b7b2\"/>%n",
                        LABEL_WIDTH, y, w, BAR));
                text(body, (int) (LABEL_WIDTH + w + 6), y + BAR - 6, Integer.toString(e.getValue()), "", "start");
                y += BAR + 2;
            }
            y += 20;
        }

        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                        + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12px\">%n", WIDTH, y, WIDTH, y)
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                + body
                + "</svg>\n";
    }

    private static double finite(double v, double fallback) {
        return Double.isNaN(v) || Double.isInfinite(v) ? fallback : v;
    }

    private static double scale(double v, double max) {
        return max <= 0 ? 0 : Math.max(0, v) / max * PLOT_WIDTH;
    }

    private static void text(StringBuilder sb, int x, int y, String s, String style, String anchor) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s>%s</text>%n", x, y, anchor,
                style.isEmpty() ? "" : " style=\"" + style + "\"", escape(s)));
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
