package dev.labelstream.io;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.LabelScore;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.avro.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Builds and encodes {@link ClassifiedEvent}s: one automated decision with what a statement of reasons needs
 * (decision id, input id and position, model and policy versions, every label's score, action and why).
 */
public final class ClassifiedEvents {
    public static final String ACTION_HEADER = "labelstream.action";

    static {
        AvroClasses.trust();
    }

    private ClassifiedEvents() {}

    /** What the model and the policy concluded about one input. */
    public record Verdict(List<String> labels, float[] scores, int top, ModerationAction action, String reason,
            boolean classified, boolean truncated, int tokens) {}

    /** The model and policy that decided, the same for a whole batch. */
    public record Decider(String modelName, String modelVersion, String policyVersion, String provider) {}

    /**
     * The decision id is derived from the source position and the model and policy versions, so a replay of
     * the same record by the same model (after a failover, in at-least-once mode) carries the same id and
     * consumers can de-duplicate on it.
     */
    public static String decisionId(SourceRecord r, Decider d) {
        String name = r.topic() + "/" + r.partition() + "/" + r.offset() + "/" + d.modelName() + "/"
                + d.modelVersion() + "/" + d.policyVersion();
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    public static ClassifiedEvent build(InputEvent in, Verdict v, Decider d, float inferenceMillis, long now) {
        List<LabelScore> scores = new ArrayList<>(v.labels().size());
        if (v.classified()) {
            for (int i = 0; i < v.labels().size(); i++) {
                scores.add(new LabelScore(v.labels().get(i), v.scores()[i]));
            }
        }
        SourceRecord s = in.source();
        return ClassifiedEvent.newBuilder()
                .setDecisionId(decisionId(s, d))
                .setInputId(in.id())
                .setSource(new SourcePosition(s.topic(), s.partition(), s.offset()))
                .setScores(scores)
                .setTopLabel(v.classified() ? v.labels().get(v.top()) : null)
                .setTopScore(v.classified() ? v.scores()[v.top()] : 0f)
                .setAction(v.action())
                .setActionReason(v.reason())
                .setClassified(v.classified())
                .setPolicyVersion(d.policyVersion())
                .setAutomated(true)
                .setModelName(d.modelName())
                .setModelVersion(d.modelVersion())
                .setExecutionProvider(d.provider())
                .setTruncated(v.truncated())
                .setTokenCount(v.tokens())
                .setEventTime(in.eventTime() == null ? null : Instant.ofEpochMilli(in.eventTime()))
                .setIngestTime(Instant.ofEpochMilli(s.timestamp()))
                .setDecisionTime(Instant.ofEpochMilli(now))
                .setInferenceLatencyMs(inferenceMillis)
                .setAttributes(in.attributes() == null ? null : new java.util.HashMap<>(in.attributes()))
                .build();
    }

    /** The output record: the input's key and headers kept, plus the action as a header for routing. */
    public static OutboundRecord toRecord(InputEvent in, ClassifiedEvent e, KafkaOptions.OutputFormat format) {
        List<KafkaHeader> headers = new ArrayList<>(in.source().headers());
        headers.add(new KafkaHeader(ACTION_HEADER, e.getAction().name().getBytes(StandardCharsets.UTF_8)));
        return new OutboundRecord(OutboundRecord.Destination.CLASSIFIED, in.source().key(), encode(e, format),
                headers, in.source().timestamp());
    }

    /** {@code e} in {@code format}: Avro binary, or plain JSON (schemas/ClassifiedEvent.avsc either way). */
    public static byte[] encode(ClassifiedEvent e, KafkaOptions.OutputFormat format) {
        return OutputCodec.encode(e, format);
    }

    /** Reads a classified event back in either format (tests, tools). */
    public static ClassifiedEvent decode(byte[] value, KafkaOptions.OutputFormat format) {
        return OutputCodec.decode(value, ClassifiedEvent.class, format);
    }
}
