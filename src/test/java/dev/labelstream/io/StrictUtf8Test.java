package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code TextEventDecoder.strictUtf8} (an ASCII fast path, else the JDK's strict decoder) accepts exactly what the
 * strict decoder accepts and returns the same text: ASCII-only bytes, valid UTF-8 of random code points, and random
 * bytes (mostly malformed), with ASCII bytes around them.
 */
class StrictUtf8Test {
    private static String reference(byte[] b) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b))
                .toString();
    }

    private static String decodedOrNull(byte[] b, boolean ref) {
        try {
            return ref ? reference(b) : TextEventDecoder.strictUtf8(b);
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    @Test
    void sameAsTheStrictDecoderOnRandomBytes() {
        Random rnd = new Random(17);
        int ascii = 0;
        int valid = 0;
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] b = switch (i % 4) {
                case 0 -> asciiBytes(rnd, rnd.nextInt(300));
                case 1 -> randomCodePoints(rnd, rnd.nextInt(100)).getBytes(StandardCharsets.UTF_8);
                case 2 -> randomBytes(rnd, rnd.nextInt(40));
                default -> withOneByteFlipped(rnd, asciiBytes(rnd, 1 + rnd.nextInt(200)));
            };
            String expected = decodedOrNull(b, true);
            assertThat(decodedOrNull(b, false)).as("bytes %s", java.util.Arrays.toString(b)).isEqualTo(expected);
            if (expected == null) {
                rejected++;
            } else if (expected.chars().allMatch(c -> c < 0x80)) {
                ascii++;
            } else {
                valid++;
            }
        }
        // every kind was seen often enough to mean something
        assertThat(ascii).isGreaterThan(4_000);
        assertThat(valid).isGreaterThan(4_000);
        assertThat(rejected).isGreaterThan(4_000);
    }

    private static byte[] asciiBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt(0x80);
        }
        return b;
    }

    private static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n + 1];
        rnd.nextBytes(b);
        b[rnd.nextInt(b.length)] |= (byte) 0x80; // at least one non-ASCII byte
        return b;
    }

    private static byte[] withOneByteFlipped(Random rnd, byte[] b) {
        b[rnd.nextInt(b.length)] = (byte) (0x80 + rnd.nextInt(0x80));
        return b;
    }

    private static String randomCodePoints(Random rnd, int n) {
        StringBuilder s = new StringBuilder("\u00e9"); // one non-ASCII code point at least
        for (int i = 0; i < n; i++) {
            int cp;
            do {
                cp = switch (rnd.nextInt(3)) {
                    case 0 -> rnd.nextInt(0x80);
                    case 1 -> rnd.nextInt(0x10000);
                    default -> rnd.nextInt(0x110000);
                };
            } while (cp >= 0xD800 && cp <= 0xDFFF);
            s.appendCodePoint(cp);
        }
        return s.toString();
    }
}
