package dev.labelstream.policy;

import static org.apache.flink.configuration.ConfigOptions.key;

import org.apache.flink.configuration.ConfigOption;

/** Options of the live moderation policy: where it comes from, which one to follow, how tenants are told apart. */
public final class PolicyOptions {
    private PolicyOptions() {}

    public static final ConfigOption<String> POLICY_TOPIC = key("kafka.policy-topic")
            .stringType()
            .noDefaultValue()
            .withDescription("Compacted Kafka topic of policy documents, keyed by policy id (docs/policy.md). The"
                    + " job reads it from the beginning as a broadcast input and puts each newer version of"
                    + " moderation.policy-id in force without a restart. Unset: the bundle's thresholds (or"
                    + " moderation.thresholds) decide, and the job keeps its single chain. A policy's failure_policy, when"
                    + " present, wins over classification.failure-policy.");

    public static final ConfigOption<String> POLICY_ID = key("moderation.policy-id")
            .stringType()
            .noDefaultValue()
            .withDescription("Id of the policy this job follows on kafka.policy-topic (required with it); other ids"
                    + " on the topic are other jobs' and are ignored. 1 to 128 letters, digits, '.', '_' or '-'.");

    public static final ConfigOption<String> TENANT_ATTRIBUTE = key("moderation.tenant-attribute")
            .stringType()
            .defaultValue("tenant")
            .withDescription("Input attribute whose value selects a policy's tenant override (the TextEvent's"
                    + " attributes map, e.g. attributes.tenant = \"acme\"). A record without it gets the topic"
                    + " override or the default rule.");
}
