package dev.labelstream.sql;

import static org.apache.flink.configuration.ConfigOptions.key;

import org.apache.flink.configuration.ConfigOption;

/**
 * Options of a labelstream model in Flink SQL that the DataStream job does not have. Everything else a model
 * takes ({@code model.dir}, {@code inference.*}, {@code batching.*}, {@code moderation.*}, {@code async.*},
 * {@code classification.failure-policy}) is the job's own option, with the same meaning and default.
 */
public final class SqlOptions {
    private SqlOptions() {}

    public static final ConfigOption<Boolean> MODEL_CHECK_ON_CLIENT = key("model.check-on-client")
            .booleanType()
            .defaultValue(true)
            .withDescription("Read and check the model bundle (model.dir) when the query is planned, so a bad"
                    + " directory or file fails the statement instead of the running job. Set false when the"
                    + " bundle exists only on the TaskManagers; it is then checked when the function opens, with"
                    + " the same messages.");
}
