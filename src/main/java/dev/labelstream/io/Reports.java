package dev.labelstream.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.avro.Report;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/**
 * The report topic's envelope ({@link Report}, schemas/Report.avsc): every record on that topic is a {@code
 * Report} whose {@code kind} and {@code version} say which schema its {@code body} has. Writers hand a body record
 * to {@link #toRecord}; readers {@link #decode} the envelope, look at the kind, and read the body with {@link
 * #body}, skipping kinds they do not know.
 *
 * <p>Why an envelope with an opaque body rather than a union of every kind's record: adding a branch to an Avro
 * union changes the topic's schema, and a consumer still on the old schema fails on the first record of the new
 * kind (schema resolution knows no such branch); with kind + version + bytes the envelope's schema stays the same
 * for every kind to come, each body evolves on its own, and an old consumer skips what it does not know.
 *
 * <p>Formats (output.format): AVRO writes the envelope in Avro binary with the body's Avro binary in {@code body};
 * JSON writes one plain JSON object, {@code {"kind": ..., "version": 1, "time": <epoch ms>, "body": {...}}}, with
 * the body as a plain JSON object (as ClassifiedEvents are written), so JSON consumers need no second decode.
 *
 * <pre>{@code
 * Report r = Reports.decode(record.value(), OutputFormat.JSON);
 * if (Reports.DRIFT_REPORT.equals(r.getKind())) {
 *     DriftReport d = Reports.body(r, DriftReport.class, OutputFormat.JSON);
 * }
 * }</pre>
 */
public final class Reports {
    /** Header with the envelope's kind, so consumers can route or filter without decoding. */
    public static final String KIND_HEADER = "labelstream.report-kind";
    /** Kind of a drift report: body is a DriftReport (schemas/DriftReport.avsc). */
    public static final String DRIFT_REPORT = "drift_report";
    /**
     * Kind of a policy event: a policy document put in force or rejected (with its reason); body is a PolicyEvent
     * (schemas/PolicyEvent.avsc). Written only by a job with kafka.policy-topic.
     */
    public static final String POLICY_EVENT = "policy_event";
    /**
     * Kind of a shadow model's agreement report: body is an AgreementReport (schemas/AgreementReport.avsc), one per
     * window and model pair. Written only by a job with shadow.model.dir.
     */
    public static final String AGREEMENT_REPORT = "agreement_report";

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        AvroClasses.trust();
    }

    private Reports() {}

    /**
     * The report-topic record of {@code body}: the envelope in {@code format}, timestamp {@code time}, headers
     * {@code headers} plus {@value #KIND_HEADER}.
     */
    public static OutboundRecord toRecord(String kind, int version, long time, SpecificRecord body, byte[] key,
            List<KafkaHeader> headers, KafkaOptions.OutputFormat format) {
        List<KafkaHeader> all = new ArrayList<>(headers);
        all.add(new KafkaHeader(KIND_HEADER, kind.getBytes(StandardCharsets.UTF_8)));
        return new OutboundRecord(OutboundRecord.Destination.DRIFT, key, encode(kind, version, time, body, format),
                all, time);
    }

    /** The envelope of {@code body} in {@code format}. */
    public static byte[] encode(String kind, int version, long time, SpecificRecord body,
            KafkaOptions.OutputFormat format) {
        byte[] encodedBody = OutputCodec.encode(body, format);
        if (format != KafkaOptions.OutputFormat.JSON) {
            return AvroBinary.write(Report.newBuilder()
                    .setKind(kind)
                    .setVersion(version)
                    .setTime(Instant.ofEpochMilli(time))
                    .setBody(ByteBuffer.wrap(encodedBody))
                    .build(), encodedBody.length + 64);
        }
        try {
            ObjectNode n = JSON.createObjectNode();
            n.put("kind", kind);
            n.put("version", version);
            n.put("time", time);
            n.set("body", JSON.readTree(encodedBody));
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads an envelope in {@code format}; its body stays encoded (in the same format) until {@link #body}.
     *
     * @throws IllegalArgumentException if {@code value} is not an envelope (e.g. a bare report written by an
     *     earlier labelstream)
     */
    public static Report decode(byte[] value, KafkaOptions.OutputFormat format) {
        if (format != KafkaOptions.OutputFormat.JSON) {
            return AvroBinary.read(value, Report.class);
        }
        JsonNode n;
        try {
            n = JSON.readTree(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a JSON report envelope: " + e.getMessage(), e);
        }
        if (n == null || !n.path("kind").isTextual() || !n.path("version").canConvertToInt()
                || !n.path("time").canConvertToLong() || !n.path("body").isObject()) {
            throw new IllegalArgumentException("not a report envelope (kind, version, time, body): "
                    + shorten(n == null ? "" : n.toString()));
        }
        try {
            return Report.newBuilder()
                    .setKind(n.get("kind").asText())
                    .setVersion(n.get("version").asInt())
                    .setTime(Instant.ofEpochMilli(n.get("time").asLong()))
                    .setBody(ByteBuffer.wrap(JSON.writeValueAsBytes(n.get("body"))))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The body of {@code envelope} as a {@code type}; the caller has checked the kind and version. */
    public static <T extends SpecificRecord> T body(Report envelope, Class<T> type, KafkaOptions.OutputFormat format) {
        ByteBuffer b = envelope.getBody().duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return OutputCodec.decode(bytes, type, format);
    }

    private static String shorten(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
