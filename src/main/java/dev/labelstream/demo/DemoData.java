package dev.labelstream.demo;

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
 * never trained on them; PDDL 1.0 / CC0, see demo/NOTICE-data.md) as JSON TextEvents, malformed records
 * of many kinds that must end in the dead-letter topic, and short chat messages (written for this demo) as text
 * from another domain. {@link #driftScenario} orders them into a stream that shifts part-way.
 */
public final class DemoData {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A labeled message of the sample. */
    public record Message(String id, String label, String text) {}

    /** A record to produce: key, value (may be null: a tombstone) and the outcome it should have. */
    public record Produced(byte[] key, byte[] value, String expectedLabel, String expectedErrorKind) {}

    private DemoData() {}

    /** A record of the demo's stream: what to produce, its timestamp (ms after the stream's start), its part. */
    record Planned(Produced produced, long offsetMillis, String phase, String subject) {}

    /** The parts of the drift scenario, one drift window each (the baseline two). */
    static final String BASELINE = "baseline: e-mail as in the reference (30% spam)";
    static final String SPAM_WAVE = "spam wave: 60% spam";
    static final String CHAT = "another domain: chat messages";
    static final String TAIL = "tail (closes the last window)";

    /**
     * The demo's stream, one window of {@code windowMillis} of event time per part: two windows of e-mail as the
     * reference saw it (140 ham, 60 spam), a spam wave (60 spam, 40 ham), a window of chat messages, and a short
     * tail of ham whose timestamps move the watermark past the chat window. Malformed records are spread over the
     * first four windows (about 3% of each). Timestamps are spread evenly within each window, so each window holds
     * exactly its part whatever the speed of the machine.
     */
    static List<Planned> driftScenario(List<Message> messages, List<Produced> malformed, long windowMillis) {
        List<Message> ham = messages.stream().filter(m -> m.label().equals("ham")).toList();
        List<Message> spam = messages.stream().filter(m -> m.label().equals("spam")).toList();
        List<List<Planned>> windows = new ArrayList<>();
        windows.add(mix(ham.subList(0, 70), spam.subList(0, 30), BASELINE));
        windows.add(mix(ham.subList(70, 140), spam.subList(30, 60), BASELINE));
        windows.add(mix(ham.subList(140, 180), spam.subList(60, 120), SPAM_WAVE));
        List<Planned> chat = new ArrayList<>();
        List<String> chats = chatTexts(100, 7);
        for (int i = 0; i < chats.size(); i++) {
            chat.add(new Planned(event("chat-" + i, chats.get(i), null), 0, CHAT, firstLineOf(chats.get(i))));
        }
        windows.add(chat);
        List<Planned> tail = new ArrayList<>();
        for (Message m : ham.subList(180, 200)) {
            tail.add(new Planned(event(m.id(), m.text(), m.label()), 0, TAIL, firstLineOf(m.text())));
        }
        windows.add(tail);
        for (int k = 0; k < malformed.size(); k++) {
            List<Planned> w = windows.get(k % 4);
            w.add((int) ((long) (k / 4 + 1) * w.size() / (malformed.size() / 4 + 2)),
                    new Planned(malformed.get(k), 0, w.get(0).phase(), ""));
        }
        List<Planned> out = new ArrayList<>();
        for (int k = 0; k < windows.size(); k++) {
            List<Planned> w = windows.get(k);
            for (int i = 0; i < w.size(); i++) {
                Planned p = w.get(i);
                out.add(new Planned(p.produced(), k * windowMillis + i * windowMillis / w.size(), p.phase(),
                        p.subject()));
            }
        }
        return out;
    }

    /** ham and spam interleaved evenly. */
    private static List<Planned> mix(List<Message> ham, List<Message> spam, String phase) {
        List<Planned> out = new ArrayList<>();
        int n = ham.size() + spam.size();
        int h = 0;
        int s = 0;
        for (int i = 0; i < n; i++) {
            // spam at the positions where its running share falls behind
            Message m = s < spam.size() && (long) s * n <= (long) i * spam.size() ? spam.get(s++) : ham.get(h++);
            out.add(new Planned(event(m.id(), m.text(), m.label()), 0, phase, firstLineOf(m.text())));
        }
        return out;
    }

    /** {@code n} chat snippets of one to three messages each, drawn (seeded) from demo/chat-messages.txt. */
   public static List<String> chatTexts(int n, long seed) {
        List<String> lines = new ArrayList<>();
        try (InputStream in = DemoData.class.getResourceAsStream("/demo/chat-messages.txt")) {
            if (in == null) {
                throw new IllegalStateException("demo/chat-messages.txt is missing from the classpath");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    lines.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        java.util.Random random = new java.util.Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = 1 + random.nextInt(3);
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < k; j++) {
                sb.append(j == 0 ? "" : "\n").append(lines.get(random.nextInt(lines.size())));
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static String firstLineOf(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    public static List<Message> messages() {
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

    public static Produced event(Message m, String idSuffix) {
        return event(m.id() + idSuffix, m.text(), m.label());
    }

    /** A JSON TextEvent; its event_time is set when it is produced. */
    public static Produced event(String id, String text, String label) {
        ObjectNode e = JSON.createObjectNode();
        e.put("id", id);
        e.put("text", text);
        e.putObject("attributes").put("source", label == null ? "chat-demo" : "spamassassin-demo");
        try {
            return new Produced(id.getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(e), label, null);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** {@code p} as produced at {@code time}: a JSON event gets event_time = time, the id a suffix. */
    static Produced at(Produced p, long time, String idSuffix) {
        if (p.expectedErrorKind() != null || p.value() == null) {
            return p;
        }
        try {
            ObjectNode e = (ObjectNode) JSON.readTree(p.value());
            String id = e.get("id").asText() + idSuffix;
            e.put("id", id);
            e.put("event_time", time);
            return new Produced(id.getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(e), p.expectedLabel(),
                    null);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Malformed input, one of each kind the decoder rejects (maxBytes: the job's input.max-bytes). */
    public static List<Produced> malformed(int maxBytes) {
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
