package dev.labelstream.batching;

import java.time.Duration;
import java.util.Objects;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Validated batching settings, read once from the job configuration ({@link BatchingOptions}).
 *
 * @param maxRecords most records in one batch ({@code >= 1})
 * @param maxTokens most estimated tokens in one batch ({@code >= 1})
 * @param linger longest wait of the first record of a batch (whole milliseconds, {@code >= 0})
 */
public record BatchingSettings(int maxRecords, int maxTokens, Duration linger) {

    public BatchingSettings {
        Objects.requireNonNull(linger, BatchingOptions.LINGER.key());
        require(maxRecords >= 1, BatchingOptions.MAX_RECORDS.key() + " must be at least 1, got " + maxRecords);
        require(maxTokens >= 1, BatchingOptions.MAX_TOKENS.key() + " must be at least 1, got " + maxTokens);
        require(!linger.isNegative(), BatchingOptions.LINGER.key() + " must be 0 ms or more, got " + linger);
        require(linger.getNano() % 1_000_000 == 0,
                BatchingOptions.LINGER.key() + " must be a whole number of milliseconds, got " + linger);
    }

    /** Settings from {@code config}, defaults where an option is unset. */
    public static BatchingSettings fromConfig(ReadableConfig config) {
        return new BatchingSettings(
                config.get(BatchingOptions.MAX_RECORDS),
                config.get(BatchingOptions.MAX_TOKENS),
                config.get(BatchingOptions.LINGER));
    }

    /** The linger in milliseconds. */
    public long lingerMillis() {
        return linger.toMillis();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
