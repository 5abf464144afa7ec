package dev.labelstream.job;

import dev.labelstream.io.InputEvent;
import dev.labelstream.policy.PolicyBatch;
import dev.labelstream.policy.PolicyDecider;
import dev.labelstream.policy.PolicyOptions;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * The async classify stage of a job with a policy topic: each {@link PolicyBatch} is classified by a {@link
 * ClassifyBatchFunction} (threads, retries, metrics, encoding: all of it its own) and decided under the batch's
 * policy, so a batch is decided under the one policy in force when it was batched, whenever it runs (and after
 * a restore, when Flink replays it from the async operator's state), and classified by the model the batch names
 * (a promoted one, or the configured one).
 *
 * <p>Why a wrapper rather than a second input type of ClassifyBatchFunction: the job without a policy topic
 * keeps exactly its stage and state type ({@code List<InputEvent>}), which its savepoints hold.
 */
final class PolicyClassifyFunction extends RichAsyncFunction<PolicyBatch<InputEvent>, Outcome> {
    private static final long serialVersionUID = 1L;

    /** Does the work; opened with this function's metric group and subtask. */
    private final ClassifyBatchFunction delegate;
    /** The input attribute that names a record's tenant ({@link PolicyOptions#TENANT_ATTRIBUTE}). */
    private final String tenantAttribute;

    PolicyClassifyFunction(ClassifyBatchFunction delegate, String tenantAttribute) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.tenantAttribute = Objects.requireNonNull(tenantAttribute, "tenantAttribute");
    }

    @Override
    public void open(OpenContext ctx) {
        delegate.open(getRuntimeContext().getMetricGroup(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public void asyncInvoke(PolicyBatch<InputEvent> batch, ResultFuture<Outcome> result) {
        delegate.asyncInvoke(batch.records(), PolicyDecider.of(batch.policy(), tenantAttribute), batch.modelDir(),
                result);
    }

    @Override
    public void timeout(PolicyBatch<InputEvent> batch, ResultFuture<Outcome> result) {
        delegate.timeout(batch.records(), PolicyDecider.of(batch.policy(), tenantAttribute), result);
    }

    @Override
    public void close() throws Exception {
        delegate.close();
    }
}
