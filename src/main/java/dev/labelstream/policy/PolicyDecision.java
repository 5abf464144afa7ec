package dev.labelstream.policy;

import dev.labelstream.avro.ModerationAction;

/**
 * One moderation decision and its statement of reasons: which policy (id and version) decided, by which rule
 * (the label, and whether the tenant's override, the topic's override or the default rule), and the threshold the
 * score crossed.
 *
 * @param action the strongest action any label reached
 * @param reason human-readable, e.g. {@code spam 0.912 >= block threshold 0.900 (tenant "acme" override)}; the
 *     default rule's text is {@code moderation.ModerationPolicy}'s
 * @param policyId the id of the policy that decided
 * @param policyVersion its version as decisions record it (digits, or the bundle's policy_version when built in)
 * @param label the label that decided, or null when the action is ALLOW because no label reached review
 * @param source where the deciding rule came from; NONE when no label reached review
 * @param threshold the threshold crossed (block for BLOCK, review for REVIEW), or NaN with no deciding label
 */
public record PolicyDecision(ModerationAction action, String reason, String policyId, String policyVersion,
        String label, Source source, double threshold) {

    /** Where the rule that decided came from, in precedence order. */
    public enum Source {
        /** The tenant's override of the label. */
        TENANT,
        /** The input topic's override of the label. */
        TOPIC,
        /** The policy's default rule for the label. */
        DEFAULT,
        /** No label reached its review threshold. */
        NONE
    }
}
