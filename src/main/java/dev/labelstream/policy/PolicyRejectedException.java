package dev.labelstream.policy;

/**
 * A policy document that cannot be put in force: it does not parse, does not fit the model's labels, names another
 * id, or is not newer than the policy in force. The message is the reason (it names the JSON path where there is
 * one); the policy in force stays.
 */
public final class PolicyRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The document's id, or null when it has none (it did not parse). */
    private final String policyId;
    /** The document's version, or -1 when it has none. */
    private final long version;

    public PolicyRejectedException(String policyId, long version, String reason) {
        super(reason);
        this.policyId = policyId;
        this.version = version;
    }

    public String policyId() {
        return policyId;
    }

    public long version() {
        return version;
    }
}
