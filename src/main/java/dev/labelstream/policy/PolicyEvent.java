package dev.labelstream.policy;

import java.io.Serializable;

/**
 * A control event of the policy in force, emitted by {@link PolicyBatcher} on {@link PolicyBatcher#EVENTS}: a
 * version was put in force or a document was rejected. Meant for the report topic (its envelope's policy-event
 * kind) and for operators' alerts; one per subtask that saw the document.
 *
 * @param kind accepted or rejected
 * @param policyId the document's id, or null when it did not parse
 * @param version the document's version, or -1 when it has none
 * @param reason why it was rejected, or for an accepted one what it replaced (e.g. "replaces v2")
 * @param time processing time of the event, ms since the epoch
 * @param subtask the subtask that saw it
 * @param model for a promotion: the model put in force (MODEL_PROMOTED) or the one that stays (MODEL_REJECTED),
 *     name@version; null for policy documents
 */
public record PolicyEvent(Kind kind, String policyId, long version, String reason, long time, int subtask,
        String model) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** An event of a policy document (no model). */
    public PolicyEvent(Kind kind, String policyId, long version, String reason, long time, int subtask) {
        this(kind, policyId, version, reason, time, subtask, null);
    }

    public enum Kind {
        ACCEPTED,
        REJECTED,
        /** A promotion put a model in force ({@code model} names it). */
        MODEL_PROMOTED,
        /** A promotion was rejected; {@code model} names the model that stays in force. */
        MODEL_REJECTED
    }
}
