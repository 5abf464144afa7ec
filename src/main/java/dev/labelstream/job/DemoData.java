package dev.labelstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The demo's traffic: real messages from the SpamAssassin corpus (the held-out split, so the default model
 * never trained on them; PDDL 1.0 / CC0, see demo/NOTICE-data.md) as JSON TextEvents, and malformed records
 * of many kinds that must end in the dead-letter topic.
 */
final class DemoData {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A labeled message of the sample. */
    record Message(String id, String label, String text) {}

    /** A record to produce: key, value (may be null: a tombstone) and the outcome it should have. */
    record Produced(byte[] key, byte[] value, String expectedLabel, String expectedErrorKind) {}

    private DemoData() {}

    static List<Message> messages() {
        List<Message> out = new ArrayList<>();
        try (InputStream raw = DemoData.class.getResourceAsStream("/demo/spamassassin-sample.jsonl.gz")) {
            if (raw == null) {
                throw new IllegalStateException("demo/spamassassin-sample.jsonl.gz is missing from the classpath");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                JsonNode n = JSON.readTree(line);
                out.add(new Message(n.get("id").asText(), n.get("label").asText(), n.get("text").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static Produced event(Message m, String idSuffix) {
        ObjectNode e = JSON.createObjectNode();
        String id = m.id() + idSuffix;
        e.put("id", id);
        e.put("text", m.text());
        e.putObject("attributes").put("source", "spamassassin-demo");
        e.put("event_time", System.currentTimeMillis());
        try {
            return new Produced(id.getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(e), m.label(), null);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Malformed input, one of each kind the decoder rejects (maxBytes: the job's input.max-bytes). */
    static List<Produced> malformed(int maxBytes) {
        List<Produced> out = new ArrayList<>();
        out.add(bad("not json at all {", "BAD_JSON"));
        out.add(bad("[\"an\", \"array\"]", "BAD_JSON"));
        out.add(bad("{\"text\": \"no id here\"}", "MISSING_FIELD"));
        out.add(bad("{\"id\": \"m-1\"}", "MISSING_FIELD"));
        out.add(bad("{\"id\": \"m-2\", \"text\": 42}", "WRONG_TYPE"));
        out.add(bad("{\"id\": {\"nested\": true}, \"text\": \"x\"}", "WRONG_TYPE"));
        out.add(bad("{\"id\": \"m-3\", \"text\": \"ok\", \"text_pair\": [1]}", "WRONG_TYPE"));
        out.add(bad("{\"id\": \"m-4\", \"text\": \"ok\", \"event_time\": \"yesterday\"}", "WRONG_TYPE"));
        out.add(bad("{\"id\": \"m-5\", \"text\": \"   \\n\\t \"}", "EMPTY_TEXT"));
        out.add(bad("{\"id\": \"m-6\", \"text\": \"\"}", "EMPTY_TEXT"));
        byte[] invalidUtf8 = "{\"id\": \"m-7\", \"text\": \"caf\u00e9 \"}".getBytes(StandardCharsets.ISO_8859_1);
        out.add(new Produced("m-7".getBytes(StandardCharsets.UTF_8), invalidUtf8, null, "INVALID_UTF8"));
        out.add(new Produced("m-8".getBytes(StandardCharsets.UTF_8), null, null, "NULL_VALUE"));
        String huge = "{\"id\": \"m-9\", \"text\": \"" + "spam ".repeat(maxBytes / 5 + 1) + "\"}";
        out.add(bad(huge, "TOO_LARGE"));
        return out;
    }

    private static Produced bad(String value, String kind) {
        return new Produced(null, value.getBytes(StandardCharsets.UTF_8), null, kind);
    }
}
