package dev.labelstream.batching;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/** Options of the {@link MicroBatcher}: when a batch of records is handed to the classifier. */
public final class BatchingOptions {
    private BatchingOptions() {}

    public static final ConfigOption<Integer> MAX_RECORDS = key("batching.max-records")
            .intType()
            .defaultValue(64)
            .withDescription("Most records in one batch; a batch that reaches it is flushed at once. At least 1."
                    + " Unset with inference.provider CPU and inference.max-sub-batch unset or 1: 4, since each record"
                    + " is then its own model call and small batches keep the async threads busy and commits prompt"
                    + " (logged at startup); otherwise 64.");

    public static final ConfigOption<Integer> MAX_TOKENS = key("batching.max-tokens")
            .intType()
            .defaultValue(8192)
            .withDescription("Most estimated tokens in one batch: a record that would push the batch past it"
                    + " flushes the batch first, and a batch that reaches it is flushed at once. A single record"
                    + " above the budget travels alone. At least 1.");

    public static final ConfigOption<Duration> LINGER = key("batching.linger")
            .durationType()
            .defaultValue(Duration.ofMillis(20))
            .withDescription("Longest time the first record of a batch waits for more records (a max-age, not"
                    + " reset by later records), in whole milliseconds. 0 ms: no waiting, every record is its own"
                    + " batch. Batches are also flushed before every checkpoint barrier and watermark.");
}
