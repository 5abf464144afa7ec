package dev.labelstream.policy;

import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decider;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A policy document as the classification core's {@link Decider}: the tenant is the request attribute {@code
 * moderation.tenant-attribute} names, the topic the request's input topic, and {@link PolicyDocument#decide} picks
 * the rule (tenant, then topic, then default). Every decision names the document's id and version.
 *
 * <pre>{@code
 * Decisions d = classifier.classify(requests, deadline, PolicyDecider.of(batch.policy(), "tenant"));
 * }</pre>
 */
public final class PolicyDecider implements Decider {
    /** The document that decides. */
    private final PolicyDocument policy;
    /** The request attribute that names the tenant. */
    private final String tenantAttribute;

    private PolicyDecider(PolicyDocument policy, String tenantAttribute) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.tenantAttribute = Objects.requireNonNull(tenantAttribute, "tenantAttribute");
    }

    /** Decides under {@code policy}; {@code tenantAttribute} names the attribute that selects a tenant override. */
    public static PolicyDecider of(PolicyDocument policy, String tenantAttribute) {
        return new PolicyDecider(policy, tenantAttribute);
    }

    public PolicyDocument policy() {
        return policy;
    }

    @Override
    public String policyId() {
        return policy.id();
    }

    @Override
    public String policyVersion() {
        return policy.versionName();
    }

    @Override
    public String failurePolicy() {
        return policy.failurePolicy();
    }

    @Override
    public Ruling decide(List<String> labels, float[] scores, Classifier.Request request) {
        Map<String, String> attributes = request.attributes();
        String tenant = attributes == null ? null : attributes.get(tenantAttribute);
        PolicyDecision d = policy.decide(scores, labels, tenant, request.topic());
        boolean decided = d.source() != PolicyDecision.Source.NONE;
        return new Ruling(d.action(), d.reason(), d.label(), decided ? d.source().name() : null,
                decided ? d.threshold() : null);
    }

    @Override
    public String toString() {
        return policy.toString();
    }
}
