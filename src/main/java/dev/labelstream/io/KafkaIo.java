package dev.labelstream.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The job's Kafka source and sink, built with Flink's Kafka connector from {@link KafkaOptions}.
 *
 * <p>The source hands every record on undecoded ({@link SourceRecord}), so decoding errors become dead letters
 * instead of failing the source. One sink writes all outputs (classified events, dead letters, drift reports),
 * each to its topic: with EXACTLY_ONCE they commit in one transaction per checkpoint.
 */
public final class KafkaIo {
    private KafkaIo() {}

    public static KafkaSource<SourceRecord> source(ReadableConfig conf) {
        OffsetsInitializer start = switch (conf.get(KafkaOptions.STARTING_OFFSETS)) {
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
        Properties props = clientProperties(conf);
        // Offsets live in checkpoints; the group's committed offsets are for monitoring lag.
        props.putIfAbsent("commit.offsets.on.checkpoint", "true");
        props.putIfAbsent("partition.discovery.interval.ms", "60000");
        // Transactional outputs of upstream exactly-once producers must not be read before they commit.
        props.putIfAbsent("isolation.level", "read_committed");
        return KafkaSource.<SourceRecord>builder()
                .setBootstrapServers(bootstrapServers(conf))
                .setTopics(conf.get(KafkaOptions.INPUT_TOPIC))
                .setGroupId(resolved(conf, KafkaOptions.GROUP_ID))
                .setStartingOffsets(start)
                .setDeserializer(new SourceRecordDeserializer())
                .setProperties(props)
                .build();
    }

    public static KafkaSink<OutboundRecord> sink(ReadableConfig conf) {
        Properties props = clientProperties(conf);
        KafkaOptions.Guarantee g = conf.get(KafkaOptions.DELIVERY_GUARANTEE);
        if (g == KafkaOptions.Guarantee.EXACTLY_ONCE && !props.containsKey("transaction.timeout.ms")) {
            // Derived from checkpoint interval + timeout + restart delay by the job's settings (JobSettings).
            throw new IllegalStateException("This is a bug: the sink was built from options whose"
                    + " transaction.timeout.ms was not derived; build the job through JobSettings.of");
        }
        props.putIfAbsent("compression.type", "lz4");
        // A dead letter is its input record plus an envelope of a few KiB: it must fit in one request, or the
        // sink fails on it and the job restarts forever on the same record.
        props.putIfAbsent("max.request.size", Integer.toString(Math.max(1 << 20,
                conf.get(KafkaOptions.INPUT_MAX_BYTES) + DeadLetters.ENVELOPE_BYTES)));
        return KafkaSink.<OutboundRecord>builder()
                .setBootstrapServers(bootstrapServers(conf))
                .setKafkaProducerConfig(props)
                .setDeliveryGuarantee(g == KafkaOptions.Guarantee.EXACTLY_ONCE
                        ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(resolved(conf, KafkaOptions.TRANSACTIONAL_ID_PREFIX))
                .setRecordSerializer(new OutboundSerializer(conf.get(KafkaOptions.OUTPUT_TOPIC),
                        conf.get(KafkaOptions.DEAD_LETTER_TOPIC), conf.get(KafkaOptions.DRIFT_TOPIC),
                        conf.get(KafkaOptions.SHADOW_TOPIC)))
                .build();
    }

    /** The pass-through client properties (kafka.properties) as Kafka clients take them. */
    public static Properties clientProperties(ReadableConfig conf) {
        Properties p = new Properties();
        for (Map.Entry<String, String> e : conf.get(KafkaOptions.PROPERTIES).entrySet()) {
            p.setProperty(e.getKey(), e.getValue());
        }
        return p;
    }

    /** A per-job value that the job's settings derive when it is not set (JobSettings.of). */
    static String resolved(ReadableConfig conf, org.apache.flink.configuration.ConfigOption<String> option) {
        return conf.getOptional(option).orElseThrow(() -> new IllegalStateException("This is a bug: " + option.key()
                + " was neither set nor derived; build the job through JobSettings.of"));
    }

    public static String bootstrapServers(ReadableConfig conf) {
        return conf.getOptional(KafkaOptions.BOOTSTRAP_SERVERS).orElseThrow(() -> new IllegalArgumentException(
                KafkaOptions.BOOTSTRAP_SERVERS.key() + " is not set: give the Kafka brokers as host:port[,...]"));
    }

    /** Keeps every part of the consumer record; never fails. */
    static final class SourceRecordDeserializer implements KafkaRecordDeserializationSchema<SourceRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<SourceRecord> out) {
            List<KafkaHeader> headers = new ArrayList<>();
            for (Header h : r.headers()) {
                headers.add(new KafkaHeader(h.key(), h.value()));
            }
            out.collect(new SourceRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(),
                    headers));
        }

        @Override
        public TypeInformation<SourceRecord> getProducedType() {
            return TypeInformation.of(SourceRecord.class);
        }
    }

    /** Routes each output record to its topic, with its key, headers and timestamp. */
    static final class OutboundSerializer implements KafkaRecordSerializationSchema<OutboundRecord> {
        private static final long serialVersionUID = 1L;
        private final String classifiedTopic;
        private final String deadLetterTopic;
        private final String driftTopic;
        private final String shadowTopic;

        OutboundSerializer(String classifiedTopic, String deadLetterTopic, String driftTopic, String shadowTopic) {
            this.classifiedTopic = classifiedTopic;
            this.deadLetterTopic = deadLetterTopic;
            this.driftTopic = driftTopic;
            this.shadowTopic = shadowTopic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(OutboundRecord r, KafkaSinkContext ctx, Long timestamp) {
            String topic = switch (r.destination()) {
                case CLASSIFIED -> classifiedTopic;
                case DEAD_LETTER -> deadLetterTopic;
                case DRIFT -> driftTopic;
                case SHADOW -> shadowTopic;
            };
            List<Header> headers = new ArrayList<>(r.headers().size());
            for (KafkaHeader h : r.headers()) {
                headers.add(new RecordHeader(h.key(), h.value()));
            }
            return new ProducerRecord<>(topic, null, r.timestamp(), r.key(), r.value(), headers);
        }
    }
}
