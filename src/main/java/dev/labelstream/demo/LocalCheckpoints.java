package dev.labelstream.demo;

import java.io.IOException;
import java.nio.file.Files;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;

/**
 * Checkpoints of a job run in this JVM (the demo, the bench) go to a temporary directory, as deploy/ gives them a
 * directory: without one they would be kept in the JobManager's memory, which caps state at 5 MB per operator, and
 * the texts in flight of long inputs exceed it (every checkpoint failed, the job restarted in a loop).
 */
public final class LocalCheckpoints {
    private LocalCheckpoints() {}

    /** Sets {@code execution.checkpointing.dir} to a new temporary directory named after {@code prefix}, unless set. */
    public static void inTemporaryDirectory(Configuration conf, String prefix) throws IOException {
        if (conf.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                    Files.createTempDirectory(prefix).toUri().toString());
        }
    }
}
