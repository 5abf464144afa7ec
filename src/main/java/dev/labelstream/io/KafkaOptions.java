package dev.labelstream.io;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.util.Map;
import org.apache.flink.configuration.ConfigOption;

/** Kafka topics, formats and client settings of the job. */
public final class KafkaOptions {
    private KafkaOptions() {}

    /** Where a new consumer group starts reading. */
    public enum StartingOffsets {
        /** The group's committed offsets; earliest for partitions without one. */
        COMMITTED,
        EARLIEST,
        LATEST
    }

    /** The Kafka sink's delivery guarantee. */
    public enum Guarantee {
        /** Transactions committed with each checkpoint: read_committed consumers see every record once. */
        EXACTLY_ONCE,
        /** Flushed on each checkpoint: nothing is lost, replays after a failure may duplicate. */
        AT_LEAST_ONCE
    }

    /** How every record labelstream writes is encoded, except dead letters (always Avro binary). */
    public enum OutputFormat {
        /** Avro binary of the topic's schema (schemas/ClassifiedEvent.avsc, schemas/Report.avsc), no schema id. */
        AVRO,
        /** Plain JSON of the same schemas: unions as their value, timestamps as epoch ms, enums as names. */
        JSON
    }

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = key("kafka.bootstrap-servers")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka bootstrap servers, host:port[,host:port]. Required.");

    public static final ConfigOption<String> INPUT_TOPIC = key("kafka.input-topic")
            .stringType()
            .defaultValue("texts")
            .withDescription("Topic of the texts to classify.");

    public static final ConfigOption<String> OUTPUT_TOPIC = key("kafka.output-topic")
            .stringType()
            .defaultValue("texts-classified")
            .withDescription("Topic of the ClassifiedEvents; key and headers of each input are kept.");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC = key("kafka.dead-letter-topic")
            .stringType()
            .defaultValue("texts-dead-letters")
            .withDescription("Topic of the DeadLetters: inputs that could not be classified, with their original"
                    + " bytes, source position and the reason.");

    public static final ConfigOption<String> DRIFT_TOPIC = key("kafka.drift-topic")
            .stringType()
            .defaultValue("texts-drift")
            .withDescription("Topic of the reports: Report envelopes (schemas/Report.avsc) of kind drift_report"
                    + " today; consumers decode the body by kind and skip kinds they do not know.");

    public static final ConfigOption<String> SHADOW_TOPIC = key("kafka.shadow-topic")
            .stringType()
            .defaultValue("texts-shadow")
            .withDescription("Topic of a shadow model's decisions (shadow.model.dir): ClassifiedEvents with shadow ="
                    + " true and primary_decision_id set. Written only with a shadow model, pre-flighted then like the"
                    + " other outputs.");

    public static final ConfigOption<String> GROUP_ID = key("kafka.group-id")
            .stringType()
            .noDefaultValue()
            .withDescription("Consumer group id. Offsets are kept in Flink checkpoints and committed to this group"
                    + " for monitoring (consumer lag), and a job started without a checkpoint resumes from them."
                    + " Default: <job.name>.<input topic>.<output topic>, unique per job. Earlier versions defaulted"
                    + " to 'labelstream': set that explicitly to keep an existing deployment's offsets.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = key("kafka.starting-offsets")
            .enumType(StartingOffsets.class)
            .defaultValue(StartingOffsets.COMMITTED)
            .withDescription("Where to start without a checkpoint: COMMITTED (group offsets, else earliest),"
                    + " EARLIEST or LATEST.");

    public static final ConfigOption<Guarantee> DELIVERY_GUARANTEE = key("kafka.delivery-guarantee")
            .enumType(Guarantee.class)
            .defaultValue(Guarantee.EXACTLY_ONCE)
            .withDescription("EXACTLY_ONCE (transactional sink; consumers should read with"
                    + " isolation.level=read_committed) or AT_LEAST_ONCE.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = key("kafka.transactional-id-prefix")
            .stringType()
            .noDefaultValue()
            .withDescription("Prefix of the sink's transactional ids (<prefix>-<subtask>-<checkpoint>); must be unique"
                    + " per job on a Kafka cluster, or two jobs fence each other's producers. Default:"
                    + " <job.name>.<input topic>.<output topic>. The job's Kafka user needs WRITE and DESCRIBE on"
                    + " transactional ids with this prefix.");

    public static final ConfigOption<Map<String, String>> PROPERTIES = key("kafka.properties")
            .mapType()
            .defaultValue(Map.of())
            .withDescription("Kafka client properties passed to consumer, producer and admin client as they are,"
                    + " e.g. security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location. In"
                    + " YAML: kafka.properties: {security.protocol: SASL_SSL, ...}; on the command line:"
                    + " --set kafka.properties.security.protocol=SASL_SSL (or --set"
                    + " kafka.properties=security.protocol:SASL_SSL,sasl.mechanism:SCRAM-SHA-512, expanded to one"
                    + " key each). Each property is its own key, kafka.properties.<name>, so Flink hides the values"
                    + " of passwords and sasl.jaas.config in its logs and web UI; labelstream never logs them.");

    public static final ConfigOption<InputFormat> INPUT_FORMAT = key("input.format")
            .enumType(InputFormat.class)
            .defaultValue(InputFormat.JSON)
            .withDescription("AVRO (TextEvent, Avro binary), JSON (TextEvent fields as a JSON object) or RAW"
                    + " (the value is UTF-8 text).");

    public static final ConfigOption<Integer> INPUT_MAX_BYTES = key("input.max-bytes")
            .intType()
            .defaultValue(DeadLetters.MAX_ORIGINAL_BYTES)
            .withDescription("Larger input records (key + value + headers) go to dead letters as TOO_LARGE instead"
                    + " of being tokenized. The default, 960 KiB, leaves room for the dead-letter envelope under"
                    + " Kafka's default 1 MiB message size, so every dead letter can be written with its original"
                    + " bytes. Raising it: the producer's max.request.size follows (input.max-bytes + 64 KiB), but the"
                    + " output and dead-letter topics' max.message.bytes must be raised on the broker too.");

    public static final ConfigOption<OutputFormat> OUTPUT_FORMAT = key("output.format")
            .enumType(OutputFormat.class)
            .defaultValue(OutputFormat.JSON)
            .withDescription("Encoding of every record labelstream writes except dead letters: AVRO (Avro binary,"
                    + " no schema id) or JSON (plain JSON: unions as their value, timestamps as epoch ms). Output"
                    + " topic: ClassifiedEvent (schemas/ClassifiedEvent.avsc). Report topic: a Report envelope"
                    + " (schemas/Report.avsc: kind, version, time, body) whose body is the kind's record in the same"
                    + " encoding (in JSON a nested object). Dead letters are always Avro binary"
                    + " (schemas/DeadLetter.avsc): they carry the input's original bytes.");
}
