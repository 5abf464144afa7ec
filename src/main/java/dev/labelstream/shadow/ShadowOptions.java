package dev.labelstream.shadow;

import static org.apache.flink.configuration.ConfigOptions.key;

import org.apache.flink.configuration.ConfigOption;

/** Options of the shadow model: a candidate bundle scored on the same records, reported, never deciding. */
public final class ShadowOptions {
    private ShadowOptions() {}

    public static final ConfigOption<String> MODEL_DIR = key("shadow.model.dir")
            .stringType()
            .noDefaultValue()
            .withDescription("Model bundle of a candidate model, classified on the same records as the primary"
                    + " (docs/shadow.md). Its decisions go to kafka.shadow-topic, marked as shadow and naming the"
                    + " primary decision's id, never to the output topic; an agreement report per drift window goes"
                    + " to the report topic. Checked at startup as inference.model.dir is. Unset: no shadow.");

    public static final ConfigOption<Double> SAMPLE_RATE = key("shadow.sample-rate")
            .doubleType()
            .defaultValue(1.0)
            .withDescription("Share of records the shadow scores, in (0, 1]: a deterministic sample by record key"
                    + " (the Kafka key, else the source position), decided when the primary decides, so a replay"
                    + " samples the same records.");

    public static final ConfigOption<Integer> MAX_IN_FLIGHT = key("shadow.max-in-flight")
            .intType()
            .defaultValue(2)
            .withDescription("Most shadow batches queued or running per subtask. A batch that arrives when this"
                    + " many are in flight is not scored (counted as shed in the agreement report), so a shadow"
                    + " that falls behind samples less instead of backpressuring the primary.");

    public static final ConfigOption<Integer> THREADS = key("shadow.threads")
            .intType()
            .defaultValue(1)
            .withDescription("Threads that run the shadow's model calls per subtask. On a CPU they count against"
                    + " the cores: the primary's async.threads default to the cores left (at least one).");

    public static final ConfigOption<Double> AGREEMENT_WARN = key("shadow.agreement-warn")
            .doubleType()
            .defaultValue(0.95)
            .withDescription("Top-label agreement below this is a WARN in the agreement report.");

    public static final ConfigOption<Double> AGREEMENT_ALERT = key("shadow.agreement-alert")
            .doubleType()
            .defaultValue(0.90)
            .withDescription("Top-label agreement below this is an ALERT in the agreement report.");

    public static final ConfigOption<Integer> MIN_RECORDS = key("shadow.min-records")
            .intType()
            .defaultValue(20)
            .withDescription("A window with fewer compared records is reported with status TOO_FEW, not judged.");

    public static final ConfigOption<Integer> EXAMPLES = key("shadow.examples")
            .intType()
            .defaultValue(5)
            .withDescription("How many of the largest disagreements per window the report names (input ids and"
                    + " primary decision ids, never text).");
}
