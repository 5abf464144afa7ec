package dev.labelstream.shadow;

import dev.labelstream.io.SourceRecord;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * Which records the shadow scores: a deterministic sample by record key (the Kafka key when the record has one,
 * else its source position), so the same record is sampled on every replay and every subtask, and records of one
 * key (one user, one conversation) are all in the sample or all out of it.
 *
 * <p>Decided in the primary's stage when the record's decision is made, before any shadow work is queued.
 */
public final class ShadowSample implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double rate;

    public ShadowSample(double rate) {
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException(ShadowOptions.SAMPLE_RATE.key() + " must be in (0, 1], got " + rate);
        }
        this.rate = rate;
    }

    public double rate() {
        return rate;
    }

    /** Whether the shadow scores {@code r}. */
    public boolean sampled(SourceRecord r) {
        if (rate >= 1) {
            return true;
        }
        byte[] key = r.key() != null ? r.key()
                : (r.topic() + "/" + r.partition() + "/" + r.offset()).getBytes(StandardCharsets.UTF_8);
        return fraction(key) < rate;
    }

    /** A uniform value in [0, 1) from {@code key}: FNV-1a 64, then a finalizing mix so nearby keys spread. */
    static double fraction(byte[] key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (h >>> 11) * 0x1.0p-53;
    }
}
