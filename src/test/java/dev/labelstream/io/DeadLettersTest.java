package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dead letters always fit where their input came from: bounded envelope, no copy of oversized originals. */
class DeadLettersTest {
    static SourceRecord record(byte[] value, List<KafkaHeader> headers) {
        return new SourceRecord("in", 0, 7, 1L, "k".getBytes(StandardCharsets.UTF_8), value, headers);
    }

    @Test
    void aDeadLetterIsItsInputPlusABoundedEnvelope() {
        byte[] value = new byte[DeadLetters.MAX_ORIGINAL_BYTES - 100];
        OutboundRecord out = DeadLetters.of(record(value, List.of()), ErrorKind.MISSING_FIELD, "x".repeat(100_000),
                "i".repeat(500_000));
        assertThat(out.value().length).isLessThan(value.length + DeadLetters.ENVELOPE_BYTES);
        DeadLetter d = DeadLetters.decode(out.value());
        assertThat(d.getOriginalValue().remaining()).isEqualTo(value.length);
        assertThat(d.getInputId()).startsWith("iii").contains("more characters");
        assertThat(d.getErrorMessage()).contains("more characters");
    }

    @Test
    void headersCountTowardsTheSizeAndOversizedOriginalsAreNotCopied() {
        List<KafkaHeader> headers = List.of(new KafkaHeader("big", new byte[DeadLetters.MAX_ORIGINAL_BYTES]));
        SourceRecord r = record("{}".getBytes(StandardCharsets.UTF_8), headers);
        assertThat(DeadLetters.recordBytes(r)).isEqualTo(1 + 2 + 3 + DeadLetters.MAX_ORIGINAL_BYTES);
        TextEventDecoder.Result res = new TextEventDecoder(InputFormat.JSON, DeadLetters.MAX_ORIGINAL_BYTES).decode(r);
        assertThat(res).isInstanceOfSatisfying(TextEventDecoder.Rejected.class,
                rej -> assertThat(rej.kind()).isEqualTo(ErrorKind.TOO_LARGE));
        OutboundRecord out = DeadLetters.of(r, ErrorKind.TOO_LARGE, "too large", null);
        assertThat(out.headers()).extracting(KafkaHeader::key).containsExactly(DeadLetters.ERROR_KIND_HEADER);
        DeadLetter d = DeadLetters.decode(out.value());
        assertThat(d.getOriginalValue()).isNull();
        assertThat(d.getOriginalKey().remaining()).isEqualTo(1);
        assertThat(d.getErrorMessage()).contains("not copied").contains("in-0@7");
        // a TOO_LARGE record small enough (a low input.max-bytes) keeps its bytes
        OutboundRecord small = DeadLetters.of(record(new byte[100], List.of()), ErrorKind.TOO_LARGE, "too large", null);
        assertThat(DeadLetters.decode(small.value()).getOriginalValue().remaining()).isEqualTo(100);
    }
}
