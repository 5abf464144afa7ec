package dev.labelstream.io;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.LabelScore;
import dev.labelstream.avro.SourcePosition;
import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decision;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Encodes the classification core's {@link Decision}s as {@link ClassifiedEvent}s: one automated decision with
 * what a statement of reasons needs (decision id, input id and position, model and policy versions, every label's
 * score, action and why). The Kafka side depends on the core, never the other way round.
 */
public final class ClassifiedEvents {
    public static final String ACTION_HEADER = "labelstream.action";

    static {
        AvroClasses.trust();
    }

    private ClassifiedEvents() {}

    /**
     * The key a decision id is derived from: the input's source position, so a replay of the same record by the
     * same model and policy (after a failover, in at-least-once mode) carries the same decision id and consumers
     * can de-duplicate on it.
     */
    public static String decisionKey(SourceRecord r) {
        return r.topic() + "/" + r.partition() + "/" + r.offset();
    }

    /**
     * The classifier request of an input: its text, its pair and its source position as the key, with its
     * attributes and input topic (a policy's tenant and topic overrides are chosen by them).
     */
    public static Classifier.Request request(InputEvent in) {
        return new Classifier.Request(decisionKey(in.source()), in.text(), in.pair(), in.attributes(),
                in.source().topic());
    }

    /** The Avro event of {@code d}, a decision about {@code in}. */
    public static ClassifiedEvent build(InputEvent in, Decision d, float inferenceMillis, long now) {
        List<LabelScore> scores = new ArrayList<>(d.labels().size());
        if (d.classified()) {
            float[] s = d.scores();
            for (int i = 0; i < d.labels().size(); i++) {
                scores.add(new LabelScore(d.labels().get(i), s[i]));
            }
        }
        SourceRecord s = in.source();
        return ClassifiedEvent.newBuilder()
                .setDecisionId(d.decisionId())
                .setInputId(in.id())
                .setSource(new SourcePosition(s.topic(), s.partition(), s.offset()))
                .setScores(scores)
                .setTopLabel(d.topLabel())
                .setTopScore(d.topScore())
                .setAction(d.action())
                .setActionReason(d.reason())
                .setClassified(d.classified())
                .setPolicyVersion(d.policyVersion())
                .setAutomated(true)
                .setModelName(d.modelName())
                .setModelVersion(d.modelVersion())
                .setExecutionProvider(d.provider())
                .setTruncated(d.truncated())
                .setTokenCount(d.tokens())
                .setEventTime(in.eventTime() == null ? null : Instant.ofEpochMilli(in.eventTime()))
                .setIngestTime(Instant.ofEpochMilli(s.timestamp()))
                .setDecisionTime(Instant.ofEpochMilli(now))
                .setInferenceLatencyMs(inferenceMillis)
                .setAttributes(in.attributes() == null ? null : new java.util.HashMap<>(in.attributes()))
                .setPolicyId(d.policyId())
                .setPolicyRule(d.rule())
                .setPolicyRuleLabel(d.thresholdLabel())
                .setPolicyThreshold(d.threshold())
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
