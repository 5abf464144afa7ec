package dev.labelstream.sql;

import dev.labelstream.classify.Classifier;
import dev.labelstream.classify.Decisions;
import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.settings.JobOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The one adapter between the SQL provider and the classification core ({@link Classifier}: the model in force,
 * its ONNX Runtime session shared by every classifier of the model in the JVM, and the moderation policy), the
 * same core the DataStream job's async stage and {@code labelstream classify} use. Each row's {@link Decision}
 * is the SQL view of the core's {@link dev.labelstream.classify.Decision}, so fields that decisions gain reach
 * SQL by one more line in {@link #decision}. Thread-safe: the async function's worker threads classify
 * concurrently.
 */
final class SqlClassifier implements AutoCloseable {
    /**
     * One row's decision, plus the error of a row that was not classified (then {@code topLabel}, {@code
     * topScore} and {@code scores} are null, and {@code action} is null under {@code DEAD_LETTER}: there is no
     * dead-letter topic in SQL, so the row says why and SQL routes it).
     */
    record Decision(String decisionId, List<String> labels, float[] scores, String topLabel, Float topScore,
            String action, String actionReason, boolean classified, String modelName, String modelVersion,
            String policyVersion, String provider, boolean truncated, int tokenCount, float inferenceLatencyMs,
            long decisionTime, String errorKind, String errorMessage) {}

    /** What planning learns from a bundle it could read. */
    record Checked(String modelName, List<String> labels, int maxLength) {}

    private final Classifier classifier;
    private final JobOptions.FailurePolicy failurePolicy;
    /**
     * Decision ids are derived from the input's key (a Kafka position in the DataStream job); ML_PREDICT does not
     * see the row's Kafka position, so each opened function is its own "source", unique per open, and rows count
     * in it.
     */
    private final String source = "ml_predict:" + UUID.randomUUID();
    private final int subtask;
    private final AtomicLong sequence = new AtomicLong();

    private SqlClassifier(Classifier classifier, JobOptions.FailurePolicy failurePolicy, int subtask) {
        this.classifier = classifier;
        this.failurePolicy = failurePolicy;
        this.subtask = subtask;
    }

    /**
     * Runs the checks {@link #open} will, without starting ONNX Runtime: what the planner checks.
     *
     * @throws dev.labelstream.inference.InvalidModelBundleException naming the file at fault
     * @throws IllegalArgumentException naming the option at fault
     */
    static Checked check(ReadableConfig conf) {
        ModelIdentity model = Classifier.check(ModelBundle.load(conf), conf);
        return new Checked(model.name(), model.labels(), model.maxLength());
    }

    /** Loads the bundle and opens its classifier (the shared session) and policy. */
    static SqlClassifier open(ReadableConfig conf, int subtask) {
        return new SqlClassifier(Classifier.open(conf), conf.get(JobOptions.FAILURE_POLICY), subtask);
    }

    String provider() {
        return classifier.provider();
    }

    int maxLength() {
        return classifier.model().maxLength();
    }

    /**
     * Classifies {@code inputs} in one call of the core and decides each under the policy.
     *
     * @param timeout the most time the call may take (ONNX Runtime is stopped at it), or null
     * @throws ClassificationException when the batch cannot be classified; no partial result
     */
    List<Decision> classify(List<TextInput> inputs, Duration timeout) {
        List<Classifier.Request> requests = new ArrayList<>(inputs.size());
        for (TextInput in : inputs) {
            requests.add(new Classifier.Request(nextKey(), in.text(), in.pair()));
        }
        Decisions r = classifier.classify(requests, timeout);
        long now = System.currentTimeMillis();
        List<Decision> out = new ArrayList<>(inputs.size());
        for (dev.labelstream.classify.Decision d : r.decisions()) {
            out.add(decision(d, r.inferenceMillis(), now, null));
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
        // The core's decision needs an action; under DEAD_LETTER the row carries none, so stand in ALLOW for the
        // id and identity fields only.
        dev.labelstream.classify.Decision d = classifier.unclassified(new Classifier.Request(nextKey(), "", null),
                action == null ? dev.labelstream.avro.ModerationAction.ALLOW
                        : dev.labelstream.avro.ModerationAction.valueOf(action), kind.name(), reason);
        Decision sql = decision(d, 0f, now, message);
        return new Decision(sql.decisionId(), sql.labels(), null, null, null, action, reason, false, sql.modelName(),
                sql.modelVersion(), sql.policyVersion(), sql.provider(), false, 0, 0f, now, kind.name(), message);
    }

    /** The SQL view of a decision of the core: every column reads from here. */
    private static Decision decision(dev.labelstream.classify.Decision d, float inferenceMillis, long now,
            String errorMessage) {
        return new Decision(d.decisionId(), d.labels(), d.classified() ? d.scores() : null, d.topLabel(),
                d.classified() ? d.topScore() : null, d.action().name(), d.reason(), d.classified(), d.modelName(),
                d.modelVersion(), d.policyVersion(), d.provider(), d.truncated(), d.tokens(), inferenceMillis, now,
                d.errorKind(), errorMessage);
    }

    private String nextKey() {
        return source + "/" + subtask + "/" + sequence.getAndIncrement();
    }

    /** Waits for running calls, then releases the shared session. */
    @Override
    public void close() {
        classifier.close();
    }
}
