package dev.labelstream.sql;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.LabelScore;
import dev.labelstream.inference.BatchClassifier;
import dev.labelstream.inference.Classification;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ClassifiedBatch;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ClassifiedEvents;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.io.InputEvent;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.job.JobOptions;
import dev.labelstream.moderation.ModerationPolicy;
import dev.labelstream.moderation.Thresholds;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The one adapter between the SQL provider and the classification core: bundle, {@link BatchClassifier} (its ONNX
 * Runtime session shared by every classifier of the model in the JVM), {@link ModerationPolicy} and the decision
 * record ({@link ClassifiedEvents#build}), exactly as {@code job.ClassifyBatchFunction} uses them. Nothing else in
 * this package calls the core, so repointing it at the core package after the layout change is a change here only.
 *
 * <p>Each classified row's {@link Decision} is read off the {@link ClassifiedEvent} the DataStream job would write
 * for it, so fields that decisions gain reach SQL by one more line in {@link #decision}. Thread-safe: the async
 * function's worker threads classify concurrently.
 */
final class SqlClassifier implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One row's decision, the SQL view of a {@link ClassifiedEvent} plus the error of a row that was not
     * classified (then {@code topLabel}, {@code topScore} and {@code scores} are null, and {@code action} is null
     * under {@code DEAD_LETTER}: there is no dead-letter topic in SQL, so the row says why and SQL routes it).
     */
    record Decision(String decisionId, List<String> labels, float[] scores, String topLabel, Float topScore,
            String action, String actionReason, boolean classified, String modelName, String modelVersion,
            String policyVersion, String provider, boolean truncated, int tokenCount, float inferenceLatencyMs,
            long decisionTime, String errorKind, String errorMessage) {}

    /** What planning learns from a bundle it could read. */
    record Checked(String modelName, List<String> labels, int maxLength) {}

    private final BatchClassifier classifier;
    private final ModerationPolicy policy;
    private final ClassifiedEvents.Decider decider;
    private final JobOptions.FailurePolicy failurePolicy;
    /**
     * Decision ids are derived from a source position (ClassifiedEvents.decisionId); ML_PREDICT does not see the
     * row's Kafka position, so each opened function is its own "source", unique per open, and rows count in it.
     */
    private final String source = "ml_predict:" + UUID.randomUUID();
    private final int subtask;
    private final AtomicLong sequence = new AtomicLong();

    private SqlClassifier(BatchClassifier classifier, ModerationPolicy policy, JobOptions.FailurePolicy failurePolicy,
            int subtask) {
        this.classifier = classifier;
        this.policy = policy;
        this.failurePolicy = failurePolicy;
        this.subtask = subtask;
        ModelBundle b = classifier.bundle();
        this.decider = new ClassifiedEvents.Decider(b.name(), b.version(), policy.version(), classifier.provider());
    }

    /**
     * Reads the bundle and the moderation policy as {@link #open} will, without starting ONNX Runtime: what the
     * planner checks.
     *
     * @throws dev.labelstream.inference.InvalidModelBundleException naming the file at fault
     * @throws IllegalArgumentException naming the option at fault
     */
    static Checked check(ReadableConfig conf) {
        ModelBundle bundle = ModelBundle.load(conf);
        policy(bundle, conf);
        int maxLength = conf.getOptional(dev.labelstream.inference.InferenceOptions.MAX_LENGTH)
                .orElse(bundle.maxLength());
        return new Checked(bundle.name(), bundle.labels(), maxLength);
    }

    /** Loads the bundle and opens its classifier (the shared session) and policy. */
    static SqlClassifier open(ReadableConfig conf, int subtask) {
        ModelBundle bundle = ModelBundle.load(conf);
        ModerationPolicy policy = policy(bundle, conf);
        return new SqlClassifier(BatchClassifier.open(bundle, conf), policy, conf.get(JobOptions.FAILURE_POLICY),
                subtask);
    }

    /** The job's policy rule (ClassifyBatchFunction.policy): the bundle's thresholds unless the options set some. */
    static ModerationPolicy policy(ModelBundle bundle, ReadableConfig conf) {
        if (conf.getOptional(JobOptions.THRESHOLDS).isEmpty()) {
            return new ModerationPolicy(bundle.labels(), bundle.thresholds(), bundle.policyVersion());
        }
        String version = conf.getOptional(JobOptions.POLICY_VERSION).orElseThrow(() -> new IllegalArgumentException(
                JobOptions.POLICY_VERSION.key() + " must be set with " + JobOptions.THRESHOLDS.key()
                        + ": every decision records the version of the thresholds that made it"));
        try {
            Map<String, Thresholds> t = Thresholds.parse(JSON.readTree(conf.get(JobOptions.THRESHOLDS)),
                    bundle.labels());
            return new ModerationPolicy(bundle.labels(), t, version);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(JobOptions.THRESHOLDS.key() + ": " + e.getMessage(), e);
        }
    }

    String provider() {
        return classifier.provider();
    }

    int maxLength() {
        return classifier.bundle().maxLength();
    }

    /**
     * Classifies {@code inputs} in one call of the core and decides each under the policy.
     *
     * @param timeout the most time the call may take (ONNX Runtime is stopped at it), or null
     * @throws ClassificationException when the batch cannot be classified; no partial result
     */
    List<Decision> classify(List<TextInput> inputs, Duration timeout) {
        ClassifiedBatch r = classifier.classify(inputs, timeout);
        float millis = r.inferenceNanos() / 1e6f;
        long now = System.currentTimeMillis();
        List<String> labels = classifier.bundle().labels();
        List<Decision> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Classification c = r.results().get(i);
            ModerationPolicy.Decision d = policy.decide(c.scores());
            ClassifiedEvents.Verdict v = new ClassifiedEvents.Verdict(labels, c.scores(), c.top(), d.action(),
                    d.reason(), true, c.truncated(), c.tokens());
            out.add(decision(ClassifiedEvents.build(inputEvent(inputs.get(i), now), v, decider, millis, now), null,
                    null));
        }
        return out;
    }

    /** The decision for a row the model could not classify, under classification.failure-policy. */
    Decision unclassified(ErrorKind kind, String message) {
        long now = System.currentTimeMillis();
        String action = switch (failurePolicy) {
            case DEAD_LETTER -> null;
            case FAIL_OPEN -> "ALLOW";
            case FAIL_CLOSED -> "REVIEW";
        };
        String reason = "unclassified (" + kind + ": " + message + ")"
                + (action == null ? "" : "; " + failurePolicy + " decided");
        String id = ClassifiedEvents.decisionId(position(now), decider);
        return new Decision(id, classifier.bundle().labels(), null, null, null, action, reason, false,
                decider.modelName(), decider.modelVersion(), decider.policyVersion(), decider.provider(), false, 0,
                0f, now, kind.name(), message);
    }

    /** The SQL view of a decision record: every column reads from here. */
    private static Decision decision(ClassifiedEvent e, String errorKind, String errorMessage) {
        List<String> labels = new ArrayList<>(e.getScores().size());
        float[] scores = new float[e.getScores().size()];
        for (int i = 0; i < scores.length; i++) {
            LabelScore s = e.getScores().get(i);
            labels.add(s.getLabel());
            scores[i] = s.getScore();
        }
        return new Decision(e.getDecisionId(), labels, scores, e.getTopLabel(), e.getTopScore(),
                e.getAction().name(), e.getActionReason(), e.getClassified(), e.getModelName(), e.getModelVersion(),
                e.getPolicyVersion(), e.getExecutionProvider(), e.getTruncated(), e.getTokenCount(),
                e.getInferenceLatencyMs(), e.getDecisionTime().toEpochMilli(), errorKind, errorMessage);
    }

    private InputEvent inputEvent(TextInput in, long now) {
        return new InputEvent(position(now), "", in.text(), in.pair(), null, null);
    }

    private SourceRecord position(long now) {
        return new SourceRecord(source, subtask, sequence.getAndIncrement(), now, null, null, List.of());
    }

    /** Waits for running calls, then releases the shared session. */
    @Override
    public void close() {
        classifier.close();
    }
}
