package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.PolicyEvent;
import dev.labelstream.avro.Report;
import dev.labelstream.avro.TextEvent;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The streaming {@link AvroJson} writes the same bytes as the tree-based version it replaced ({@link
 * AvroJsonTreeReference}) and reads back the same records, for random instances of every schema the job writes or
 * reads (Avro's RandomData: nulls and values in every union, arrays, maps, enums, timestamps), with non-finite
 * doubles mixed in.
 */
class AvroJsonStreamingTest {

    @ParameterizedTest
    @ValueSource(classes = {ClassifiedEvent.class, DeadLetter.class, DriftReport.class, AgreementReport.class,
            PolicyEvent.class, Report.class, TextEvent.class})
    void sameBytesAndRecordsAsTheTreeVersion(Class<? extends SpecificRecord> type) throws Exception {
        Schema schema = SpecificData.get().getSchema(type);
        Random rnd = new Random(type.getSimpleName().hashCode());
        int n = 0;
        for (Object o : new RandomData(GenericData.get(), schema, 300, 42L)) {
            GenericRecord g = (GenericRecord) o;
            if (rnd.nextInt(4) == 0) {
                nonFinite(g, rnd);
            }
            SpecificRecord r = AvroBinary.read(binary(g), type);
            byte[] json = AvroJson.write(r);
            assertThat(new String(json, StandardCharsets.UTF_8))
                    .isEqualTo(new String(AvroJsonTreeReference.write(r), StandardCharsets.UTF_8));
            SpecificRecord streamed = AvroJson.read(json, type);
            SpecificRecord tree = AvroJsonTreeReference.read(json, type);
            // field by field: Avro's record equality never holds for a NaN field (its compare puts NaN after all)
            for (Schema.Field f : schema.getFields()) {
                Object a = streamed.get(f.pos());
                Object b = tree.get(f.pos());
                assertThat(a == null ? null : a.getClass()).as(f.name()).isEqualTo(b == null ? null : b.getClass());
                assertThat(a).as(f.name()).isEqualTo(b);
            }
            n++;
        }
        assertThat(n).isEqualTo(300);
    }

    @Test
    void unknownFieldsAreSkippedAndAbsentOnesAreNull() {
        byte[] json = ("{\"id\":\"a\",\"extra\":{\"nested\":[1,{\"x\":2}]},\"text\":\"hi\",\"more\":[true]}")
                .getBytes(StandardCharsets.UTF_8);
        TextEvent e = AvroJson.read(json, TextEvent.class);
        assertThat(e.getId()).isEqualTo("a");
        assertThat(e.getText()).isEqualTo("hi");
        assertThat(e.getTextPair()).isNull();
        assertThat(e).isEqualTo(AvroJsonTreeReference.readUnchecked(json, TextEvent.class));
    }

    @Test
    void aContainerWhereAScalarBelongsIsAnErrorThatSaysWhere() {
        byte[] json = "{\"id\":{\"a\":1},\"text\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> AvroJson.read(json, TextEvent.class))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("expected a STRING value, got START_OBJECT");
        assertThatThrownBy(() -> AvroJson.read(new byte[0], TextEvent.class))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("empty input");
    }

    /** Sets the record's double fields (top level, plain or in a union) to NaN or an infinity. */
    private static void nonFinite(GenericRecord g, Random rnd) {
        double[] values = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (Schema.Field f : g.getSchema().getFields()) {
            List<Schema> types = f.schema().getType() == Schema.Type.UNION ? f.schema().getTypes()
                    : List.of(f.schema());
            if (types.stream().anyMatch(t -> t.getType() == Schema.Type.DOUBLE)) {
                g.put(f.pos(), values[rnd.nextInt(values.length)]);
            }
        }
    }

    private static byte[] binary(GenericRecord g) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(g.getSchema()).write(g, enc);
        enc.flush();
        return out.toByteArray();
    }
}
