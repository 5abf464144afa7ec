package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.avro.TextEvent;
import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.DeadLetters;
import dev.labelstream.io.InputFormat;
import dev.labelstream.io.KafkaOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile and malformed input end to end, one table: every row is a Kafka record with the outcome it must
 * have (classified, or a dead letter of the given kind with its original bytes), read back by its source
 * offset. Two jobs run side by side on the real default model, one reading Avro and one JSON, each on a topic
 * of its own. Neither may restart or stall, and each job counts every one of its rows once (recordsIn == rows ==
 * recordsOut + deadLetters, {@link Counters}). Every text carries a marker, and no log event at INFO or above may
 * contain it (text content may be personal data). The table is README-faults-section.md's.
 */
class HostileInputTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2, FaultTestSupport.clusterConf());

    static final String MARKER = "quokka marmalade";
    /** The input topic accepts 4 MiB records, so that records over input.max-bytes reach the job. */
    static final int TOPIC_MAX_MESSAGE_BYTES = 4 << 20;
    static final String CLASSIFIED = "classified";

    /**
     * One kind of input and its outcome.
     *
     * @param outcome {@value #CLASSIFIED} or the dead letter's error kind
     * @param keepsOriginal whether a dead letter carries the original value (all but TOO_LARGE)
     * @param truncated for classified rows: whether the text must have been truncated
     */
    record Row(String kind, byte[] key, byte[] value, Map<String, byte[]> headers, String outcome,
            boolean keepsOriginal, boolean truncated) {
        TestKafka.Input input() {
            return new TestKafka.Input(key, value, headers);
        }
    }

    static Row ok(String kind, byte[] value) {
        return new Row(kind, utf8("k-" + kind.hashCode()), value, Map.of(), CLASSIFIED, true, false);
    }

    static Row bad(String kind, byte[] value, String errorKind) {
        return new Row(kind, utf8("k-" + kind.hashCode()), value, Map.of(), errorKind, true, false);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** {"id":"<id>","text":"<prefix bytes><raw bytes><suffix>"} with raw (possibly invalid) bytes in the text. */
    static byte[] jsonWithRawBytes(String id, byte... raw) {
        return concat(utf8("{\"id\":\"" + id + "\",\"text\":\"" + MARKER + " a"), raw, utf8("b\"}"));
    }

    static List<Row> jsonRows() {
        List<Row> rows = new ArrayList<>();
        rows.add(ok("plain text", FaultTestSupport.json("j-plain", "Lunch at noon? " + MARKER)));
        rows.add(new Row("null key", null, FaultTestSupport.json("j-nullkey", "see you soon " + MARKER), Map.of(),
                CLASSIFIED, true, false));
        rows.add(ok("duplicate id (first)", FaultTestSupport.json("j-dup", "first copy " + MARKER)));
        rows.add(ok("duplicate id (second)", FaultTestSupport.json("j-dup", "second copy " + MARKER)));
        rows.add(bad("JSON: text is a number", utf8("{\"id\":\"j-num\",\"text\":42}"), "WRONG_TYPE"));
        rows.add(bad("JSON: id is an object", utf8("{\"id\":{\"a\":1},\"text\":\"" + MARKER + "\"}"), "WRONG_TYPE"));
        rows.add(bad("JSON: attribute is an array",
                utf8("{\"id\":\"j-attr\",\"text\":\"" + MARKER + "\",\"attributes\":{\"a\":[1]}}"), "WRONG_TYPE"));
        rows.add(bad("not JSON", utf8(MARKER + " {"), "BAD_JSON"));
        rows.add(bad("JSON array", utf8("[\"" + MARKER + "\"]"), "BAD_JSON"));
        rows.add(bad("empty JSON object", utf8("{}"), "MISSING_FIELD"));
        rows.add(bad("invalid UTF-8 (0xFF)", jsonWithRawBytes("j-ff", (byte) 0xFF), "INVALID_UTF8"));
        rows.add(bad("overlong UTF-8 (C0 AF for '/')", jsonWithRawBytes("j-overlong", (byte) 0xC0, (byte) 0xAF),
                "INVALID_UTF8"));
        rows.add(bad("UTF-8-encoded surrogate (ED A0 80)",
                jsonWithRawBytes("j-surrogate", (byte) 0xED, (byte) 0xA0, (byte) 0x80), "INVALID_UTF8"));
        rows.add(bad("code point above U+10FFFF (F4 90 80 80)",
                jsonWithRawBytes("j-above", (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80), "INVALID_UTF8"));
        rows.add(ok("escaped NUL and control characters",
                utf8("{\"id\":\"j-nul\",\"text\":\"a\\u0000b\\u0007c\\u001b[31m " + MARKER + "\"}")));
        rows.add(bad("raw control byte inside a JSON string", jsonWithRawBytes("j-ctrl", (byte) 0x07), "BAD_JSON"));
        rows.add(ok("right-to-left override", FaultTestSupport.json("j-rtl", "\u202Egnp.exe " + MARKER + "\u202C")));
        rows.add(ok("zero-width characters inside words",
                FaultTestSupport.json("j-zw", "fr\u200Bee mo\u200Cney \u2060" + MARKER)));
        rows.add(ok("only zero-width characters", FaultTestSupport.json("j-zwonly", "\u200B\u200C\u200D\uFEFF")));
        rows.add(ok("emoji only", FaultTestSupport.json("j-emoji", "\uD83D\uDE00\uD83D\uDD25\uD83D\uDCB0")));
        rows.add(ok("escaped lone surrogate (\\ud800)",
                utf8("{\"id\":\"j-lone\",\"text\":\"a\\ud800b " + MARKER + "\"}")));
        rows.add(new Row("100,000 one-character tokens", utf8("k-100k"),
                FaultTestSupport.json("j-100k", MARKER + " " + "a ".repeat(100_000)), Map.of(), CLASSIFIED, true,
                true));
        rows.add(new Row("1 MB of text (default input.max-bytes)", utf8("k-1mb"),
                FaultTestSupport.json("j-1mb", MARKER + " " + "spam ".repeat(200_000)), Map.of(), "TOO_LARGE",
                false, false));
        rows.add(new Row("2 MB of text", utf8("k-2mb"),
                FaultTestSupport.json("j-2mb", MARKER + " " + "spam ".repeat(400_000)), Map.of(), "TOO_LARGE",
                false, false));
        Map<String, byte[]> bigHeaders = new LinkedHashMap<>();
        for (int i = 0; i < 75; i++) {
            bigHeaders.put("h-" + i, new byte[8 * 1024]);
        }
        rows.add(new Row("huge headers (600 KB), valid text", utf8("k-hdr"),
                FaultTestSupport.json("j-hdr", "headers galore " + MARKER), bigHeaders, CLASSIFIED, true, false));
        Map<String, byte[]> tooBigHeaders = new LinkedHashMap<>();
        for (int i = 0; i < 150; i++) {
            tooBigHeaders.put("h-" + i, new byte[8 * 1024]);
        }
        rows.add(new Row("headers over input.max-bytes (1.2 MB)", utf8("k-hdr2"),
                FaultTestSupport.json("j-hdr2", "headers galore " + MARKER), tooBigHeaders, "TOO_LARGE", false,
                false));
        rows.add(bad("600 KB id and no text", utf8("{\"id\":\"" + "i".repeat(600_000) + "\"}"), "MISSING_FIELD"));
        rows.add(bad("duplicate keys (text twice)",
                utf8("{\"id\":\"j-dupkey\",\"text\":\"benign\",\"text\":\"" + MARKER + "\"}"), "BAD_JSON"));
        rows.add(bad("two JSON objects in one value",
                utf8("{\"id\":\"j-two\",\"text\":\"a\"}{\"id\":\"j-hidden\",\"text\":\"" + MARKER + "\"}"),
                "BAD_JSON"));
        rows.add(bad("pair with no first text", utf8("{\"id\":\"j-pair\",\"text\":\"\",\"text_pair\":\"" + MARKER
                + "\"}"), "EMPTY_TEXT"));
        rows.add(bad("blank text", utf8("{\"id\":\"j-blank\",\"text\":\" \\n\\t \"}"), "EMPTY_TEXT"));
        rows.add(new Row("tombstone (null value)", utf8("k-tomb"), null, Map.of(), "NULL_VALUE", true, false));
        rows.add(bad("deeply nested attributes", utf8("{\"id\":\"j-deep\",\"text\":\"" + MARKER
                + "\",\"attributes\":{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}}"), "BAD_JSON"));
        rows.add(ok("byte-order mark before the object",
                concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, FaultTestSupport.json("j-bom", MARKER))));
        // a malformed value just under input.max-bytes: its dead letter, with its original bytes, must still fit
        int maxBytes = KafkaOptions.INPUT_MAX_BYTES.defaultValue();
        rows.add(bad("malformed value just under input.max-bytes",
                concat(utf8("{\"id\":\"j-near\",\"text\":\"" + MARKER), new byte[maxBytes - 64 - 30]), "BAD_JSON"));
        rows.add(ok("plain text at the end", FaultTestSupport.json("j-end", "all done " + MARKER)));
        return rows;
    }

    static List<Row> avroRows() throws Exception {
        List<Row> rows = new ArrayList<>();
        byte[] good = JobTestSupport.avro(JobTestSupport.textEvent("a-good", "Lunch at noon? " + MARKER));
        rows.add(ok("Avro TextEvent", good));
        rows.add(bad("bad Avro (garbage bytes)", utf8(MARKER + " not avro \u0001\u0002"), "BAD_AVRO"));
        rows.add(bad("truncated Avro", Arrays.copyOf(good, good.length - 9), "BAD_AVRO"));
        Schema other = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[{\"name\":\"n\",\"type\":\"long\"},"
                        + "{\"name\":\"s\",\"type\":\"string\"}]}");
        GenericRecord o = new GenericData.Record(other);
        o.put("n", 123456789L);
        o.put("s", MARKER);
        ByteArrayOutputStream otherBytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(otherBytes, null);
        new GenericDatumWriter<GenericRecord>(other).write(o, enc);
        enc.flush();
        rows.add(bad("Avro of another schema", otherBytes.toByteArray(), "BAD_AVRO"));
        // id "a", then a text whose length prefix claims 2^28 bytes
        rows.add(bad("Avro with a 256 MB length prefix", new byte[] {2, 'a', (byte) 0x80, (byte) 0x80, (byte) 0x80,
            (byte) 0x80, 0x02, 'x'}, "BAD_AVRO"));
        rows.add(bad("Avro with a union branch out of range", new byte[] {2, 'a', 2, 'b', 8}, "BAD_AVRO"));
        byte[] badUtf8 = JobTestSupport.avro(TextEvent.newBuilder().setId("a-utf").setText(MARKER + "x").build());
        badUtf8[badUtf8.length - 4] = (byte) 0xC3; // the last text byte 'x' becomes a lone lead byte
        rows.add(bad("Avro with invalid UTF-8 in the text", badUtf8, "INVALID_UTF8"));
        rows.add(bad("Avro pair with no first text", JobTestSupport.avro(TextEvent.newBuilder().setId("a-pair")
                .setText("").setTextPair(MARKER).build()), "EMPTY_TEXT"));
        rows.add(ok("Avro TextEvent at the end",
                JobTestSupport.avro(JobTestSupport.textEvent("a-end", "all done " + MARKER))));
        return rows;
    }

    @Test
    void everyKindOfHostileInputGetsItsDocumentedOutcomeAndTheJobNeverStalls(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        List<Row> json = jsonRows();
        List<Row> avro = avroRows();
        TestKafka.Topics jt = TestKafka.Topics.create(1);
        TestKafka.Topics at = TestKafka.Topics.create(1);
        try (Admin admin = Admin.create(TestKafka.broker().clientProperties())) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, jt.input()), List.of(
                    new AlterConfigOp(new ConfigEntry("max.message.bytes", Integer.toString(TOPIC_MAX_MESSAGE_BYTES)),
                            AlterConfigOp.OpType.SET)))).all().get();
        }
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        FaultTestSupport.produce(client, jt.input(), json.stream().map(Row::input).toList());
        FaultTestSupport.produce(client, at.input(), avro.stream().map(Row::input).toList());

        Map<String, List<ConsumerRecord<byte[], byte[]>>> out = new TreeMap<>();
        try (FaultTestSupport.LogCapture log = FaultTestSupport.LogCapture.start(Level.INFO)) {
            Configuration jc = JobTestSupport.jobConf(jt, InputFormat.JSON);
            Configuration ac = JobTestSupport.jobConf(at, InputFormat.AVRO);
            for (Configuration c : List.of(jc, ac)) {
                c.setString("restart-strategy.fixed-delay.attempts", "3");
            }
            InProcessMetrics.clear();
            JobClient jsonJob = JobTestSupport.start(jc);
            JobClient avroJob = JobTestSupport.start(ac);
            try {
                out.put("json", TestKafka.consumeUntil(client, List.of(jt.output(), jt.deadLetters()),
                        Duration.ofSeconds(180), got -> got.size() >= json.size()));
                out.put("avro", TestKafka.consumeUntil(client, List.of(at.output(), at.deadLetters()),
                        Duration.ofSeconds(60), got -> got.size() >= avro.size()));
                for (JobClient j : List.of(jsonJob, avroJob)) {
                    assertThat(FaultTestSupport.restarted(cluster, j.getJobID())).as("job restarted").isFalse();
                    assertThat(j.getJobStatus().get().isGloballyTerminalState()).isFalse();
                }
                // the two jobs share a name and a cluster: each job's own counters
                Counters.assertAddUp(jsonJob, json.size());
                Counters.assertAddUp(avroJob, avro.size());
            } finally {
                JobTestSupport.cancel(jsonJob);
                JobTestSupport.cancel(avroJob);
            }
            assertThat(log.containing(MARKER, Level.INFO)).as("log events quoting text content").isEmpty();
        }
        StringBuilder table = new StringBuilder();
        check(json, jt, out.get("json"), table);
        check(avro, at, out.get("avro"), table);
        System.out.println("HOSTILE TABLE\n" + table);
        FaultTestSupport.figures("hostile input", "in=" + (json.size() + avro.size()) + " kinds="
                + (json.size() + avro.size()) + " out=" + (out.get("json").size() + out.get("avro").size())
                + " restarts=0");
    }

    private static void check(List<Row> rows, TestKafka.Topics t, List<ConsumerRecord<byte[], byte[]>> records,
            StringBuilder table) {
        Map<Long, List<ConsumerRecord<byte[], byte[]>>> byOffset = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            long offset = r.topic().equals(t.deadLetters())
                    ? DeadLetters.decode(r.value()).getSourceOffset()
                    : ClassifiedEvents.decode(r.value(), KafkaOptions.OutputFormat.AVRO).getSource().getOffset();
            byOffset.computeIfAbsent(offset, k -> new ArrayList<>()).add(r);
        }
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            List<ConsumerRecord<byte[], byte[]>> got = byOffset.getOrDefault((long) i, List.of());
            String actual;
            String detail = "";
            if (got.size() != 1) {
                actual = got.size() + " outputs";
            } else if (got.get(0).topic().equals(t.output())) {
                ClassifiedEvent e = ClassifiedEvents.decode(got.get(0).value(), KafkaOptions.OutputFormat.AVRO);
                actual = CLASSIFIED;
                detail = "tokens=" + e.getTokenCount() + (e.getTruncated() ? " truncated" : "");
                if (row.truncated() != e.getTruncated()) {
                    wrong.add(row.kind() + ": truncated=" + e.getTruncated());
                }
                for (Map.Entry<String, byte[]> h : row.headers().entrySet()) {
                    Header kept = got.get(0).headers().lastHeader(h.getKey());
                    if (kept == null || !Arrays.equals(kept.value(), h.getValue())) {
                        wrong.add(row.kind() + ": header " + h.getKey() + " not kept");
                    }
                }
            } else {
                DeadLetter d = DeadLetters.decode(got.get(0).value());
                actual = d.getErrorKind();
                byte[] original = d.getOriginalValue() == null ? null : JobEndToEndTest.toBytes(d.getOriginalValue());
                boolean kept = Arrays.equals(original, row.value());
                detail = (kept ? "original bytes kept" : original == null ? "original value not copied"
                        : "original value differs") + "; " + d.getErrorMessage().substring(0,
                        Math.min(90, d.getErrorMessage().length())).replace('|', '/');
                if (kept != row.keepsOriginal()) {
                    wrong.add(row.kind() + ": " + detail);
                }
                if (d.getErrorMessage().isBlank()) {
                    wrong.add(row.kind() + ": empty error message");
                }
            }
            if (!actual.equals(row.outcome())) {
                wrong.add(row.kind() + ": expected " + row.outcome() + ", got " + actual + " (" + detail + ")");
            }
            table.append("| ").append(row.kind()).append(" | ").append(actual).append(" | ").append(detail)
                    .append(" |\n");
        }
        assertThat(records).hasSize(rows.size());
        assertThat(wrong).isEmpty();
    }
}
