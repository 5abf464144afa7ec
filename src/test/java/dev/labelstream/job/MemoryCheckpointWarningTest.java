package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * Without a checkpoint directory, Flink keeps checkpoints in the JobManager's memory, capped at 5 MB of state per
 * operator; the classify chain's state holds the texts in flight, so long texts fail every checkpoint (seen in the
 * bench: 16 texts of 960 KiB, 7.9 MB of state, the job restarting for minutes without an output). The job says so
 * at build time, naming the setting, and says nothing once a directory or another storage is set.
 */
class MemoryCheckpointWarningTest {
    private static Configuration jobConf() {
        return JobTestSupport.builtOnlyJobConf();
    }

    @Test
    void warnsWithoutACheckpointDirectoryAndNamesTheSetting() {
        Configuration job = jobConf();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        assertThat(LabelstreamJob.memoryCheckpointWarning(env, job)).hasValueSatisfying(w -> assertThat(w)
                .contains("execution.checkpointing.dir", "5 MB", "async.capacity", "input.max-bytes"));
    }

    @Test
    void silentWithADirectoryInEitherConfigurationOrAnotherStorage() {
        Configuration withDir = jobConf();
        withDir.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///tmp/labelstream-checkpoints");
        StreamExecutionEnvironment plain = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        assertThat(LabelstreamJob.memoryCheckpointWarning(plain, withDir)).isEmpty();

        Configuration envConf = new Configuration();
        envConf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://bucket/checkpoints");
        assertThat(LabelstreamJob.memoryCheckpointWarning(StreamExecutionEnvironment.getExecutionEnvironment(envConf),
                jobConf())).isEmpty();

        Configuration jobManager = jobConf();
        jobManager.set(CheckpointingOptions.CHECKPOINT_STORAGE, "jobmanager");
        assertThat(LabelstreamJob.memoryCheckpointWarning(plain, jobManager)).as("jobmanager named explicitly")
                .isPresent();
    }
}
