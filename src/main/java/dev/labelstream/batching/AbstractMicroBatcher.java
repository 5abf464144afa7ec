package dev.labelstream.batching;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The batching of {@link MicroBatcher}, for operators that emit each batch in another form (a batch with the
 * policy in force, {@code dev.labelstream.policy.PolicyBatcher}) or take another input beside the records. The
 * flush rules, guarantees, timestamps, object-reuse copies and metrics are those of {@link MicroBatcher}'s
 * class comment; a subclass feeds records to {@link #add} and may flush early with
 * {@link #flushBeforeControlChange}. Records must be input 1 (index 0), whose serializer copies them under
 * object reuse.
 *
 * @param <T> the record type
 * @param <OUT> what one batch leaves as
 */
public abstract class AbstractMicroBatcher<T, OUT> extends AbstractStreamOperator<OUT>
        implements ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;

    /** Largest initial capacity of a batch list: a large maxRecords bounded by tokens should not preallocate. */
    private static final int MAX_INITIAL_CAPACITY = 1024;

    /** Most records in one batch. */
    private final int maxRecords;
    /** Most estimated tokens in one batch, unless the batch is a single record. */
    private final int maxTokens;
    /** Longest processing time the first record of a batch waits; 0 flushes every record at once. */
    private final long lingerMillis;
    /** Estimates each record's tokens. */
    private final TokenEstimator<T> estimator;

    /** Copies records before buffering them; null unless object reuse is enabled. */
    private transient TypeSerializer<T> copier;
    /** Records of the current batch, in arrival order; replaced (never cleared) by every flush. */
    private transient List<T> buffer;
    /** Estimated tokens of the current batch. */
    private transient long bufferedTokens;
    /** Largest timestamp among the records of the current batch; meaningless unless hasTimestamp. */
    private transient long maxTimestamp;
    /** Whether any record of the current batch had a timestamp. */
    private transient boolean hasTimestamp;
    /** Processing time at which the first record of the current batch arrived. */
    private transient long batchStartTime;
    /** Processing time at which the current batch is due by linger; meaningless while the buffer is empty. */
    private transient long batchDeadline;
    /** Whether a linger timer is registered and has not fired: at most one is, whatever the batch rate. */
    private transient boolean timerPending;
    /** Per-batch metrics. */
    private transient BatcherMetrics metrics;

    /**
     * A batcher; see the class comment for when it flushes.
     *
     * @param maxRecords most records in one batch, at least 1
     * @param maxTokens most estimated tokens in one batch, at least 1
     * @param lingerMillis longest wait of the first record of a batch, in ms; 0 = no waiting
     * @param estimator estimates each record's tokens
     */
    protected AbstractMicroBatcher(int maxRecords, int maxTokens, long lingerMillis, TokenEstimator<T> estimator) {
        checkArgument(maxRecords >= 1, "maxRecords must be at least 1, got %s", maxRecords);
        checkArgument(maxTokens >= 1, "maxTokens must be at least 1, got %s", maxTokens);
        checkArgument(lingerMillis >= 0, "lingerMillis must be 0 or more, got %s", lingerMillis);
        this.maxRecords = maxRecords;
        this.maxTokens = maxTokens;
        this.lingerMillis = lingerMillis;
        this.estimator = checkNotNull(estimator, "estimator");
    }

    @Override
    public void open() throws Exception {
        super.open();
        // The input serializer from the operator config, as AsyncWaitOperator does: whatever the record type, its
        // copy() shares nothing mutable with the instance the upstream operator will reuse.
        copier = getExecutionConfig().isObjectReuseEnabled()
                ? getOperatorConfig().<T>getTypeSerializerIn(0, getUserCodeClassloader())
                : null;
        buffer = newBuffer();
        metrics = new BatcherMetrics(dev.labelstream.metrics.Metrics.group(getMetricGroup()), () -> buffer.size());
    }

    /** Adds one record to the current batch, flushing as the class comment of {@link MicroBatcher} says. */
    protected final void add(StreamRecord<T> element) throws Exception {
        T record = copier == null ? element.getValue() : copier.copy(element.getValue());
        int tokens = estimator.estimate(record);
        if (tokens < 0) {
            throw new IllegalStateException("TokenEstimator returned " + tokens + " for a record; estimates must be"
                    + " 0 or more");
        }
        if (!buffer.isEmpty() && bufferedTokens + tokens > maxTokens) {
            flush(FlushReason.TOKENS);
        }
        if (buffer.isEmpty()) {
            startBatch();
        }
        buffer.add(record);
        bufferedTokens += tokens;
        if (element.hasTimestamp()) {
            maxTimestamp = hasTimestamp ? Math.max(maxTimestamp, element.getTimestamp()) : element.getTimestamp();
            hasTimestamp = true;
        }
        if (buffer.size() >= maxRecords) {
            flush(FlushReason.SIZE);
        } else if (bufferedTokens >= maxTokens) {
            flush(FlushReason.TOKENS);
        } else if (lingerMillis == 0) {
            flush(FlushReason.LINGER);
        }
    }

    /** Fires the linger timer: flushes the current batch if it is due, else re-arms for its deadline. */
    @Override
    public void onProcessingTime(long time) {
        timerPending = false;
        if (buffer.isEmpty()) {
            return;
        }
        if (time >= batchDeadline) {
            flush(FlushReason.LINGER);
        } else {
            // A timer of an earlier batch, flushed by size or tokens since: it must not flush this one early.
            registerTimer(batchDeadline);
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // Records before the watermark leave before it: a batch held back across it would arrive late downstream.
        if (!buffer.isEmpty()) {
            flush(FlushReason.WATERMARK);
        }
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        // Emitted here, the records reach the next operator before the barrier: no state needed to keep them.
        if (!buffer.isEmpty()) {
            flush(FlushReason.BARRIER);
        }
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        if (!buffer.isEmpty()) {
            flush(FlushReason.END_OF_INPUT);
        }
        super.finish();
    }

    /**
     * Flushes the current batch, if any, because a control input (a new policy, a new model) changes what decides
     * the records after it: the records before it stay one batch under what was in force when they arrived.
     */
    protected final void flushBeforeControlChange() {
        if (!buffer.isEmpty()) {
            flush(FlushReason.CONTROL);
        }
    }

    /** The form in which a flushed batch of records leaves the operator. */
    protected abstract OUT batchOf(List<T> records);

    private void startBatch() {
        batchStartTime = getProcessingTimeService().getCurrentProcessingTime();
        if (lingerMillis == 0) {
            return;
        }
        batchDeadline = lingerMillis > Long.MAX_VALUE - batchStartTime ? Long.MAX_VALUE : batchStartTime + lingerMillis;
        // A pending timer is due no later than this deadline (it was armed for an earlier batch, or re-armed for
        // an earlier deadline): when it fires it re-arms for this batch, so there is never more than one timer.
        if (!timerPending) {
            registerTimer(batchDeadline);
        }
    }

    private void registerTimer(long time) {
        timerPending = true;
        getProcessingTimeService().registerTimer(time, this);
    }

    private void flush(FlushReason reason) {
        List<T> batch = buffer;
        long queueTime = getProcessingTimeService().getCurrentProcessingTime() - batchStartTime;
        metrics.onFlush(reason, batch.size(), bufferedTokens, Math.max(0, queueTime));
        // Reset before emitting: a chained operator keeps the list, and one that yields to the mailbox while it is
        // full (AsyncWaitOperator) may run this operator's timer inside collect().
        buffer = newBuffer();
        OUT value = batchOf(batch);
        StreamRecord<OUT> out = hasTimestamp ? new StreamRecord<>(value, maxTimestamp) : new StreamRecord<>(value);
        bufferedTokens = 0;
        hasTimestamp = false;
        output.collect(out);
    }

    private List<T> newBuffer() {
        return new ArrayList<>(Math.min(maxRecords, MAX_INITIAL_CAPACITY));
    }

}
