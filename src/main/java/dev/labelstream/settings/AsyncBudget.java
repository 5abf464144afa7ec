package dev.labelstream.settings;

import dev.labelstream.batching.BatchingOptions;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;

/**
 * The time budget of the async classify stage, derived from the options: how long the worker may spend on one
 * batch, and the timeout Flink's async operator is given so that the worker's own budget always ends first.
 * Computed here, below the job, so that {@link JobSettings} checks it before submit and the job uses the same
 * numbers.
 */
public final class AsyncBudget {
    /** Flink's timeout may not exceed this: a batch held longer than a day is a hang nobody would notice. */
    public static final Duration MAX_OPERATOR_TIMEOUT = Duration.ofHours(24);
    /** Added to Flink's timeout, so that the worker's own budget always ends first. */
    public static final Duration OPERATOR_TIMEOUT_MARGIN = Duration.ofSeconds(5);


    private AsyncBudget() {}

    /**
     * The most time the worker spends on one batch of at most batching.max-records (n) records: the first call's
     * tries (async.timeout each) and backoff; one timed-out call per halving (log2 n); each record once within
     * its deadline (a model slow enough that every record takes nearly the deadline alone still classifies them
     * all); and one record's own tries and backoff (a record that loops). Records left when it is spent are
     * INFERENCE_TIMEOUT dead letters.
     */
    public static Duration batchBudget(Configuration conf) {
        Duration attempt = conf.get(JobOptions.ASYNC_TIMEOUT);
        int attempts = conf.get(JobOptions.ASYNC_MAX_RETRIES) + 1;
        long backoff = conf.get(JobOptions.ASYNC_RETRY_BACKOFF).toMillis() * ((1L << (attempts - 1)) - 1);
        int rows = Math.max(1, conf.get(BatchingOptions.MAX_RECORDS));
        int halvings = 32 - Integer.numberOfLeadingZeros(rows - 1);
        return attempt.multipliedBy(2L * attempts + halvings + rows).plusMillis(2 * backoff);
    }

    /**
     * Flink's timeout for a batch, counted from its admission: its own {@link #batchBudget} after waiting for the
     * batches admitted before it on the same thread (async.capacity / async.threads of them, async.threads taken
     * as 1 when unset, since a CPU TaskManager picks its own), plus a margin so that the worker's budget ends first.
     */
    public static Duration operatorTimeout(Configuration conf) {
        int capacity = Math.max(1, conf.get(JobOptions.ASYNC_CAPACITY));
        int threads = Math.max(1, conf.getOptional(JobOptions.ASYNC_THREADS).orElse(1));
        int rounds = (capacity + threads - 1) / threads;
        return batchBudget(conf).multipliedBy(rounds).plus(OPERATOR_TIMEOUT_MARGIN);
    }
}
