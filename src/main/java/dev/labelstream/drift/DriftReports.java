package dev.labelstream.drift;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.avro.LabelShare;
import dev.labelstream.io.AvroClasses;
import dev.labelstream.io.KafkaHeader;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Drift reports on the wire (Avro binary or Avro JSON, as kafka.output-format says; key: model name@version;
 * header {@value #STATUS_HEADER}: the report's status) and as text for people.
 */
public final class DriftReports {
    public static final String STATUS_HEADER = "labelstream.drift-status";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    static {
        AvroClasses.trust();
    }

    private DriftReports() {}

    public static OutboundRecord toRecord(DriftReport r, KafkaOptions.OutputFormat format) {
        byte[] key = DriftObservation.key(r.getModelName(), r.getModelVersion()).getBytes(StandardCharsets.UTF_8);
        return new OutboundRecord(OutboundRecord.Destination.DRIFT, key, encode(r, format),
                List.of(new KafkaHeader(STATUS_HEADER, r.getStatus().name().getBytes(StandardCharsets.UTF_8))),
                r.getWindowEnd().toEpochMilli());
    }

    public static byte[] encode(DriftReport r, KafkaOptions.OutputFormat format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            SpecificDatumWriter<DriftReport> writer = new SpecificDatumWriter<>(DriftReport.class);
            if (format == KafkaOptions.OutputFormat.JSON) {
                JsonEncoder enc = EncoderFactory.get().jsonEncoder(DriftReport.getClassSchema(), out);
                writer.write(r, enc);
                enc.flush();
            } else {
                BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
                writer.write(r, enc);
                enc.flush();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static DriftReport decode(byte[] value, KafkaOptions.OutputFormat format) {
        try {
            SpecificDatumReader<DriftReport> reader = new SpecificDatumReader<>(DriftReport.class);
            return format == KafkaOptions.OutputFormat.JSON
                    ? reader.read(null, DecoderFactory.get().jsonDecoder(DriftReport.getClassSchema(),
                            new String(value, StandardCharsets.UTF_8)))
                    : reader.read(null, DecoderFactory.get().binaryDecoder(value, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
