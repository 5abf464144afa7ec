package dev.labelstream.classify;

import dev.labelstream.avro.ModerationAction;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.InferenceSettings;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.inference.TextInput;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.PolicySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The classification core: a model in force, its {@link BatchClassifier} and the moderation policy in force,
 * turning a list of texts into one {@link Decision} per text, in input order.
 *
 * <p>Guarantees: {@link #classify} returns exactly one decision per request or throws {@link
 * ClassificationException} (no partial result), so a caller can retry the whole call or split it; a text's
 * scores do not depend on the batch it is in. The ONNX Runtime session is shared by every classifier of the
 * same model and options in the JVM (reference-counted; {@link #close()} waits for running calls, and the last
 * close releases the session). Thread-safe: classify may be called from several threads at once.
 *
 * <p>Options are checked before anything is loaded: {@link #check(ModelBundle, ReadableConfig)} runs the checks
 * {@link #open} would, without opening a session, so a client can refuse a configuration before submitting.
 *
 * <pre>{@code
 * try (Classifier c = Classifier.open(conf)) {
 *     List<Decision> d = c.classify(List.of(Classifier.Request.of("win a free cruise")), Duration.ofSeconds(5))
 *             .decisions();
 * }
 * }</pre>
 */
public final class Classifier implements AutoCloseable {

    /**
     * One input to classify.
     *
     * @param key a stable identity of the input (topic/partition/offset for Kafka records); the decision id is
     *     derived from it, so a replay carries the same id. Null: a random decision id.
     * @param text the text, or the first segment of a pair
     * @param pair the second segment, or null
     * @param attributes the producer's metadata (a policy's tenant is one of them), or null
     * @param topic the input topic (it selects a policy's topic override), or null
     */
    public record Request(String key, String text, String pair, Map<String, String> attributes, String topic) {
        public Request {
            Objects.requireNonNull(text, "text");
        }

        /** An input without attributes or topic. */
        public Request(String key, String text, String pair) {
            this(key, text, pair, null, null);
        }

        public static Request of(String text) {
            return new Request(null, text, null);
        }
    }

    /** What runs the model: a {@link BatchClassifier} in production, a stand-in in tests. */
    @FunctionalInterface
    public interface Engine {
        /**
         * One classification per input, in input order.
         *
         * @param deadline the most time the call may take; null for none
         * @throws ClassificationException when the model fails or the deadline passes
         */
        ClassifiedBatch classify(List<TextInput> inputs, Duration deadline);
    }

    /** The model whose decisions these are. */
    private final ModelIdentity model;
    /** Thresholds and version that turn scores into actions. */
    private final ModerationPolicy policy;
    /** {@link #policy} as the decider of calls that name none. */
    private final Decider ownDecider;
    /** CUDA or CPU: what ran the model. */
    private final String provider;
    private final Engine engine;
    /** Released by close(): the shared session, or nothing for a stand-in engine. */
    private final AutoCloseable resources;

    private Classifier(ModelIdentity model, ModerationPolicy policy, String provider, Engine engine,
            AutoCloseable resources) {
        this.model = Objects.requireNonNull(model, "model");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.provider = Objects.requireNonNull(provider, "provider");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.resources = resources;
        this.ownDecider = Decider.of(policy);
        if (!policy.labels().equals(model.labels())) {
            throw new IllegalArgumentException("policy labels " + policy.labels() + " differ from the model's "
                    + model.labels() + ". This is a bug.");
        }
    }

    /**
     * Opens the model {@code inference.model.dir} names (the built-in default when unset) with the inference and
     * moderation options of {@code conf}. Hashes model.onnx when the bundle names no version.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     * @throws dev.labelstream.inference.InvalidModelBundleException naming the bundle file that is wrong
     */
    public static Classifier open(ReadableConfig conf) {
        return open(ModelBundle.load(conf), conf);
    }

    /**
     * Opens a model in force (built on the client, {@link #check(ModelBundle, ReadableConfig)}), reading its
     * bundle without hashing model.onnx again.
     */
    public static Classifier open(ModelIdentity model, ReadableConfig conf) {
        return open(ModelBundle.load(model, conf), conf);
    }

    /** Opens {@code bundle} with the inference and moderation options of {@code conf}. */
    public static Classifier open(ModelBundle bundle, ReadableConfig conf) {
        InferenceSettings settings = InferenceSettings.of(conf);
        ModerationPolicy policy = PolicySettings.of(conf).policy(bundle);
        BatchClassifier engine = BatchClassifier.open(bundle, settings);
        return new Classifier(engine.bundle().identity(), policy, engine.provider(), engine::classify, engine);
    }

    /** A classifier over any engine, e.g. a stand-in that fails on purpose in tests. */
    public static Classifier of(ModelIdentity model, ModerationPolicy policy, String provider, Engine engine) {
        return new Classifier(model, policy, provider, engine, null);
    }

    /**
     * The checks {@link #open} runs that need the model, without opening a session: the inference options
     * against its max length, the moderation thresholds against its labels. Returns the model in force as
     * {@code conf} would run it.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     * @throws dev.labelstream.inference.InvalidModelBundleException when the bundle's own thresholds are wrong
     */
    public static ModelIdentity check(ModelBundle bundle, ReadableConfig conf) {
        InferenceSettings settings = InferenceSettings.of(conf);
        settings.check(bundle);
        PolicySettings.of(conf).policy(bundle);
        return settings.applyTo(bundle).identity();
    }

    public ModelIdentity model() {
        return model;
    }

    public ModerationPolicy policy() {
        return policy;
    }

    /** The execution provider: "CUDA" or "CPU". */
    public String provider() {
        return provider;
    }

    /**
     * Classifies {@code requests} and decides each under the classifier's own policy (the bundle's thresholds, or
     * {@code moderation.thresholds}).
     *
     * @param deadline the most time the call may take (ONNX Runtime is stopped at it), or null for no limit
     * @return one decision per request, in request order
     * @throws ClassificationException when tokenization or the model fails, or the deadline passes ({@link
     *     ClassificationException#timedOut()}); no partial result
     */
    public Decisions classify(List<Request> requests, Duration deadline) {
        return classify(requests, deadline, ownDecider);
    }

    /**
     * Classifies {@code requests} and decides each under {@code decider}: the policy a caller's batch was
     * batched with (a live policy document), which every decision then names.
     *
     * @param decider the policy; null for the classifier's own
     * @see #classify(List, Duration)
     */
    public Decisions classify(List<Request> requests, Duration deadline, Decider decider) {
        Decider by = decider == null ? ownDecider : decider;
        List<TextInput> inputs = new ArrayList<>(requests.size());
        for (Request r : requests) {
            inputs.add(new TextInput(r.text(), r.pair()));
        }
        ClassifiedBatch batch = engine.classify(inputs, deadline);
        if (batch.results().size() != requests.size()) {
            throw new IllegalStateException("the engine returned " + batch.results().size() + " results for "
                    + requests.size() + " inputs. This is a bug.");
        }
        List<Decision> out = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            out.add(decide(requests.get(i), batch.results().get(i), by));
        }
        return new Decisions(out, batch);
    }

    private Decision decide(Request r, Classification c, Decider by) {
        Decider.Ruling d = by.decide(model.labels(), c.scores(), r);
        return new Decision(decisionId(r, by), r.key(), model.labels(), c, d.action(), d.reason(), d.label(),
                d.threshold(), model.name(), model.version(), by.policyVersion(), provider, null, by.policyId(),
                d.rule());
    }

    /**
     * The decision id: the same input decided by the same model and policy version always gets the same one. A
     * policy document's id is part of it, so two policies' version 3 never share ids.
     */
    private String decisionId(Request r, Decider by) {
        String policy = by.policyId() == null ? by.policyVersion() : by.policyId() + "/" + by.policyVersion();
        return Decision.id(r.key(), model.name(), model.version(), policy);
    }

    /**
     * The decision for an input the classifier could not classify, when the failure policy emits one instead of
     * a dead letter: no scores, {@code action} as that policy says, and the error in the reason.
     *
     * @param errorKind why (an {@code ErrorKind} name)
     * @param reason in words, for the statement of reasons
     */
    public Decision unclassified(Request r, ModerationAction action, String errorKind, String reason) {
        return unclassified(r, action, errorKind, reason, ownDecider);
    }

    /** {@link #unclassified(Request, ModerationAction, String, String)} under {@code decider} (null: our own). */
    public Decision unclassified(Request r, ModerationAction action, String errorKind, String reason,
            Decider decider) {
        Decider by = decider == null ? ownDecider : decider;
        return new Decision(decisionId(r, by), r.key(), model.labels(), null, action, reason, null, null,
                model.name(), model.version(), by.policyVersion(), provider,
                Objects.requireNonNull(errorKind, "errorKind"), by.policyId(), null);
    }

    /** Waits for running calls, then releases the shared session (the last user closes it). Idempotent. */
    @Override
    public void close() {
        if (resources != null) {
            try {
                resources.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing the classifier of " + model.key() + " failed", e);
            }
        }
    }
}
