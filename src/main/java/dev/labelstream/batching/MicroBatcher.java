package dev.labelstream.batching;

import java.util.List;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
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
 * <p>The batching itself lives in {@link AbstractMicroBatcher}, which the policy-aware batcher shares.
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
public final class MicroBatcher<T> extends AbstractMicroBatcher<T, List<T>>
        implements OneInputStreamOperator<T, List<T>> {

    private static final long serialVersionUID = 1L;

    /**
     * A batcher; see the class comment for when it flushes.
     *
     * @param maxRecords most records in one batch, at least 1
     * @param maxTokens most estimated tokens in one batch, at least 1
     * @param lingerMillis longest wait of the first record of a batch, in ms; 0 = no waiting
     * @param estimator estimates each record's tokens
     */
    public MicroBatcher(int maxRecords, int maxTokens, long lingerMillis, TokenEstimator<T> estimator) {
        super(maxRecords, maxTokens, lingerMillis, estimator);
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
    public void processElement(StreamRecord<T> element) throws Exception {
        add(element);
    }

    @Override
    protected List<T> batchOf(List<T> records) {
        return records;
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
