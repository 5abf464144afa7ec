package dev.labelstream.moderation;

import static org.apache.flink.configuration.ConfigOptions.key;

import org.apache.flink.configuration.ConfigOption;

/** Options of the moderation policy: thresholds that override the model bundle's, and their version. */
public final class ModerationOptions {
    private ModerationOptions() {}

    public static final ConfigOption<String> THRESHOLDS = key("moderation.thresholds")
            .stringType()
            .noDefaultValue()
            .withDescription("Per-label thresholds as JSON, overriding the model bundle's, e.g."
                    + " {\"spam\": {\"review\": 0.5, \"block\": 0.9}}.");

    public static final ConfigOption<String> POLICY_VERSION = key("moderation.policy-version")
            .stringType()
            .noDefaultValue()
            .withDescription("Version recorded in every decision; required with moderation.thresholds so that"
                    + " decisions say which thresholds decided them.");
}
