package dev.labelstream.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.inference.InferenceOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class ThreadBudgetTest {

    @Test
    void cpuDefaultsShareTheCoresBetweenCallersAndIntraOpThreads() {
        ThreadBudget two = ThreadBudget.of(new Configuration(), 2);
        assertThat(two.asyncThreads()).isEqualTo(2);
        assertThat(two.intraOpThreads()).isEqualTo(1);
        assertThat(two.maxSubBatch()).isEqualTo(ThreadBudget.CPU_MAX_SUB_BATCH);
        assertThat(two.reason()).contains("2 cores");

        // no more callers than batches in flight (async.capacity, 4 by default): the rest go to intra-op threads
        ThreadBudget sixteen = ThreadBudget.of(new Configuration(), 16);
        assertThat(sixteen.asyncThreads()).isEqualTo(4);
        assertThat(sixteen.intraOpThreads()).isEqualTo(4);
        assertThat(ThreadBudget.of(new Configuration(), 1).asyncThreads()).isEqualTo(1);
    }

    @Test
    void explicitSettingsWinAndTheOthersFillTheRest() {
        Configuration threads = new Configuration();
        threads.set(JobOptions.ASYNC_THREADS, 1);
        ThreadBudget b = ThreadBudget.of(threads, 4);
        assertThat(b.asyncThreads()).isEqualTo(1);
        assertThat(b.intraOpThreads()).isEqualTo(4);

        Configuration intra = new Configuration();
        intra.set(InferenceOptions.INTRA_OP_THREADS, 2);
        intra.set(InferenceOptions.MAX_SUB_BATCH, 32);
        b = ThreadBudget.of(intra, 8);
        assertThat(b.asyncThreads()).isEqualTo(4);
        assertThat(b.intraOpThreads()).isEqualTo(2);
        assertThat(b.maxSubBatch()).isEqualTo(32);

        // intra-op 0 is ONNX Runtime's one per core: one caller then
        intra.set(InferenceOptions.INTRA_OP_THREADS, 0);
        assertThat(ThreadBudget.of(intra, 8).asyncThreads()).isEqualTo(1);
    }

    @Test
    void cudaKeepsItsOwnDefaults() {
        Configuration cuda = new Configuration();
        cuda.set(InferenceOptions.PROVIDER, InferenceOptions.Provider.CUDA);
        ThreadBudget b = ThreadBudget.of(cuda, 2);
        assertThat(b.asyncThreads()).isEqualTo(JobOptions.ASYNC_THREADS.defaultValue());
        assertThat(b.intraOpThreads()).isEqualTo(InferenceOptions.INTRA_OP_THREADS.defaultValue());
        assertThat(b.maxSubBatch()).isEqualTo(InferenceOptions.MAX_SUB_BATCH.defaultValue());
    }

    @Test
    void appliedValuesAreWhatEveryReaderSees() {
        Configuration resolved = ThreadBudget.of(new Configuration(), 2).applyTo(new Configuration());
        assertThat(resolved.get(JobOptions.ASYNC_THREADS)).isEqualTo(2);
        assertThat(resolved.get(InferenceOptions.INTRA_OP_THREADS)).isEqualTo(1);
        assertThat(resolved.get(InferenceOptions.MAX_SUB_BATCH)).isEqualTo(ThreadBudget.CPU_MAX_SUB_BATCH);
        assertThatThrownBy(() -> ThreadBudget.of(new Configuration(), 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
