package dev.labelstream.policy;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.labelstream.batching.AbstractMicroBatcher;
import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.batching.TokenEstimator;
import dev.labelstream.io.SourceRecord;
import dev.labelstream.metrics.Metrics;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The micro-batcher with the policy topic as a second, broadcast input: each batch leaves as a {@link PolicyBatch},
 * the records and the one policy in force when they were batched. It sits where {@code batching.MicroBatcher}
 * sits (decode -> here -> async classify) and only when {@code kafka.policy-topic} is set: a two-input operator
 * starts a new chain, so records (not outcomes) are serialized once into it, and the async stage chains after it.
 *
 * <p>Batching is {@link AbstractMicroBatcher}'s, unchanged: size, tokens, linger, before every barrier and
 * watermark, end of input. In addition a batch is flushed when a new policy is put in force, so every record is
 * decided under the policy that was in force when it reached this subtask: a new version applies to every record
 * batched after it.
 *
 * <p>Policy in force: the newest accepted version of {@code policyId}, kept in operator broadcast state (one entry:
 * the policy id -> its JSON), so a restart or a rescale resumes with it. With nothing in state it is the
 * {@code fallback} given at construction: the newest valid version read in the pre-flight ({@link
 * PolicyTopic#readNewest}), else the built-in policy (the bundle's thresholds). On a restore, the newer of the two
 * decides. Per subtask, the version in force never decreases.
 *
 * <p>Control records ({@link PolicyGate}): records keyed by another id are ignored (other jobs' policies, other
 * control records); a tombstone keeps the policy in force; a document that does not parse, does not fit the
 * model's labels, names another id under this key, or is not newer than the one in force is rejected: the policy
 * in force stays, the reason is logged, counted ({@code policyRejected}) and emitted as a {@link PolicyEvent} on
 * {@link #EVENTS}. Accepted versions are counted ({@code policyAccepted}), their version is the {@code
 * policyVersion} gauge, and they are emitted on {@link #EVENTS} too. Nothing a policy record holds fails the job.
 *
 * <p>Promotions ({@link ModelControl}, keyed {@code <policy id>/model}, only with a {@link ModelCheck}): a bundle that
 * passes its checks is the model in force for every record batched after it (each batch carries its directory), a
 * flush first; one that does not is rejected ({@code MODEL_REJECTED} event, {@code policyRejected} counted) and the
 * model in force stays. The promoted model is in broadcast state too, and a restore resumes with it.
 *
 * <p>Watermarks: only the records' input moves event time. The policy topic has no event time of its own, and
 * combining it (Flink's default for two inputs) would hold the records' watermarks back forever.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<PolicyBatch<InputEvent>> batches = PolicyBatcher.apply(events, policyRecords,
 *         BatchingSettings.fromConfig(conf), estimator, conf.get(PolicyOptions.POLICY_ID), bundle.labels(), fallback);
 * DataStream<PolicyEvent> events = batches.getSideOutput(PolicyBatcher.EVENTS);
 * }</pre>
 *
 * @param <T> the record type
 */
public final class PolicyBatcher<T> extends AbstractMicroBatcher<T, PolicyBatch<T>>
        implements TwoInputStreamOperator<T, SourceRecord, PolicyBatch<T>> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PolicyBatcher.class);

    /** Accepted and rejected policy documents, one event per subtask that saw one. */
    public static final OutputTag<PolicyEvent> EVENTS =
            new OutputTag<>("policy-events", TypeInformation.of(PolicyEvent.class));

    /** The policy in force: policy id -> the document's JSON ({@link PolicyDocument#toJson}). */
    static final MapStateDescriptor<String, String> STATE =
            new MapStateDescriptor<>("policy-in-force", Types.STRING, Types.STRING);

    /** The model in force after a promotion: policy id -> {@link Promoted#toJson}; empty: the configured model. */
    static final MapStateDescriptor<String, String> MODEL_STATE =
            new MapStateDescriptor<>("model-in-force", Types.STRING, Types.STRING);

    /**
     * Opens and checks the bundle a promotion names, with the checks the job runs at startup plus those a switch
     * needs (its version is the one named, its labels are the model in force's, the policy in force fits them).
     * Supplied by the job, which has the configuration; runs on every subtask, on the same shared files.
     */
    public interface ModelCheck extends Serializable {
        /**
         * @return the bundle to put in force
         * @throws PolicyRejectedException saying why not; the model in force stays
         */
        Promoted check(ModelControl control, PolicyDocument inForce) throws PolicyRejectedException;
    }

    /**
     * A model put in force by a promotion.
     *
     * @param dir its bundle directory, as every batch decided by it carries it
     * @param model its name@version, as its decisions name it
     */
    public record Promoted(String dir, String model) implements Serializable {
        private static final long serialVersionUID = 1L;

        String toJson() {
            return JSON.createObjectNode().put("dir", dir).put("model", model).toString();
        }

        static Promoted parse(String json) throws java.io.IOException {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(json);
            return new Promoted(n.get("dir").asText(), n.get("model").asText());
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** What a policy record does to the policy in force. */
    private final PolicyGate gate;
    /** Checks promotions; null: this job takes none (records keyed {@code <policy id>/model} are ignored). */
    private final ModelCheck modelCheck;
    /** The configured model (inference.model.dir), for the log when state says another one. */
    private final String configuredModel;
    /** The policy in force while the state holds none: the pre-flight's newest version, or the built-in policy. */
    private final PolicyDocument fallback;

    /** The policy in force; every batch flushed now is decided under it. */
    private transient PolicyDocument inForce;
    /** The promoted model in force; null: the configured model. Every batch flushed now is classified by it. */
    private transient Promoted model;
    private transient BroadcastState<String, String> modelState;
    /** The checkpointed copy of {@link #inForce}. */
    private transient BroadcastState<String, String> state;
    /** Events found before the output could take them (a restored policy that no longer fits). */
    private transient List<PolicyEvent> pending;
    private transient Counter accepted;
    private transient Counter rejected;

    /**
     * @param maxRecords most records in one batch, at least 1
     * @param maxTokens most estimated tokens in one batch, at least 1
     * @param lingerMillis longest wait of the first record of a batch, in ms; 0 = no waiting
     * @param estimator estimates each record's tokens
     * @param policyId the policy to follow ({@code moderation.policy-id})
     * @param labels the model's labels, in score order
     * @param fallback the policy in force until the state or the topic gives a newer one; must fit the labels
     */
    public PolicyBatcher(int maxRecords, int maxTokens, long lingerMillis, TokenEstimator<T> estimator,
            String policyId, List<String> labels, PolicyDocument fallback) {
        this(maxRecords, maxTokens, lingerMillis, estimator, policyId, labels, fallback, null, null);
    }

    /**
     * The same, taking promotions ({@link ModelControl}) checked by {@code modelCheck}.
     *
     * @param configuredModel the configured model's name@version (for the log)
     */
    public PolicyBatcher(int maxRecords, int maxTokens, long lingerMillis, TokenEstimator<T> estimator,
            String policyId, List<String> labels, PolicyDocument fallback, ModelCheck modelCheck,
            String configuredModel) {
        super(maxRecords, maxTokens, lingerMillis, estimator);
        this.modelCheck = modelCheck;
        this.configuredModel = configuredModel;
        this.gate = new PolicyGate(policyId, labels);
        this.fallback = checkNotNull(fallback, "fallback");
        try {
            fallback.checkFits(labels);
        } catch (PolicyRejectedException e) {
            throw new IllegalArgumentException("the starting policy " + fallback + " does not fit the model: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Batches {@code records} under the policy of {@code policyRecords} (the policy topic's records, read from the
     * beginning: {@link PolicyTopic#source}), broadcast to every subtask. Give the result uid "micro-batch-policy"
     * (not the MicroBatcher's: this operator has state).
     */
    public static <T> SingleOutputStreamOperator<PolicyBatch<T>> apply(DataStream<T> records,
            DataStream<SourceRecord> policyRecords, BatchingSettings settings, TokenEstimator<T> estimator,
            String policyId, List<String> labels, PolicyDocument fallback) {
        return apply(records, policyRecords, settings, estimator, policyId, labels, fallback, null, null);
    }

    /** The same, taking promotions checked by {@code modelCheck} ({@link #PolicyBatcher(int, int, long,
     * TokenEstimator, String, List, PolicyDocument, ModelCheck, String)}). */
    public static <T> SingleOutputStreamOperator<PolicyBatch<T>> apply(DataStream<T> records,
            DataStream<SourceRecord> policyRecords, BatchingSettings settings, TokenEstimator<T> estimator,
            String policyId, List<String> labels, PolicyDocument fallback, ModelCheck modelCheck,
            String configuredModel) {
        PolicyBatcher<T> op = new PolicyBatcher<>(settings.maxRecords(), settings.maxTokens(),
                settings.lingerMillis(), estimator, policyId, labels, fallback, modelCheck, configuredModel);
        return records.connect(policyRecords.broadcast())
                .transform("micro-batch-policy", PolicyBatch.typeInfo(records.getType()), new Factory<>(op));
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = context.getOperatorStateStore().getBroadcastState(STATE);
        modelState = context.getOperatorStateStore().getBroadcastState(MODEL_STATE);
        pending = new ArrayList<>();
        inForce = fallback;
        restorePolicy();
        restoreModel();
    }

    /**
     * The promoted model in state wins over the configuration (a restart resumes with it); its bundle is checked
     * again, and one that no longer passes is reported and the configured model decides.
     */
    private void restoreModel() throws Exception {
        String stored = modelState.get(gate.policyId());
        if (stored == null || modelCheck == null) {
            return;
        }
        Promoted p = Promoted.parse(stored);
        try {
            model = modelCheck.check(new ModelControl(p.dir(), p.model().substring(p.model().lastIndexOf('@') + 1)),
                    inForce);
            if (model.model().equals(configuredModel)) {
                // Redeployed with the promoted model as the configured one: it is the configured model, as a
                // promotion to it would make it (no second classifier for the same model, no misleading warning).
                LOG.info("The promoted model restored from state ({} at {}) is the configured {}", model.model(),
                        model.dir(), configuredModel);
                model = null;
                return;
            }
            LOG.warn("Running {} ({}), promoted in an earlier run and restored from state, not the configured {}:"
                    + " the model in force is checkpointed. To run the configured model, publish a promotion to it"
                    + " on the policy topic, or start without the state", model.model(), model.dir(), configuredModel);
        } catch (PolicyRejectedException e) {
            LOG.warn("The promoted model restored from state ({} at {}) no longer passes its checks ({}); the"
                    + " configured {} decides", p.model(), p.dir(), e.getMessage(), configuredModel);
            // The event names the model that stays in force (PolicyEvent.model), the reason the one rejected.
            pending.add(new PolicyEvent(PolicyEvent.Kind.MODEL_REJECTED, gate.policyId(), -1,
                    "restored from state: " + p.model() + " at " + p.dir() + ": " + e.getMessage(),
                    System.currentTimeMillis(), subtask(), configuredModel));
        }
    }

    private void restorePolicy() throws Exception {
        String stored = state.get(gate.policyId());
        if (stored == null) {
            return;
        }
        try {
            PolicyDocument restored = PolicyDocument.parseStored(stored);
            restored.checkFits(gate.labels());
            if (restored.isNewerThan(fallback) || restored.version() == fallback.version()) {
                inForce = restored;
            }
            LOG.info("Restored policy {}; in force: {}", restored, inForce);
        } catch (PolicyRejectedException e) {
            // A new model whose labels the old policy does not fit: fall back, say so, never fail the restore.
            LOG.warn("The restored policy of {} no longer applies ({}); {} decides instead", gate.policyId(),
                    e.getMessage(), fallback);
            pending.add(new PolicyEvent(PolicyEvent.Kind.REJECTED, gate.policyId(), e.version(),
                    "restored from state: " + e.getMessage(), System.currentTimeMillis(), subtask()));
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        MetricGroup g = Metrics.group(getMetricGroup());
        accepted = Metrics.counter(g, Metrics.POLICY_ACCEPTED);
        rejected = Metrics.counter(g, Metrics.POLICY_REJECTED);
        g.gauge(Metrics.POLICY_VERSION, (Gauge<Long>) () -> inForce.version());
        state.put(gate.policyId(), inForce.toJson());
        if (model != null) {
            modelState.put(gate.policyId(), model.toJson());
        } else {
            modelState.remove(gate.policyId());
        }
        for (PolicyEvent e : pending) {
            rejected.inc();
            output.collect(EVENTS, new StreamRecord<>(e));
        }
        pending.clear();
        LOG.info("Policy in force: {}", inForce);
    }

    @Override
    public void processElement1(StreamRecord<T> element) throws Exception {
        add(element);
    }

    @Override
    public void processElement2(StreamRecord<SourceRecord> element) throws Exception {
        SourceRecord r = element.getValue();
        if (modelCheck != null && r.key() != null
                && ModelControl.key(gate.policyId()).equals(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))) {
            promote(r);
            return;
        }
        PolicyGate.Verdict v = gate.offer(inForce, r.key(), r.value());
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (v instanceof PolicyGate.Accept a) {
            // The records already batched were batched under the old policy: they leave as their own batch.
            flushBeforeControlChange();
            PolicyDocument previous = inForce;
            inForce = a.policy();
            state.put(gate.policyId(), inForce.toJson());
            accepted.inc();
            LOG.info("Policy {} from {} is in force; it replaces {}", inForce, r.position(), previous);
            output.collect(EVENTS, new StreamRecord<>(new PolicyEvent(PolicyEvent.Kind.ACCEPTED, inForce.id(),
                    inForce.version(), "replaces " + previous, now, subtask())));
        } else if (v instanceof PolicyGate.Reject j) {
            rejected.inc();
            LOG.warn("Rejected the policy document at {} ({} v{}): {}; {} stays in force", r.position(), j.policyId(),
                    j.version(), j.reason(), inForce);
            output.collect(EVENTS, new StreamRecord<>(new PolicyEvent(PolicyEvent.Kind.REJECTED, j.policyId(),
                    j.version(), j.reason(), now, subtask())));
        } else if (v instanceof PolicyGate.Ignore i) {
            LOG.debug("Ignored the policy topic record at {}: {}", r.position(), i.why());
        }
    }

    /**
     * A promotion: checked here, on every subtask against the same shared bundle, so a bundle that fails its checks
     * fails them everywhere and the model in force stays; one that passes is in force for every record batched
     * after it, in every subtask. Batches already flushed finish on the model they were batched with.
     */
    private void promote(SourceRecord r) throws Exception {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        String current = model == null ? configuredModel : model.model();
        Promoted next;
        try {
            next = modelCheck.check(ModelControl.parse(r.value()), inForce);
        } catch (PolicyRejectedException e) {
            rejected.inc();
            LOG.warn("Rejected the promotion at {}: {}; {} stays in force", r.position(), e.getMessage(), current);
            output.collect(EVENTS, new StreamRecord<>(new PolicyEvent(PolicyEvent.Kind.MODEL_REJECTED,
                    gate.policyId(), -1, e.getMessage(), now, subtask(), current)));
            return;
        }
        if (next.model().equals(configuredModel)) {
            next = null; // back to the configured model: its classifier is open already
        }
        if (java.util.Objects.equals(model, next)) {
            LOG.debug("The promotion at {} names the model in force ({}); nothing changes", r.position(), current);
            return;
        }
        flushBeforeControlChange();
        model = next;
        String inForceNow = model == null ? configuredModel : model.model();
        if (model == null) {
            modelState.remove(gate.policyId());
        } else {
            modelState.put(gate.policyId(), model.toJson());
        }
        LOG.info("Model {} from {} is in force; it replaces {}", inForceNow, r.position(), current);
        output.collect(EVENTS, new StreamRecord<>(new PolicyEvent(PolicyEvent.Kind.MODEL_PROMOTED, gate.policyId(),
                -1, "replaces " + current, now, subtask(), inForceNow)));
    }

    @Override
    protected PolicyBatch<T> batchOf(List<T> records) {
        return new PolicyBatch<>(records, inForce, model == null ? null : model.dir());
    }

    /** The promoted model in force, null for the configured one (for tests and logs). */
    Promoted model() {
        return model;
    }

    /** The policy in force now (for tests and logs). */
    PolicyDocument inForce() {
        return inForce;
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        processWatermark(mark);
    }

    @Override
    public void processWatermark2(Watermark mark) {
        // The policy topic's clock is not the records': see the class comment.
    }

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) {
        if (index == 0) {
            output.emitWatermarkStatus(status);
        }
    }

    private int subtask() {
        return getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    /** Hands the operator to the job graph; the async stage after it chains to it. */
    private static final class Factory<T> extends SimpleOperatorFactory<PolicyBatch<T>>
            implements TwoInputStreamOperatorFactory<T, SourceRecord, PolicyBatch<T>> {
        private static final long serialVersionUID = 1L;

        Factory(PolicyBatcher<T> op) {
            super(op);
            setChainingStrategy(ChainingStrategy.HEAD);
        }
    }
}
