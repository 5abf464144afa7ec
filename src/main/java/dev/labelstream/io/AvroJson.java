package dev.labelstream.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Plain JSON for Avro records, as Kafka consumers without Avro expect it: a union is written as its value (not
 * Avro's {@code {"string": ...}} wrapper), timestamps as epoch milliseconds, enums as their names, bytes as
 * base64. Written by hand because Avro's own JSON encoding is the wrapped form; the schema stays the contract.
 * Doubles that are not finite (a drift statistic that could not be computed) are written as the strings
 * {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"} (JSON has no such numbers) and read back as doubles.
 *
 * <p>Both directions stream (a generator, a parser) rather than build a Jackson tree per record: the tree was
 * about half of the output encoding's CPU per classified record. Reading skips fields the schema does not have
 * and gives the schema's fields that are absent null, as the tree version did.
 */
final class AvroJson {
    private static final JsonFactory JSON = new JsonFactory();

    static {
        AvroClasses.trust();
    }

    private AvroJson() {}

    static byte[] write(SpecificRecord record) {
        try (ByteArrayBuilder out = new ByteArrayBuilder(512)) {
            try (JsonGenerator g = JSON.createGenerator(out)) {
                write(g, record, record.getSchema());
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads JSON written by {@link #write} back into a record of {@code type}. */
    static <T extends SpecificRecord> T read(byte[] json, Class<T> type) {
        Schema schema = SpecificData.get().getSchema(type);
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() == null) {
                throw new IOException("no JSON value: empty input");
            }
            return type.cast(read(p, schema));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(JsonGenerator g, Object v, Schema s) throws IOException {
        if (v == null) {
            g.writeNull();
            return;
        }
        switch (s.getType()) {
            case UNION:
                for (Schema branch : s.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) {
                        write(g, v, branch);
                        return;
                    }
                }
                g.writeNull();
                return;
            case RECORD:
                IndexedRecord r = (IndexedRecord) v;
                g.writeStartObject();
                for (Schema.Field f : s.getFields()) {
                    g.writeFieldName(f.name());
                    write(g, r.get(f.pos()), f.schema());
                }
                g.writeEndObject();
                return;
            case ARRAY:
                g.writeStartArray();
                for (Object item : (List<?>) v) {
                    write(g, item, s.getElementType());
                }
                g.writeEndArray();
                return;
            case MAP:
                g.writeStartObject();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, e.getValue(), s.getValueType());
                }
                g.writeEndObject();
                return;
            case ENUM:
            case STRING:
                g.writeString(v.toString());
                return;
            case BYTES:
                ByteBuffer b = ((ByteBuffer) v).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                g.writeString(Base64.getEncoder().encodeToString(bytes));
                return;
            case LONG:
                g.writeNumber(v instanceof Instant i ? i.toEpochMilli() : ((Number) v).longValue());
                return;
            case INT:
                g.writeNumber(((Number) v).intValue());
                return;
            case FLOAT:
                g.writeNumber(((Number) v).floatValue());
                return;
            case DOUBLE:
                g.writeNumber(((Number) v).doubleValue());
                return;
            case BOOLEAN:
                g.writeBoolean((Boolean) v);
                return;
            default:
                throw new IllegalArgumentException("no JSON form for Avro type " + s.getType());
        }
    }

    /** The value at the parser's current token (its first token, for an object or array), as schema {@code s}. */
    private static Object read(JsonParser p, Schema s) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        switch (s.getType()) {
            case UNION:
                for (Schema branch : s.getTypes()) {
                    if (branch.getType() != Schema.Type.NULL) {
                        return read(p, branch);
                    }
                }
                p.skipChildren();
                return null;
            case RECORD:
                expect(p, JsonToken.START_OBJECT, s);
                SpecificRecord r = (SpecificRecord) SpecificData.get().newRecord(null, s);
                boolean[] seen = new boolean[s.getFields().size()];
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    Schema.Field f = s.getField(p.currentName());
                    p.nextToken();
                    if (f == null) {
                        p.skipChildren();
                    } else {
                        r.put(f.pos(), read(p, f.schema()));
                        seen[f.pos()] = true;
                    }
                }
                for (Schema.Field f : s.getFields()) {
                    if (!seen[f.pos()]) {
                        r.put(f.pos(), null);
                    }
                }
                return r;
            case ARRAY:
                expect(p, JsonToken.START_ARRAY, s);
                List<Object> a = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(read(p, s.getElementType()));
                }
                return a;
            case MAP:
                expect(p, JsonToken.START_OBJECT, s);
                Map<String, Object> m = new HashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    m.put(key, read(p, s.getValueType()));
                }
                return m;
            default:
                return scalar(p, s);
        }
    }

    private static Object scalar(JsonParser p, Schema s) throws IOException {
        if (p.currentToken().isStructStart()) {
            throw new IOException("expected a " + s.getType() + " value, got " + p.currentToken() + " at "
                    + p.currentLocation());
        }
        switch (s.getType()) {
            case ENUM:
                return SpecificData.get().createEnum(p.getValueAsString(), s);
            case STRING:
                return p.getValueAsString();
            case BYTES:
                return ByteBuffer.wrap(Base64.getDecoder().decode(p.getValueAsString()));
            case LONG:
                long l = p.getValueAsLong();
                return "timestamp-millis".equals(s.getProp("logicalType")) || s.getLogicalType() != null
                        ? Instant.ofEpochMilli(l) : (Object) l;
            case INT:
                return p.getValueAsInt();
            case FLOAT:
                return (float) p.getValueAsDouble();
            case DOUBLE:
                return p.getValueAsDouble();
            case BOOLEAN:
                return p.getValueAsBoolean();
            default:
                throw new IllegalArgumentException("no JSON form for Avro type " + s.getType());
        }
    }

    private static void expect(JsonParser p, JsonToken token, Schema s) throws IOException {
        if (p.currentToken() != token) {
            throw new IOException("expected " + token + " for " + s.getType() + " " + s.getFullName() + ", got "
                    + p.currentToken() + " at " + p.currentLocation());
        }
    }
}
