package dev.labelstream.settings;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.InferenceOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The job's batch size as {@link JobSettings#of} resolves it: the batcher and the async stage's timeout
 * ({@link AsyncBudget}, from the settings' configuration) see the same number, small on a CPU with one row a call
 * ({@link ThreadBudget#withCpuBatching}), the user's when set, the option's default otherwise.
 */
class CpuBatchingSettingsTest {

    static int batcherAndConfiguration(Configuration c) {
        JobSettings s = JobSettings.of(c);
        assertThat(s.configuration().get(BatchingOptions.MAX_RECORDS)).as("the configuration the job passes on")
                .isEqualTo(s.batching().maxRecords());
        return s.batching().maxRecords();
    }

    @Test
    void theCpuDefaultIsSmallAndTheAsyncTimeoutFollowsIt() {
        Configuration c = ShadowSettingsTest.conf();
        assertThat(batcherAndConfiguration(c)).isEqualTo(ThreadBudget.CPU_MAX_RECORDS);
        // the timeout is a batch's budget: smaller batches, an earlier timeout than with the option's default
        Configuration big = ShadowSettingsTest.conf();
        big.set(BatchingOptions.MAX_RECORDS, BatchingOptions.MAX_RECORDS.defaultValue());
        assertThat(AsyncBudget.operatorTimeout(JobSettings.of(c).configuration()))
                .isLessThan(AsyncBudget.operatorTimeout(JobSettings.of(big).configuration()));
    }

    @Test
    void anExplicitSizeOrBatchedModelCallsKeepTheOptions() {
        Configuration set = ShadowSettingsTest.conf();
        set.set(BatchingOptions.MAX_RECORDS, 16);
        assertThat(batcherAndConfiguration(set)).isEqualTo(16);

        Configuration rows = ShadowSettingsTest.conf();
        rows.set(InferenceOptions.MAX_SUB_BATCH, 32);
        assertThat(batcherAndConfiguration(rows)).isEqualTo(BatchingOptions.MAX_RECORDS.defaultValue());

        Configuration cuda = ShadowSettingsTest.conf();
        cuda.set(InferenceOptions.PROVIDER, InferenceOptions.Provider.CUDA);
        assertThat(batcherAndConfiguration(cuda)).isEqualTo(BatchingOptions.MAX_RECORDS.defaultValue());
    }
}
