package dev.labelstream.moderation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.inference.InvalidModelBundleException;
import dev.labelstream.inference.ModelBundle;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The {@link ModerationOptions} of a configuration, read and checked without a model ({@link #of}), so that a
 * bad thresholds JSON is refused before a job is submitted; {@link #policy(ModelBundle)} then adds what needs the
 * model (do the labels exist?) and builds the policy in force: the configuration's thresholds when set, else the
 * bundle's own.
 *
 * <pre>{@code
 * PolicySettings p = PolicySettings.of(conf);          // IllegalArgumentException("moderation.thresholds: ...")
 * ModerationPolicy policy = p.policy(ModelBundle.load(conf));
 * }</pre>
 *
 * @param thresholds per label, from {@link ModerationOptions#THRESHOLDS}; empty when the option is unset (the
 *     bundle's thresholds apply)
 * @param version {@link ModerationOptions#POLICY_VERSION}; present whenever thresholds are
 */
public record PolicySettings(Optional<Map<String, Thresholds>> thresholds, Optional<String> version) {
    private static final String ALLOWED = "a JSON object of label -> {\"review\": score, \"block\": score}, scores"
            + " in [0, 1] and block >= review, e.g. {\"spam\": {\"review\": 0.5, \"block\": 0.9}}";

    /**
     * Reads and checks the moderation options of {@code conf}.
     *
     * @throws IllegalArgumentException {@code "<key>: <what is wrong>; allowed: ..."}
     */
    public static PolicySettings of(ReadableConfig conf) {
        Optional<String> json = conf.getOptional(ModerationOptions.THRESHOLDS);
        Optional<String> version = conf.getOptional(ModerationOptions.POLICY_VERSION).filter(v -> !v.isBlank());
        if (json.isEmpty()) {
            return new PolicySettings(Optional.empty(), version);
        }
        if (version.isEmpty()) {
            throw new IllegalArgumentException(ModerationOptions.POLICY_VERSION.key() + ": must be set with "
                    + ModerationOptions.THRESHOLDS.key() + ": every decision records the version of the thresholds"
                    + " that made it; allowed: any non-empty name, e.g. 2026-01-15");
        }
        try {
            return new PolicySettings(Optional.of(Thresholds.parse(new ObjectMapper().readTree(json.get()))),
                    version);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(ModerationOptions.THRESHOLDS.key() + ": is not valid JSON ("
                    + e.getOriginalMessage() + "); allowed: " + ALLOWED, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ModerationOptions.THRESHOLDS.key() + ": " + e.getMessage()
                    + "; allowed: " + ALLOWED, e);
        }
    }

    /**
     * The policy in force for {@code bundle}: these thresholds, or the bundle's own when the configuration sets
     * none. Runs wherever the bundle has been read: before submit, and when the classifier opens.
     *
     * @throws IllegalArgumentException when configured thresholds name a label the model lacks (names the key)
     * @throws InvalidModelBundleException when the bundle's own thresholds are wrong (names labelstream.json)
     */
    public ModerationPolicy policy(ModelBundle bundle) {
        if (thresholds.isPresent()) {
            try {
                Thresholds.checkLabels(thresholds.get(), bundle.labels());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ModerationOptions.THRESHOLDS.key() + ": " + e.getMessage()
                        + "; allowed: thresholds for the labels " + bundle.labels(), e);
            }
            return new ModerationPolicy(bundle.labels(), thresholds.get(), version.orElseThrow());
        }
        return bundlePolicy(bundle);
    }

    /**
     * The policy a bundle ships (labelstream.json thresholds and policy_version).
     *
     * @throws InvalidModelBundleException naming labelstream.json when its thresholds are wrong
     */
    public static ModerationPolicy bundlePolicy(ModelBundle bundle) {
        try {
            return new ModerationPolicy(bundle.labels(), Thresholds.parse(bundle.policy().thresholds(),
                    bundle.labels()), bundle.policy().version());
        } catch (IllegalArgumentException e) {
            throw new InvalidModelBundleException(bundle.dir().resolve("labelstream.json"), e.getMessage() + ".", e);
        }
    }

    /** {@link #of} and {@link #policy} in one: the pre-submit check of a loaded bundle against {@code conf}. */
    public static ModerationPolicy check(ModelBundle bundle, ReadableConfig conf) {
        return of(conf).policy(bundle);
    }
}
