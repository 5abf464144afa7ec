package dev.labelstream.io;

import dev.labelstream.metrics.Metrics;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes and validates source records: valid ones continue as {@link InputEvent}s, every other one leaves
 * through {@link #DEAD_LETTERS} with its original bytes and the reason. It never throws for a bad record, so
 * one record cannot fail or stall the job.
 *
 * <p>Metrics ({@link Metrics}): {@value Metrics#RECORDS_IN}, and {@value Metrics#DEAD_LETTERS} per {@value
 * Metrics#REASON}.
 */
public final class DecodeFunction extends ProcessFunction<SourceRecord, InputEvent> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DecodeFunction.class);

    /** Records that could not be decoded or validated, as dead-letter output records. */
    public static final OutputTag<OutboundRecord> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final TextEventDecoder decoder;
    private transient Counter recordsIn;
    private transient Map<ErrorKind, Counter> deadLetters;

    public DecodeFunction(InputFormat format, int maxBytes) {
        this.decoder = new TextEventDecoder(format, maxBytes);
    }

    @Override
    public void open(OpenContext ctx) {
        MetricGroup group = Metrics.group(getRuntimeContext().getMetricGroup());
        recordsIn = Metrics.counter(group, Metrics.RECORDS_IN);
        deadLetters = deadLetterCounters(group);
    }

    /**
     * One thread-safe counter per reason, as a {@value Metrics#REASON} label, so dashboards can break dead letters
     * down; the classify stage counts its own dead letters in the same counters, from its worker threads.
     */
    public static Map<ErrorKind, Counter> deadLetterCounters(MetricGroup labelstreamGroup) {
        return Metrics.countersByLabel(labelstreamGroup, Metrics.REASON, ErrorKind.class, Metrics.DEAD_LETTERS);
    }

    @Override
    public void processElement(SourceRecord r, Context ctx, Collector<InputEvent> out) {
        recordsIn.inc();
        TextEventDecoder.Result result = decoder.decode(r);
        if (result instanceof TextEventDecoder.Accepted a) {
            out.collect(a.event());
        } else {
            TextEventDecoder.Rejected rej = (TextEventDecoder.Rejected) result;
            deadLetters.get(rej.kind()).inc();
            // Position and reason only: the content may be personal data.
            LOG.debug("Dead letter {} from {}: {}", rej.kind(), r.position(), rej.message());
            ctx.output(DEAD_LETTERS, DeadLetters.of(r, rej.kind(), rej.message(), rej.inputId()));
        }
    }
}
