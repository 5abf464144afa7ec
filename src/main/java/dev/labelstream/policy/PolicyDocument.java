package dev.labelstream.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.avro.ModerationAction;
import dev.labelstream.moderation.Thresholds;
import java.io.Serializable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A moderation policy as data: review / block thresholds per label, overrides per tenant and per input topic, and
 * optionally the failure policy. Immutable; parsed from the JSON of {@code schemas/policy.schema.json}
 * ({@code docs/policy.md}).
 *
 * <p>Decision (see {@link #decide}): for every label the applicable rule is the tenant's override of that label if
 * the record has a tenant and the policy overrides the label for it, else the input topic's override of that
 * label, else the default rule; labels without any applicable rule never moderate. The action is the strongest
 * any label reaches (BLOCK over REVIEW over ALLOW; the first label in model order wins a tie), exactly as
 * {@code moderation.ModerationPolicy} decides with the default rules alone, and with the same reason text for
 * the default rule.
 *
 * <p>Versions are positive integers, ordered as numbers: a policy replaces the one in force only when its version
 * is greater. Version 0 is reserved for the built-in policy ({@link #builtIn}: the model bundle's thresholds),
 * which any published version replaces; its decisions name the bundle's {@code policy_version} text.
 *
 * <pre>{@code
 * PolicyDocument p = PolicyDocument.parse(json);
 * p.checkFits(bundle.labels());
 * PolicyDecision d = p.decide(scores, bundle.labels(), event.attributes().get("tenant"), event.source().topic());
 * }</pre>
 *
 * @param id the policy id; the Kafka key it is published under
 * @param version positive for a published policy, 0 for the built-in one
 * @param versionName what decisions record as the policy version: the version's digits, or the bundle's
 *     {@code policy_version} for the built-in policy
 * @param rules the default rule per label
 * @param tenants per tenant (the value of the tenant attribute), rules that replace the default for their labels
 * @param topics per input topic, rules that replace the default for their labels (after the tenant's)
 * @param failurePolicy DEAD_LETTER, FAIL_OPEN or FAIL_CLOSED (the names of {@code classification.failure-policy}),
 *     or null to keep that option's value
 */
public record PolicyDocument(String id, long version, String versionName, Map<String, Rule> rules,
        Map<String, Map<String, Rule>> tenants, Map<String, Map<String, Rule>> topics, String failurePolicy)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The failure policies a document may name: {@code job.JobOptions.FailurePolicy}, by name (no job import). */
    public static final Set<String> FAILURE_POLICIES = Set.of("DEAD_LETTER", "FAIL_OPEN", "FAIL_CLOSED");

    /** Policy ids are Kafka keys and appear in metrics and file names: keep them plain. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Top-level fields of a published document; anything else is a mistake (a typo would silently do nothing). */
    private static final Set<String> FIELDS =
            Set.of("id", "version", "description", "rules", "tenants", "topics", "failure_policy");

    /** The field only {@link #toJson} writes, for the built-in policy's version name; never published. */
    private static final String BUILT_IN_FIELD = "builtin_version_name";

    public PolicyDocument {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(versionName, "versionName");
        rules = Map.copyOf(rules);
        tenants = copyOverrides(tenants);
        topics = copyOverrides(topics);
        if (failurePolicy != null && !FAILURE_POLICIES.contains(failurePolicy)) {
            throw new IllegalArgumentException("failure policy " + failurePolicy + " is not one of "
                    + FAILURE_POLICIES);
        }
    }

    /**
     * One label's thresholds, as {@link Thresholds} checks them (scores in [0, 1], block not below review); a rule
     * given only a review score never blocks.
     */
    public record Rule(double review, double block) implements Serializable {
        private static final long serialVersionUID = 1L;

        public Rule {
            new Thresholds(review, block); // the one place that says what valid thresholds are
        }

        public static Rule of(Thresholds t) {
            return new Rule(t.review(), t.block());
        }

        /** Whether this rule ever blocks: a rule given only a review score does not. */
        boolean blocks() {
            return block <= 1.0;
        }
    }

    /**
     * The built-in policy: the model bundle's thresholds (or {@code moderation.thresholds}), version 0, deciding
     * exactly as {@code ModerationPolicy} does with them.
     *
     * @param id the id decisions name (the followed {@code moderation.policy-id}, or "builtin")
     * @param thresholds per label, as the bundle gives them
     * @param versionName the bundle's policy_version, recorded in every decision
     */
    public static PolicyDocument builtIn(String id, Map<String, Thresholds> thresholds, String versionName) {
        Map<String, Rule> rules = new LinkedHashMap<>();
        thresholds.forEach((label, t) -> rules.put(label, Rule.of(t)));
        return new PolicyDocument(id, 0, versionName, rules, Map.of(), Map.of(), null);
    }

    /** Whether this is the built-in policy (version 0), which every published version replaces. */
    public boolean isBuiltIn() {
        return version == 0;
    }

    /** Whether this document may replace {@code inForce}: its version is greater. */
    public boolean isNewerThan(PolicyDocument inForce) {
        return version > inForce.version;
    }

    /**
     * Parses a published policy document.
     *
     * @throws PolicyRejectedException naming the JSON path of the first problem and what to do
     */
    public static PolicyDocument parse(String json) throws PolicyRejectedException {
        return parse(json, false);
    }

    /** Parses {@link #toJson} output too, which may be the built-in policy (version 0). */
    public static PolicyDocument parseStored(String json) throws PolicyRejectedException {
        return parse(json, true);
    }

    private static PolicyDocument parse(String json, boolean stored) throws PolicyRejectedException {
        if (json == null || json.isBlank()) {
            throw new PolicyRejectedException(null, -1, "$: the policy document is empty");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new PolicyRejectedException(null, -1, "$: not JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new PolicyRejectedException(null, -1, "$: a policy document is a JSON object with id, version"
                    + " and rules");
        }
        String id = root.path("id").isTextual() ? root.get("id").asText() : null;
        long version = root.path("version").canConvertToLong() && root.get("version").isIntegralNumber()
                ? root.get("version").asLong() : -1;
        try {
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f) && !(stored && f.equals(BUILT_IN_FIELD))) {
                    throw new IllegalArgumentException("$." + f + ": unknown field; a policy has " + FIELDS);
                }
            }
            if (id == null) {
                throw new IllegalArgumentException("$.id: required, a string such as \"community-standards\"");
            }
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("$.id: \"" + id + "\" is not a policy id: use 1 to 128 letters,"
                        + " digits, '.', '_' or '-', starting with a letter or digit");
            }
            JsonNode v = root.get("version");
            if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new IllegalArgumentException("$.version: required, a positive integer (versions are ordered"
                        + " as numbers; publish each change with a greater one), got " + v);
            }
            String versionName = Long.toString(version);
            if (stored && root.has(BUILT_IN_FIELD)) {
                versionName = root.get(BUILT_IN_FIELD).asText();
            }
            if (version < 1 && !(stored && version == 0)) {
                throw new IllegalArgumentException("$.version: " + version + " is not a positive integer (0 is the"
                        + " built-in policy's)");
            }
            JsonNode d = root.get("description");
            if (d != null && !d.isTextual()) {
                throw new IllegalArgumentException("$.description: a string, if given");
            }
            JsonNode r = root.get("rules");
            if (r == null) {
                throw new IllegalArgumentException("$.rules: required, an object of label -> {\"review\": score,"
                        + " \"block\": score} (it may be empty)");
            }
            Map<String, Rule> rules = rules(r, "$.rules");
            Map<String, Map<String, Rule>> tenants = overrides(root.get("tenants"), "$.tenants", "tenant");
            Map<String, Map<String, Rule>> topics = overrides(root.get("topics"), "$.topics", "topic");
            String failure = null;
            JsonNode fp = root.get("failure_policy");
            if (fp != null && !fp.isNull()) {
                if (!fp.isTextual() || !FAILURE_POLICIES.contains(fp.asText().toUpperCase(Locale.ROOT))) {
                    throw new IllegalArgumentException("$.failure_policy: " + fp + " is not one of "
                            + FAILURE_POLICIES + " (or leave it out to keep classification.failure-policy)");
                }
                failure = fp.asText().toUpperCase(Locale.ROOT);
            }
            return new PolicyDocument(id, version, versionName, rules, tenants, topics, failure);
        } catch (IllegalArgumentException e) {
            throw new PolicyRejectedException(id, version, e.getMessage());
        }
    }

    private static Map<String, Map<String, Rule>> overrides(JsonNode node, String path, String what) {
        Map<String, Map<String, Rule>> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(path + ": an object of " + what + " -> {label -> {review, block}}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException(path + ": an empty " + what + " name");
            }
            out.put(e.getKey(), rules(e.getValue(), child(path, e.getKey())));
        }
        return out;
    }

    private static Map<String, Rule> rules(JsonNode node, String path) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(path + ": an object of label -> {\"review\": score, \"block\":"
                    + " score}, got " + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        Map<String, Rule> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = child(path, e.getKey());
            JsonNode t = e.getValue();
            if (!t.isObject()) {
                throw new IllegalArgumentException(p + ": an object {\"review\": score, \"block\": score}");
            }
            for (Iterator<String> f = t.fieldNames(); f.hasNext(); ) {
                String name = f.next();
                if (!name.equals("review") && !name.equals("block")) {
                    throw new IllegalArgumentException(p + "." + name + ": unknown field; a rule has review and/or"
                            + " block");
                }
            }
            JsonNode review = t.get("review");
            JsonNode block = t.get("block");
            if (review != null && !review.isNumber()) {
                throw new IllegalArgumentException(p + ".review: a score in [0, 1], got " + review);
            }
            if (block != null && !block.isNumber()) {
                throw new IllegalArgumentException(p + ".block: a score in [0, 1], got " + block);
            }
            if (review == null && block == null) {
                throw new IllegalArgumentException(p + ": give \"review\" and/or \"block\" (a score in [0, 1])");
            }
            for (JsonNode s : new JsonNode[] {review, block}) {
                if (s != null && !(s.asDouble() >= 0 && s.asDouble() <= 1)) {
                    throw new IllegalArgumentException(p + (s == review ? ".review" : ".block") + ": " + s
                            + " is outside [0, 1]");
                }
            }
            // As Thresholds.parse: only "review" never blocks, only "block" reviews at the same score.
            double b = block != null ? block.asDouble() : Thresholds.NEVER.block();
            double r = review != null ? review.asDouble() : b;
            if (b < r) {
                throw new IllegalArgumentException(p + ": review " + r + " is above block " + b + ": a score that"
                        + " blocks must also reach review; lower review or raise block");
            }
            out.put(e.getKey(), new Rule(r, b));
        }
        return out;
    }

    /** The JSON path of a member: {@code $.a.b} for plain names, {@code $.a["b c"]} for anything else. */
    private static String child(String path, String key) {
        return key.matches("[A-Za-z_][A-Za-z0-9_]*") ? path + "." + key
                : path + "[\"" + key.replace("\"", "\\\"") + "\"]";
    }

    /**
     * Checks that the policy fits a model: every label it names (in rules and overrides) is one of the model's.
     *
     * @throws PolicyRejectedException naming the JSON path of the unknown label and the model's labels
     */
    public void checkFits(List<String> labels) throws PolicyRejectedException {
        checkLabels(rules, "$.rules", labels);
        for (Map.Entry<String, Map<String, Rule>> e : tenants.entrySet()) {
            checkLabels(e.getValue(), child("$.tenants", e.getKey()), labels);
        }
        for (Map.Entry<String, Map<String, Rule>> e : topics.entrySet()) {
            checkLabels(e.getValue(), child("$.topics", e.getKey()), labels);
        }
    }

    private void checkLabels(Map<String, Rule> r, String path, List<String> labels) throws PolicyRejectedException {
        for (String label : r.keySet()) {
            if (!labels.contains(label)) {
                throw new PolicyRejectedException(id, version, child(path, label) + ": label \"" + label
                        + "\" is not one of the model's labels " + labels);
            }
        }
    }

    /**
     * The action for one classification and the statement of its reasons.
     *
     * @param scores per label, in {@code labels} order
     * @param labels the model's labels
     * @param tenant the record's tenant (the tenant attribute's value), or null
     * @param topic the record's input topic, or null
     */
    public PolicyDecision decide(float[] scores, List<String> labels, String tenant, String topic) {
        if (scores.length != labels.size()) {
            throw new IllegalArgumentException("got " + scores.length + " scores for " + labels.size() + " labels");
        }
        Map<String, Rule> tenantRules = tenant == null ? null : tenants.get(tenant);
        Map<String, Rule> topicRules = topic == null ? null : topics.get(topic);
        ModerationAction action = ModerationAction.ALLOW;
        int decidingLabel = -1;
        Rule decidingRule = null;
        PolicyDecision.Source source = PolicyDecision.Source.NONE;
        for (int i = 0; i < scores.length; i++) {
            String label = labels.get(i);
            Rule rule = null;
            PolicyDecision.Source from = PolicyDecision.Source.NONE;
            if (tenantRules != null && (rule = tenantRules.get(label)) != null) {
                from = PolicyDecision.Source.TENANT;
            } else if (topicRules != null && (rule = topicRules.get(label)) != null) {
                from = PolicyDecision.Source.TOPIC;
            } else if ((rule = rules.get(label)) != null) {
                from = PolicyDecision.Source.DEFAULT;
            }
            if (rule == null) {
                continue;
            }
            ModerationAction a = scores[i] >= rule.block() ? ModerationAction.BLOCK
                    : scores[i] >= rule.review() ? ModerationAction.REVIEW : ModerationAction.ALLOW;
            if (a.ordinal() > action.ordinal()) {
                action = a;
                decidingLabel = i;
                decidingRule = rule;
                source = from;
            }
        }
        if (decidingLabel < 0) {
            return new PolicyDecision(ModerationAction.ALLOW, "no label reached its review threshold", id,
                    versionName, null, PolicyDecision.Source.NONE, Double.NaN);
        }
        boolean block = action == ModerationAction.BLOCK;
        double threshold = block ? decidingRule.block() : decidingRule.review();
        String label = labels.get(decidingLabel);
        // The default rule's text is ModerationPolicy's, so decisions read the same before and after a policy.
        String reason = String.format(Locale.ROOT, "%s %.3f >= %s threshold %.3f", label, scores[decidingLabel],
                block ? "block" : "review", threshold);
        if (source == PolicyDecision.Source.TENANT) {
            reason += " (tenant \"" + tenant + "\" override)";
        } else if (source == PolicyDecision.Source.TOPIC) {
            reason += " (topic \"" + topic + "\" override)";
        }
        return new PolicyDecision(action, reason, id, versionName, label, source, threshold);
    }

    /** The rule that applies to {@code label} for a tenant and topic (the precedence of {@link #decide}), or null. */
    public Rule ruleFor(String label, String tenant, String topic) {
        Map<String, Rule> t = tenant == null ? null : tenants.get(tenant);
        if (t != null && t.containsKey(label)) {
            return t.get(label);
        }
        Map<String, Rule> p = topic == null ? null : topics.get(topic);
        if (p != null && p.containsKey(label)) {
            return p.get(label);
        }
        return rules.get(label);
    }

    /** This document as JSON, in the published format; {@link #parse} reads it back (the built-in one only from state). */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("version", version);
        if (isBuiltIn()) {
            root.put(BUILT_IN_FIELD, versionName);
        }
        root.set("rules", rulesJson(rules));
        if (!tenants.isEmpty()) {
            ObjectNode t = root.putObject("tenants");
            tenants.forEach((k, v) -> t.set(k, rulesJson(v)));
        }
        if (!topics.isEmpty()) {
            ObjectNode t = root.putObject("topics");
            topics.forEach((k, v) -> t.set(k, rulesJson(v)));
        }
        if (failurePolicy != null) {
            root.put("failure_policy", failurePolicy);
        }
        return root.toString();
    }

    private static ObjectNode rulesJson(Map<String, Rule> rules) {
        ObjectNode o = JSON.createObjectNode();
        // Sorted, so one document always has one text (state, comparisons, the topic).
        rules.keySet().stream().sorted().forEach(label -> {
            Rule r = rules.get(label);
            ObjectNode n = o.putObject(label);
            n.put("review", r.review());
            if (r.blocks()) {
                n.put("block", r.block());
            }
        });
        return o;
    }

    /** "id v3", or "id (built-in default)", for logs and messages. */
    @Override
    public String toString() {
        return isBuiltIn() ? id + " (built-in " + versionName + ")" : id + " v" + version;
    }

    private static Map<String, Map<String, Rule>> copyOverrides(Map<String, Map<String, Rule>> m) {
        Map<String, Map<String, Rule>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, Map.copyOf(v)));
        return Map.copyOf(out);
    }
}
