package dev.labelstream.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * AvroJson as it was before it streamed: each record through a Jackson tree. The reference that {@link
 * AvroJsonStreamingTest} holds the streaming writer and reader to, byte for byte and value for value.
 */
final class AvroJsonTreeReference {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AvroJsonTreeReference() {}

    static byte[] write(org.apache.avro.generic.IndexedRecord record) throws IOException {
        return JSON.writeValueAsBytes(toNode(record, record.getSchema()));
    }

    static <T extends SpecificRecord> T read(byte[] json, Class<T> type) throws IOException {
        Schema schema = SpecificData.get().getSchema(type);
        return type.cast(fromNode(JSON.readTree(json), schema));
    }

    static <T extends SpecificRecord> T readUnchecked(byte[] json, Class<T> type) {
        try {
            return read(json, type);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static JsonNode toNode(Object v, Schema s) {
        if (v == null) {
            return NODES.nullNode();
        }
        switch (s.getType()) {
            case UNION:
                for (Schema branch : s.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) {
                        return toNode(v, branch);
                    }
                }
                return NODES.nullNode();
            case RECORD:
                ObjectNode o = NODES.objectNode();
                org.apache.avro.generic.IndexedRecord r = (org.apache.avro.generic.IndexedRecord) v;
                for (Schema.Field f : s.getFields()) {
                    o.set(f.name(), toNode(r.get(f.pos()), f.schema()));
                }
                return o;
            case ARRAY:
                ArrayNode a = NODES.arrayNode();
                for (Object item : (List<?>) v) {
                    a.add(toNode(item, s.getElementType()));
                }
                return a;
            case MAP:
                ObjectNode m = NODES.objectNode();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    m.set(String.valueOf(e.getKey()), toNode(e.getValue(), s.getValueType()));
                }
                return m;
            case ENUM:
            case STRING:
                return NODES.textNode(v.toString());
            case BYTES:
                ByteBuffer b = ((ByteBuffer) v).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
            case LONG:
                return NODES.numberNode(v instanceof Instant i ? i.toEpochMilli() : ((Number) v).longValue());
            case INT:
                return NODES.numberNode(((Number) v).intValue());
            case FLOAT:
                return NODES.numberNode(((Number) v).floatValue());
            case DOUBLE:
                return NODES.numberNode(((Number) v).doubleValue());
            case BOOLEAN:
                return NODES.booleanNode((Boolean) v);
            default:
                throw new IllegalArgumentException("no JSON form for Avro type " + s.getType());
        }
    }

    static Object fromNode(JsonNode n, Schema s) {
        if (n == null || n.isNull()) {
            return null;
        }
        switch (s.getType()) {
            case UNION:
                for (Schema branch : s.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) {
                        return fromNode(n, branch);
                    }
                }
                return null;
            case RECORD:
                SpecificRecord r = (SpecificRecord) SpecificData.get().newRecord(null, s);
                for (Schema.Field f : s.getFields()) {
                    r.put(f.pos(), fromNode(n.get(f.name()), f.schema()));
                }
                return r;
            case ARRAY:
                List<Object> a = new ArrayList<>();
                n.forEach(item -> a.add(fromNode(item, s.getElementType())));
                return a;
            case MAP:
                Map<String, Object> m = new HashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    m.put(e.getKey(), fromNode(e.getValue(), s.getValueType()));
                }
                return m;
            case ENUM:
                return SpecificData.get().createEnum(n.asText(), s);
            case STRING:
                return n.asText();
            case BYTES:
                return ByteBuffer.wrap(Base64.getDecoder().decode(n.asText()));
            case LONG:
                return "timestamp-millis".equals(s.getProp("logicalType")) || s.getLogicalType() != null
                        ? Instant.ofEpochMilli(n.asLong()) : (Object) n.asLong();
            case INT:
                return n.asInt();
            case FLOAT:
                return (float) n.asDouble();
            case DOUBLE:
                return n.asDouble();
            case BOOLEAN:
                return n.asBoolean();
            default:
                throw new IllegalArgumentException("no JSON form for Avro type " + s.getType());
        }
    }
}
