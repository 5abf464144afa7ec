package dev.labelstream.sql;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.settings.JobOptions;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

/**
 * A labelstream model as planned: its options (already validated), its declared output columns and the batching
 * and attempt settings read from them. Travels with the job graph to the functions.
 *
 * @param options the model's WITH options, without 'provider' (the core reads them as a Configuration)
 * @param outputs the declared output columns, in OUTPUT order
 * @param maxLength the model's max length in tokens, which bounds one row's token estimate
 */
record ModelSpec(Map<String, String> options, List<OutputColumn> outputs, int maxLength) implements Serializable {
    private static final long serialVersionUID = 1L;

    ModelSpec {
        options = Map.copyOf(options);
        outputs = List.copyOf(outputs);
    }

    Configuration conf() {
        return Configuration.fromMap(options);
    }

    BatchingSettings batching() {
        return BatchingSettings.fromConfig(conf());
    }

    int threads() {
        return conf().get(JobOptions.ASYNC_THREADS);
    }

    Duration attemptTimeout() {
        return conf().get(JobOptions.ASYNC_TIMEOUT);
    }

    int maxRetries() {
        return conf().get(JobOptions.ASYNC_MAX_RETRIES);
    }

    Duration backoff() {
        return conf().get(JobOptions.ASYNC_RETRY_BACKOFF);
    }

    /** Rows per micro-batch: never more than Flink keeps in flight, or every batch would wait out its linger. */
    int batchSize(int maxConcurrent) {
        return Math.max(1, Math.min(batching().maxRecords(), maxConcurrent));
    }

    /**
     * The longest a row may take in the async function when nothing goes wrong but everything is slow: its
     * batch's linger, the wait behind the batches ahead of it (one attempt each for every worker thread's
     * share of the batches in flight), and all attempts at its own batch with their backoff.
     */
    Duration budget(int maxConcurrent) {
        BatchingSettings b = batching();
        int batchesInFlight = (maxConcurrent + batchSize(maxConcurrent) - 1) / batchSize(maxConcurrent);
        int ahead = Math.max(0, (batchesInFlight + threads() - 1) / threads() - 1);
        int attempts = maxRetries() + 1;
        long backoffMillis = backoff().toMillis() * ((1L << (attempts - 1)) - 1);
        return b.linger().plus(attemptTimeout().multipliedBy(ahead)).plus(attemptTimeout().multipliedBy(attempts))
                .plusMillis(backoffMillis);
    }

    /** How the budget adds up, for the planning error. */
    String budgetExplained(int maxConcurrent) {
        BatchingSettings b = batching();
        int batchesInFlight = (maxConcurrent + batchSize(maxConcurrent) - 1) / batchSize(maxConcurrent);
        int ahead = Math.max(0, (batchesInFlight + threads() - 1) / threads() - 1);
        return BatchingOptions.LINGER.key() + " " + b.linger().toMillis() + " ms + " + ahead + " batch(es) queued"
                + " ahead x " + JobOptions.ASYNC_TIMEOUT.key() + " " + attemptTimeout().toMillis() + " ms + "
                + (maxRetries() + 1) + " attempts (" + JobOptions.ASYNC_MAX_RETRIES.key() + " " + maxRetries()
                + ") x " + attemptTimeout().toMillis() + " ms + backoff (" + JobOptions.ASYNC_RETRY_BACKOFF.key()
                + " " + backoff().toMillis() + " ms, doubling)";
    }

    /** A cheap token estimate before tokenization, as the DataStream job's batcher makes it (~4 chars a token). */
    int estimateTokens(String text, String pair) {
        int chars = text.length() + (pair == null ? 0 : pair.length());
        return Math.min(maxLength, chars / 4 + 2);
    }

    /** The output row of {@code d}, in the declared column order. */
    RowData row(SqlClassifier.Decision d) {
        GenericRowData row = new GenericRowData(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            row.setField(i, outputs.get(i).valueOf(d));
        }
        return row;
    }
}
