package dev.labelstream.settings;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/** Options of the job's topology: checkpoints, the async inference stage and what happens on failure. */
public final class JobOptions {
    private JobOptions() {}

    /** What becomes of records whose batch the classifier could not classify, after all retries. */
    public enum FailurePolicy {
        /** To the dead-letter topic with the error, so they can be replayed (default). */
        DEAD_LETTER,
        /** Emitted as unclassified, action ALLOW. */
        FAIL_OPEN,
        /** Emitted as unclassified, action REVIEW. */
        FAIL_CLOSED
    }

    public static final ConfigOption<String> JOB_NAME = key("job.name")
            .stringType()
            .defaultValue("labelstream")
            .withDescription("Flink job name. Also names the default consumer group and transactional-id prefix"
                    + " (<job.name>.<input topic>.<output topic>), so give each job on a cluster its own.");

    public static final ConfigOption<Integer> PARALLELISM = key("job.parallelism")
            .intType()
            .noDefaultValue()
            .withDescription("Parallelism of the job; default: the cluster's. With a GPU, one slot per GPU per"
                    + " TaskManager is usually right: every slot of a TaskManager shares one session.");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = key("job.checkpoint-interval")
            .durationType()
            .defaultValue(Duration.ofSeconds(10))
            .withDescription("Checkpoint interval. Exactly-once outputs become visible to read_committed"
                    + " consumers when the checkpoint completes, so this bounds end-to-end latency.");

    public static final ConfigOption<Duration> CHECKPOINT_TIMEOUT = key("job.checkpoint-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(5))
            .withDescription("A checkpoint not complete after this long is aborted. With EXACTLY_ONCE, the producers'"
                    + " transaction.timeout.ms is derived from job.checkpoint-interval + this + the restart delay"
                    + " (x 1.5) and must stay within the brokers' transaction.max.timeout.ms (15 min by default):"
                    + " the pre-flight checks it.");

    public static final ConfigOption<Integer> ASYNC_CAPACITY = key("async.capacity")
            .intType()
            .defaultValue(4)
            .withDescription("Most batches in flight per subtask. When reached, the task waits: backpressure"
                    + " reaches the Kafka source instead of a queue growing.");

    public static final ConfigOption<Integer> ASYNC_THREADS = key("async.threads")
            .intType()
            .defaultValue(2)
            .withDescription("Threads per subtask that tokenize and run batches, so tokenizing one batch overlaps"
                    + " running the previous one on the model. Unset with inference.provider CPU: the TaskManager's"
                    + " cores (at most async.capacity), so that threads x inference.intra-op-threads = cores"
                    + " (logged at startup); with CUDA: 2.");

    public static final ConfigOption<Duration> ASYNC_TIMEOUT = key("async.timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(30))
            .withDescription("Most time one classify call may take; ONNX Runtime is stopped at the deadline."
                    + " A call of several records over it is split (and later calls get fewer rows until they fit"
                    + " again); one record alone over it is retried, then sent to dead letters as INFERENCE_TIMEOUT."
                    + " Flink's own async timeout is derived from this, async.max-retries, async.retry-backoff,"
                    + " batching.max-records, async.capacity and async.threads, and must stay within 24 h.");

    public static final ConfigOption<Integer> ASYNC_MAX_RETRIES = key("async.max-retries")
            .intType()
            .defaultValue(2)
            .withDescription("Retries of a failed batch, and of one record alone that timed out. A batch that"
                    + " still fails is halved, then classified record by record, so one poison record does not take"
                    + " its batch with it; what still fails follows classification.failure-policy.");

    public static final ConfigOption<Duration> ASYNC_RETRY_BACKOFF = key("async.retry-backoff")
            .durationType()
            .defaultValue(Duration.ofMillis(200))
            .withDescription("Wait before the first retry; doubled for each further retry.");

    public static final ConfigOption<Boolean> ASYNC_ORDERED = key("async.ordered")
            .booleanType()
            .defaultValue(false)
            .withDescription("Emit batches in input order (per subtask). Unordered (default) lets a short batch"
                    + " overtake a long one; order within a Kafka partition is then not kept.");

    public static final ConfigOption<FailurePolicy> FAILURE_POLICY = key("classification.failure-policy")
            .enumType(FailurePolicy.class)
            .defaultValue(FailurePolicy.DEAD_LETTER)
            .withDescription("DEAD_LETTER (replayable), FAIL_OPEN (unclassified, ALLOW) or FAIL_CLOSED"
                    + " (unclassified, REVIEW) for records the classifier could not classify. A live policy's"
                    + " failure_policy (kafka.policy-topic), when present, wins over this option.");
}
