package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * The job's output-buffer flush interval: labelstream's 10 ms unless Flink's own execution.buffer-timeout options
 * are set (the sink is not chained with the classify chain, so Flink's 100 ms would add to every record's latency).
 * The topology is only built, not run: nothing connects to the broker address.
 */
class BufferTimeoutTest {
    private static Configuration jobConf() {
        return JobTestSupport.builtOnlyJobConf();
    }

    private static long built(Configuration job, Configuration envConf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(envConf);
        LabelstreamJob.build(env, job);
        long timeout = env.getBufferTimeout();
        // what the stream graph (and so every network output) gets
        assertThat(env.getStreamGraph().getStreamNodes()).allSatisfy(n -> assertThat(n.getBufferTimeout())
                .isEqualTo(timeout));
        return timeout;
    }

    @Test
    void tenMillisecondsUnlessFlinksOwnOptionIsSet() {
        Configuration job = jobConf();
        assertThat(built(job, job)).isEqualTo(LabelstreamJob.DEFAULT_BUFFER_TIMEOUT.toMillis()).isEqualTo(10);

        Configuration set = jobConf();
        set.setString(ExecutionOptions.BUFFER_TIMEOUT.key(), "50 ms");
        assertThat(built(set, set)).isEqualTo(50);
        // in the job's options only, or in the environment's only
        assertThat(built(set, new Configuration())).isEqualTo(50);
        Configuration envOnly = new Configuration();
        envOnly.set(ExecutionOptions.BUFFER_TIMEOUT, Duration.ofMillis(0));
        assertThat(built(jobConf(), envOnly)).isZero();
    }

    @Test
    void bufferTimeoutDisabledMeansFlushOnlyWhenFull() {
        Configuration off = jobConf();
        off.set(ExecutionOptions.BUFFER_TIMEOUT_ENABLED, false);
        assertThat(built(off, off)).isEqualTo(ExecutionOptions.DISABLED_NETWORK_BUFFER_TIMEOUT);
        assertThat(built(off, new Configuration())).isEqualTo(ExecutionOptions.DISABLED_NETWORK_BUFFER_TIMEOUT);
    }
}
