package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.demo.InProcessMetrics;
import dev.labelstream.metrics.Metrics;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;

/**
 * The job's record counters as the in-JVM reporter ({@link InProcessMetrics}) holds them: the MiniCluster needs
 * {@link FaultTestSupport#clusterConf()} (or {@link InProcessMetrics#configure} in its configuration), and the
 * test {@link InProcessMetrics#clear()} before the run it counts.
 *
 * <p>Every record read is counted once: {@value Metrics#RECORDS_IN} by the decoder, then exactly one of {@value
 * Metrics#RECORDS_OUT} (classified, or unclassified under a fail-open/closed policy) or {@value
 * Metrics#DEAD_LETTERS} (the decoder's and the classify stage's, every reason). So at the end of a run without a
 * failover, once every output has been read back, recordsIn == the records produced == recordsOut + deadLetters,
 * exactly. Counters start again with each attempt: a run with a failover checks the topics instead.
 */
final class Counters {
    private Counters() {}

    /** One job's counters, summed over subtasks (dead letters: both operators, every reason). */
    record Read(long in, long out, long deadLetters) {}

    /** The counters of the job with id {@code job}. */
    static Read of(JobID job) {
        String id = job.toHexString();
        return new Read(InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.RECORDS_IN), id),
                InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.RECORDS_OUT), id),
                InProcessMetrics.counter("." + Metrics.DEAD_LETTERS, id));
    }

    /**
     * recordsIn == {@code produced} and recordsOut + deadLetters == recordsIn for {@code job}, which must still run
     * (read after its outputs were all consumed, before the cancel). Returns the counters read.
     */
    static Read assertAddUp(JobClient job, long produced) throws Exception {
        Read r = of(job.getJobID());
        assertThat(job.getJobStatus().get()).as("job status when its counters were read").isEqualTo(JobStatus.RUNNING);
        return assertAddUp(r, produced);
    }

    /** The same for a job submitted without a client (a job graph): the caller reads while it runs. */
    static Read assertAddUp(JobID job, long produced) {
        return assertAddUp(of(job), produced);
    }

    private static Read assertAddUp(Read r, long produced) {
        assertThat(r.in()).as(Metrics.RECORDS_IN + " (" + r + ")").isEqualTo(produced);
        assertThat(r.out() + r.deadLetters()).as(Metrics.RECORDS_OUT + " + " + Metrics.DEAD_LETTERS + " (" + r + ")")
                .isEqualTo(r.in());
        return r;
    }
}
