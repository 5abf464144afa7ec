package dev.labelstream.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * A promotion: a control record on the policy topic that names the model to put in force, keyed by {@code
 * <policy id>/model} (so compaction keeps the newest promotion next to the newest policy, and the job that follows
 * that policy id follows it). Two forms:
 *
 * <pre>
 * {"model.dir": "/models/spam-minilm-l6-1.2.0", "version": "1.2.0"}   a bundle by path and version
 * {"promote": "shadow"}                                               the job's shadow.model.dir, as configured
 * </pre>
 *
 * <p>The path must be visible on every TaskManager (shared storage, or a directory in the image); the version must
 * be the bundle's own, so a record never means "whatever is there now". Neither form is relative to the model in
 * force: replaying the topic from the beginning puts the same model in force.
 *
 * @param dir the bundle's directory; null for the shadow
 * @param version the version the bundle must have; null for the shadow (its configured version)
 */
public record ModelControl(String dir, String version) implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What follows the policy id in a promotion's key. */
    public static final String KEY_SUFFIX = "/model";

    /** The key of promotions for the job that follows {@code policyId}. */
    public static String key(String policyId) {
        return policyId + KEY_SUFFIX;
    }

    /** Whether this promotes the job's shadow model. */
    public boolean shadow() {
        return dir == null;
    }

    /**
     * Parses a promotion record's value.
     *
     * @throws PolicyRejectedException naming what is wrong
     */
    public static ModelControl parse(byte[] value) throws PolicyRejectedException {
        if (value == null) {
            throw new PolicyRejectedException(null, -1, "a tombstone promotes nothing");
        }
        JsonNode n;
        try {
            n = JSON.readTree(new String(value, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new PolicyRejectedException(null, -1, "a promotion must be a JSON object: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new PolicyRejectedException(null, -1, "a promotion must be a JSON object, like"
                    + " {\"model.dir\": \"/models/x\", \"version\": \"1.2.0\"} or {\"promote\": \"shadow\"}");
        }
        if (n.has("promote")) {
            if (!"shadow".equals(n.get("promote").asText()) || n.size() != 1) {
                throw new PolicyRejectedException(null, -1, "$.promote: only {\"promote\": \"shadow\"} is known");
            }
            return new ModelControl(null, null);
        }
        String dir = n.path("model.dir").asText("");
        String version = n.path("version").asText("");
        if (dir.isBlank() || version.isBlank()) {
            throw new PolicyRejectedException(null, -1, "a promotion names \"model.dir\" (an absolute path every"
                    + " TaskManager sees) and \"version\" (the bundle's own), or is {\"promote\": \"shadow\"}");
        }
        if (!dir.startsWith("/")) {
            throw new PolicyRejectedException(null, -1, "$.model.dir: '" + dir + "' is relative; name the bundle"
                    + " by an absolute path that every TaskManager sees");
        }
        return new ModelControl(dir, version);
    }

    /** This promotion as a record value. */
    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        if (shadow()) {
            n.put("promote", "shadow");
        } else {
            n.put("model.dir", dir).put("version", version);
        }
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }
}
