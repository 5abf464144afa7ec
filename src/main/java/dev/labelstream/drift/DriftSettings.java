package dev.labelstream.drift;

import java.io.Serializable;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/** The drift options of one job, checked, in a serializable value that travels with the operators. */
public final class DriftSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Seed of the reservoir samples: the same inputs give the same samples, windows and reports. */
    static final long SEED = 0x6C6162656C73L;

    final boolean enabled;
    final Duration window;
    final DriftOptions.WindowTime windowTime;
    final Duration maxOutOfOrderness;
    final Duration idleTimeout;
    final String referenceProfile;
    final int warmupRecords;
    final int minWindowRecords;
    final double lowConfidence;
    final boolean embeddings;
    final int sampleSize;
    /** NaN: the profile's. */
    final double mmdBandwidth;
    final Map<Statistic, double[]> thresholds;

    private DriftSettings(ReadableConfig c) {
        enabled = c.get(DriftOptions.ENABLED);
        window = c.get(DriftOptions.WINDOW);
        windowTime = c.get(DriftOptions.WINDOW_TIME);
        maxOutOfOrderness = c.get(DriftOptions.MAX_OUT_OF_ORDERNESS);
        idleTimeout = c.get(DriftOptions.IDLE_TIMEOUT);
        referenceProfile = c.getOptional(DriftOptions.REFERENCE_PROFILE).orElse(null);
        warmupRecords = c.get(DriftOptions.WARMUP_RECORDS);
        minWindowRecords = c.get(DriftOptions.MIN_WINDOW_RECORDS);
        lowConfidence = c.get(DriftOptions.LOW_CONFIDENCE);
        embeddings = c.get(DriftOptions.EMBEDDINGS);
        sampleSize = c.get(DriftOptions.EMBEDDING_SAMPLE_SIZE);
        mmdBandwidth = c.getOptional(DriftOptions.MMD_BANDWIDTH).orElse(Double.NaN);
        thresholds = new EnumMap<>(Statistic.class);
        for (Statistic s : Statistic.values()) {
            double warn = c.get(DriftOptions.warnOption(s));
            double alert = c.get(DriftOptions.alertOption(s));
            thresholds.put(s, new double[] {warn, alert});
        }
    }

    /**
     * The drift settings of {@code conf}.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     */
    public static DriftSettings of(ReadableConfig conf) {
        DriftSettings s = new DriftSettings(conf);
        s.check();
        return s;
    }

    /** The defaults. */
    public static DriftSettings defaults() {
        return of(new Configuration());
    }

    private void check() {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException(DriftOptions.WINDOW.key() + " must be positive");
        }
        if (warmupRecords < 1) {
            throw new IllegalArgumentException(DriftOptions.WARMUP_RECORDS.key() + " must be >= 1");
        }
        if (minWindowRecords < 0) {
            throw new IllegalArgumentException(DriftOptions.MIN_WINDOW_RECORDS.key() + " must be >= 0");
        }
        if (!(lowConfidence > 0 && lowConfidence <= 1)) {
            throw new IllegalArgumentException(DriftOptions.LOW_CONFIDENCE.key() + " must be in (0, 1]");
        }
        if (sampleSize < 0 || sampleSize > 4096) {
            throw new IllegalArgumentException(DriftOptions.EMBEDDING_SAMPLE_SIZE.key() + " must be in 0..4096");
        }
        if (!Double.isNaN(mmdBandwidth) && !(mmdBandwidth > 0)) {
            throw new IllegalArgumentException(DriftOptions.MMD_BANDWIDTH.key() + " must be > 0");
        }
        for (Map.Entry<Statistic, double[]> e : thresholds.entrySet()) {
            double[] t = e.getValue();
            if (!(t[0] <= t[1])) {
                throw new IllegalArgumentException(DriftOptions.warnOption(e.getKey()).key() + " (" + t[0]
                        + ") must not be above " + DriftOptions.alertOption(e.getKey()).key() + " (" + t[1] + ")");
            }
        }
    }

    double warn(Statistic s) {
        return thresholds.get(s)[0];
    }

    double alert(Statistic s) {
        return thresholds.get(s)[1];
    }

    public boolean enabled() {
        return enabled;
    }

    /** The window length (drift.window): the shadow's agreement windows have it too. */
    public Duration window() {
        return window;
    }

    public DriftOptions.WindowTime windowTime() {
        return windowTime;
    }

    public Duration maxOutOfOrderness() {
        return maxOutOfOrderness;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public boolean embeddings() {
        return embeddings;
    }

    public int sampleSize() {
        return sampleSize;
    }
}
