package dev.labelstream.batching;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Groups consecutive records into batches ({@code List<T>}, in arrival order) for a batch-at-a-time operator
 * after it, typically an {@code AsyncWaitOperator} that classifies a whole batch in one model call.
 *
 * <p>A batch is flushed, in arrival order and never empty, as soon as one of these holds:
 *
 * <ul>
 *   <li>it holds {@code maxRecords} records;
 *   <li>its estimated tokens ({@link TokenEstimator}, summed over its records) reach {@code maxTokens}; a record
 *       that would push the batch past the budget flushes the batch before it and starts the next one, so a
 *       batch exceeds the budget only when it is that one record;
 *   <li>its first record has waited {@code lingerMillis} of processing time. The deadline is a max-age set by
 *       the first record, not a debounce that later records push back; a timer left from a batch that was
 *       already flushed for another reason never flushes a later batch early. With {@code lingerMillis == 0}
 *       nothing waits: every record is flushed at once as a batch of one;
 *   <li>a checkpoint barrier is about to pass ({@link #prepareSnapshotPreBarrier});
 *   <li>a watermark is about to pass, so that no batch trails a watermark that its records preceded;
 *   <li>the input ends ({@link #finish}, also on stop-with-savepoint with drain).
 * </ul>
 *
 * <p>Guarantees: nothing buffered is lost on failover, because the buffer is flushed downstream before every
 * checkpoint barrier. The operator therefore has no state of its own: a checkpoint never contains a buffered
 * record, and after a restore the source replays exactly the records that came after the checkpoint. On
 * cancellation or failure the buffer is dropped, for the same reason.
 *
 * <p>Timestamps: a batch carries the largest timestamp of its records, or none when no record had one. Since
 * batches are flushed before a watermark is forwarded, a batch is late downstream only if all its records were
 * already late here. Per-record event times that matter downstream belong in the records themselves.
 *
 * <p>Object reuse: when the job enables object reuse, Flink may hand this operator the same instance for every
 * record, so each record is copied with the input serializer before it is buffered. Each emitted batch is a new
 * {@link ArrayList} that this operator never touches again.
 *
 * <p>Metrics, in the operator's metric group (names are stable):
 *
 * <ul>
 *   <li>{@code batchesFlushed} (counter): batches emitted;
 *   <li>{@code flushesOnSize}, {@code flushesOnTokens}, {@code flushesOnLinger}, {@code flushesOnBarrier},
 *       {@code flushesOnWatermark}, {@code flushesOnEndOfInput} (counters): batches emitted per flush reason;
 *   <li>{@code batchSize}, {@code batchEstimatedTokens} (histograms): records and estimated tokens per batch;
 *   <li>{@code batchQueueTimeMs} (histogram): processing time from the first record of a batch to its flush;
 *   <li>{@code bufferedRecords} (gauge): records waiting in the current batch.
 * </ul>
 *
 * <p>Caveats: a job with punctuated (per-record) watermarks gets batches of one, since every watermark flushes;
 * periodic watermarks (the default, every 200 ms) cost at most one extra flush per interval. The operator must
 * run in the same task as the operator it feeds ({@link #apply} chains it) so batches are never serialized.
 *
 * <pre>{@code
 * DataStream<String> texts = env.fromData("win a free cruise", "lunch?");
 * SingleOutputStreamOperator<List<String>> batches = MicroBatcher.apply(
 *         texts, BatchingSettings.fromConfig(config), s -> s.getBytes(StandardCharsets.UTF_8).length / 4 + 2);
 * }</pre>
 *
 * @param <T> the record type
 */
public final class MicroBatcher<T> extends AbstractStreamOperator<List<T>>
        implements OneInputStreamOperator<T, List<T>>, ProcessingTimeCallback {

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
    public MicroBatcher(int maxRecords, int maxTokens, long lingerMillis, TokenEstimator<T> estimator) {
        checkArgument(maxRecords >= 1, "maxRecords must be at least 1, got %s", maxRecords);
        checkArgument(maxTokens >= 1, "maxTokens must be at least 1, got %s", maxTokens);
        checkArgument(lingerMillis >= 0, "lingerMillis must be 0 or more, got %s", lingerMillis);
        this.maxRecords = maxRecords;
        this.maxTokens = maxTokens;
        this.lingerMillis = lingerMillis;
        this.estimator = checkNotNull(estimator, "estimator");
    }

    /**
     * Batches {@code in} with {@code settings}. The batcher chains with its input and with the operator after it
     * (ChainingStrategy.ALWAYS), so records and batches cross no network or serializer between them.
     */
    public static <T> SingleOutputStreamOperator<List<T>> apply(
            DataStream<T> in, BatchingSettings settings, TokenEstimator<T> estimator) {
        MicroBatcher<T> batcher =
                new MicroBatcher<>(settings.maxRecords(), settings.maxTokens(), settings.lingerMillis(), estimator);
        return in.transform("micro-batch", new ListTypeInfo<>(in.getType()), new Factory<>(batcher));
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

    @Override
    public void processElement(StreamRecord<T> element) throws Exception {
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
        StreamRecord<List<T>> out = hasTimestamp ? new StreamRecord<>(batch, maxTimestamp) : new StreamRecord<>(batch);
        bufferedTokens = 0;
        hasTimestamp = false;
        output.collect(out);
    }

    private List<T> newBuffer() {
        return new ArrayList<>(Math.min(maxRecords, MAX_INITIAL_CAPACITY));
    }

    /** Hands the batcher to the job graph, always chained: batches never cross a serializer. */
    private static final class Factory<T> extends SimpleOperatorFactory<List<T>>
            implements OneInputStreamOperatorFactory<T, List<T>> {
        private static final long serialVersionUID = 1L;

        Factory(MicroBatcher<T> batcher) {
            super(batcher);
            setChainingStrategy(ChainingStrategy.ALWAYS);
        }
    }
}
