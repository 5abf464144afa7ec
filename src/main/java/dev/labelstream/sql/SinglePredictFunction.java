package dev.labelstream.sql;

import dev.labelstream.inference.ClassificationException;
import dev.labelstream.inference.TextInput;
import dev.labelstream.io.ErrorKind;
import dev.labelstream.metrics.Metrics;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * ML_PREDICT's synchronous function ({@code 'async' = 'false'}): one row per model call on the task thread, so
 * batch size 1 and no overlap; the same attempts and error columns as {@link BatchingPredictFunction}. There is
 * no Flink timeout on this path; each attempt is still bounded by {@code async.timeout}.
 *
 * <p>Public only because the planner's generated code instantiates it; created by the provider alone.
 */
public final class SinglePredictFunction extends PredictFunction {
    private static final long serialVersionUID = 1L;

    /** The model as planned. */
    private final ModelSpec spec;

    private transient SqlClassifier classifier;
    private transient Duration attemptTimeout;
    private transient int maxRetries;
    private transient long backoffMillis;
    private transient Histogram batchSizes;
    private transient Counter recordsOut;

    SinglePredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) {
        classifier = SqlClassifier.open(spec.conf(), context.getTaskInfo().getIndexOfThisSubtask());
        attemptTimeout = spec.attemptTimeout();
        maxRetries = spec.maxRetries();
        backoffMillis = spec.backoff().toMillis();
        MetricGroup g = Metrics.group(context.getMetricGroup());
        batchSizes = Metrics.histogram(g, Metrics.BATCH_SIZE);
        recordsOut = Metrics.counter(g, Metrics.RECORDS_OUT);
    }

    @Override
    public Collection<RowData> predict(RowData features) {
        String text = features.isNullAt(0) ? null : features.getString(0).toString();
        String pair = features.getArity() > 1 && !features.isNullAt(1) ? features.getString(1).toString() : null;
        recordsOut.inc();
        if (text == null || text.isBlank()) {
            return List.of(spec.row(classifier.unclassified(text == null ? ErrorKind.MISSING_FIELD
                    : ErrorKind.EMPTY_TEXT, text == null ? "the text column is NULL"
                    : "the text is empty or only whitespace")));
        }
        batchSizes.update(1);
        ClassificationException last = null;
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            try {
                if (attempt > 0) {
                    Thread.sleep(backoffMillis << (attempt - 1));
                }
                return List.of(spec.row(classifier.classify(List.of(new TextInput(text, pair)), attemptTimeout)
                        .get(0)));
            } catch (ClassificationException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of(spec.row(classifier.unclassified(ErrorKind.INFERENCE_FAILED, "interrupted")));
            }
        }
        return List.of(spec.row(classifier.unclassified(last.timedOut() ? ErrorKind.INFERENCE_TIMEOUT
                : ErrorKind.INFERENCE_FAILED, last.getMessage())));
    }

    @Override
    public void close() {
        if (classifier != null) {
            classifier.close();
        }
    }
}
