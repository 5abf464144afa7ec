package dev.labelstream.drift;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.avro.LabelShare;
import dev.labelstream.avro.Report;
import dev.labelstream.io.KafkaHeader;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.io.Reports;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Drift reports on the wire and as text for people. On the report topic a drift report is the body of a {@link
 * Reports} envelope of kind {@value Reports#DRIFT_REPORT}, version {@value #VERSION}, in output.format (Avro binary,
 * or plain JSON like the classified events); key: model name@version; headers {@value #STATUS_HEADER} (the
 * report's status) and {@value Reports#KIND_HEADER}.
 */
public final class DriftReports {
    public static final String STATUS_HEADER = "labelstream.drift-status";
    /** Version of the drift_report body (schemas/DriftReport.avsc): incremented with every change of that schema. */
    public static final int VERSION = 1;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private DriftReports() {}

    /** The report-topic record of {@code r}: a {@value Reports#DRIFT_REPORT} envelope, key model name@version. */
    public static OutboundRecord toRecord(DriftReport r, KafkaOptions.OutputFormat format) {
        byte[] key = modelKey(r).getBytes(StandardCharsets.UTF_8);
        return Reports.toRecord(Reports.DRIFT_REPORT, VERSION, r.getWindowEnd().toEpochMilli(), r, key,
                List.of(new KafkaHeader(STATUS_HEADER, r.getStatus().name().getBytes(StandardCharsets.UTF_8))),
                format);
    }

    /** A report-topic value (an envelope in {@code format}) holding a drift report, as written by {@link #toRecord}. */
    public static byte[] encode(DriftReport r, KafkaOptions.OutputFormat format) {
        return Reports.encode(Reports.DRIFT_REPORT, VERSION, r.getWindowEnd().toEpochMilli(), r, format);
    }

    /**
     * The drift report in a report-topic value.
     *
     * @throws IllegalArgumentException if the value is another kind of report, or a version this reader does not
     *     know; a consumer of the whole topic checks {@link Reports#decode}'s kind first (see {@link #of})
     */
    public static DriftReport decode(byte[] value, KafkaOptions.OutputFormat format) {
        Report envelope = Reports.decode(value, format);
        DriftReport r = of(envelope, format);
        if (r == null) {
            throw new IllegalArgumentException("a " + envelope.getKind() + " report, not a " + Reports.DRIFT_REPORT);
        }
        return r;
    }

    /** The drift report in {@code envelope}, or null if it holds another kind. */
    public static DriftReport of(Report envelope, KafkaOptions.OutputFormat format) {
        if (!Reports.DRIFT_REPORT.equals(envelope.getKind())) {
            return null;
        }
        if (envelope.getVersion() != VERSION) {
            throw new IllegalArgumentException(Reports.DRIFT_REPORT + " version " + envelope.getVersion()
                    + ": this reader knows version " + VERSION + " (schemas/DriftReport.avsc)");
        }
        return Reports.body(envelope, DriftReport.class, format);
    }

    /** The key of {@code r}'s model version: the drift monitor's key, the Kafka key and the gauges' model label. */
    public static String modelKey(DriftReport r) {
        return DriftObservation.key(r.getModelName(), r.getModelVersion());
    }

    /** The statistic of {@code r} named {@code name}, or null. */
    public static DriftStatistic statistic(DriftReport r, String name) {
        return r.getStatistics().stream().filter(s -> s.getName().equals(name)).findFirst().orElse(null);
    }

    /** What a statistic measures, in words. */
    public static String describe(String statistic) {
        Statistic s = Statistic.byId(statistic);
        return s == null ? "" : s.description;
    }

    /** One line: window, model, counts, status and what tripped. */
    public static String headline(DriftReport r) {
        String what = !r.getEvaluated() ? "not evaluated (" + r.getReference() + ")"
                : r.getStatus() == DriftStatus.OK ? "OK" : r.getStatus() + ": " + String.join(", ", r.getTripped());
        return String.format(Locale.ROOT, "window %s-%s %s %s, %d records (%d dead letters): %s",
                TIME.format(r.getWindowStart()), TIME.format(r.getWindowEnd()), r.getModelName(),
                r.getModelVersion(), r.getEvents(), r.getDeadLetters(), what);
    }

    /**
     * The report for a person: the headline, each statistic that tripped with its value, threshold and meaning,
     * and the label shares against the reference.
     */
    public static String render(DriftReport r, String indent) {
        StringBuilder sb = new StringBuilder(indent).append(headline(r)).append('\n');
        for (String name : r.getTripped()) {
            DriftStatistic s = statistic(r, name);
            double threshold = s.getStatus() == DriftStatus.ALERT ? s.getAlertThreshold() : s.getWarnThreshold();
            sb.append(String.format(Locale.ROOT, "%s  %-5s %-30s %8.4f >= %-6s %s%s%n", indent, s.getStatus(),
                    s.getName(), s.getValue(), trim(threshold), describe(s.getName()), observed(s)));
        }
        if (!r.getLabels().isEmpty() && r.getClassified() > 0) {
            sb.append(indent).append("  labels:");
            for (LabelShare l : r.getLabels()) {
                sb.append(String.format(Locale.ROOT, " %s %.0f%%", l.getLabel(), 100 * l.getShare()));
                if (l.getReferenceShare() != null) {
                    sb.append(String.format(Locale.ROOT, " (reference %.0f%%)", 100 * l.getReferenceShare()));
                }
                sb.append(';');
            }
            sb.setLength(sb.length() - 1);
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String observed(DriftStatistic s) {
        if (s.getObserved() == null || s.getExpected() == null) {
            return "";
        }
        return String.format(Locale.ROOT, " [window %s, reference %s]", round(s.getObserved()),
                round(s.getExpected()));
    }

    private static String round(double v) {
        return Math.abs(v) >= 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.4f", v);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
}
