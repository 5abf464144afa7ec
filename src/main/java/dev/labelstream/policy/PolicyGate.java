package dev.labelstream.policy;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decides what a record of the policy topic does to the policy in force: one place for the rules that the job's
 * batcher, {@code readNewest} and {@code policy validate} share. Keyed by policy id, the topic may carry other
 * jobs' policies and other control records: those are ignored, not rejected.
 */
final class PolicyGate implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The policy id this job follows ({@code moderation.policy-id}). */
    private final String policyId;
    /** The model's labels, in score order: every label a policy names must be one; null: not checked. */
    private final List<String> labels;

    PolicyGate(String policyId, List<String> labels) {
        if (policyId == null || policyId.isBlank()) {
            throw new IllegalArgumentException(PolicyOptions.POLICY_ID.key() + " must name the policy to follow");
        }
        this.policyId = policyId;
        this.labels = labels == null ? null : List.copyOf(labels);
    }

    String policyId() {
        return policyId;
    }

    List<String> labels() {
        return labels;
    }

    /** What one record does. */
    sealed interface Verdict permits Accept, Reject, Ignore {}

    /** Put {@code policy} in force. */
    record Accept(PolicyDocument policy) implements Verdict {}

    /** Keep the policy in force; report {@code reason}. */
    record Reject(String policyId, long version, String reason) implements Verdict {}

    /** Not for this job, or already in force: nothing to report beyond a debug line. */
    record Ignore(String why) implements Verdict {}

    /**
     * @param inForce the policy in force now
     * @param key the record's key (the policy id it was published under), or null
     * @param value the record's value (the document), or null for a tombstone
     */
    Verdict offer(PolicyDocument inForce, byte[] key, byte[] value) {
        String k = key == null ? null : new String(key, StandardCharsets.UTF_8);
        if (k != null && !k.equals(policyId)) {
            return new Ignore("keyed \"" + k + "\": another policy or control record");
        }
        if (value == null) {
            // Compaction's delete marker. Reverting to the built-in thresholds silently would be a surprise.
            return new Ignore("a tombstone for " + policyId + ": the policy in force stays (publish a new version"
                    + " to change it)");
        }
        PolicyDocument doc;
        try {
            doc = PolicyDocument.parse(new String(value, StandardCharsets.UTF_8));
        } catch (PolicyRejectedException e) {
            return new Reject(e.policyId() != null ? e.policyId() : k, e.version(), e.getMessage());
        }
        return offer(inForce, doc, k != null);
    }

    /** The same, for a parsed document; {@code keyed} says whether it came under this job's policy id as key. */
    Verdict offer(PolicyDocument inForce, PolicyDocument doc, boolean keyed) {
        if (!doc.id().equals(policyId)) {
            return keyed
                    ? new Reject(doc.id(), doc.version(), "$.id: \"" + doc.id() + "\" was published under key \""
                            + policyId + "\": publish each policy under its own id as key")
                    : new Ignore("policy \"" + doc.id() + "\" is not " + PolicyOptions.POLICY_ID.key() + " \""
                            + policyId + "\"");
        }
        try {
            if (labels != null) {
                doc.checkFits(labels);
            }
        } catch (PolicyRejectedException e) {
            return new Reject(doc.id(), doc.version(), e.getMessage());
        }
        if (doc.version() == inForce.version() && doc.equals(inForce)) {
            return new Ignore(doc + " is already in force");
        }
        if (!doc.isNewerThan(inForce)) {
            return new Reject(doc.id(), doc.version(), "$.version: " + doc.version() + " is not newer than "
                    + inForce + " in force: publish the change with a version above " + inForce.version());
        }
        return new Accept(doc);
    }
}
