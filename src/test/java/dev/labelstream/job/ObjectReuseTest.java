package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * The job enables Flink's object reuse unless pipeline.object-reuse is set, in the job's options or the
 * environment's. The topology is only built, not run; that the job's outputs stay exact with reuse on is what the
 * end-to-end tests (JobEndToEndTest, ExactlyOnceTest, ShadowJobTest, PolicyJobTest, ...) check, since they run with
 * this default.
 */
class ObjectReuseTest {
    private static boolean built(Configuration job, Configuration envConf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(envConf);
        LabelstreamJob.build(env, job);
        boolean reuse = env.getConfig().isObjectReuseEnabled();
        // what the TaskManagers get: the job graph's execution config
        try {
            assertThat(env.getStreamGraph().getJobGraph().getSerializedExecutionConfig()
                    .deserializeValue(ObjectReuseTest.class.getClassLoader()).isObjectReuseEnabled())
                    .as("object reuse in the job graph").isEqualTo(reuse);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return reuse;
    }

    @Test
    void onUnlessFlinksOwnOptionIsSet() {
        Configuration job = JobTestSupport.builtOnlyJobConf();
        assertThat(built(job, job)).isTrue();

        Configuration off = JobTestSupport.builtOnlyJobConf();
        off.set(PipelineOptions.OBJECT_REUSE, false);
        assertThat(built(off, off)).isFalse();
        // in the job's options only, or in the environment's only
        assertThat(built(off, new Configuration())).isFalse();
        Configuration envOnly = new Configuration();
        envOnly.set(PipelineOptions.OBJECT_REUSE, false);
        assertThat(built(JobTestSupport.builtOnlyJobConf(), envOnly)).isFalse();

        Configuration on = JobTestSupport.builtOnlyJobConf();
        on.set(PipelineOptions.OBJECT_REUSE, true);
        assertThat(built(on, new Configuration())).isTrue();
    }
}
