package dev.labelstream.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.shadow.ShadowOptions;
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

    @Test
    void onACpuWithOneRowPerCallBatchesAreSmallUnlessSet() {
        Configuration unset = new Configuration();
        assertThat(ThreadBudget.withCpuBatching(unset).get(BatchingOptions.MAX_RECORDS))
                .isEqualTo(ThreadBudget.CPU_MAX_RECORDS).isLessThan(BatchingOptions.MAX_RECORDS.defaultValue());
        assertThat(unset.getOptional(BatchingOptions.MAX_RECORDS)).as("the given configuration is not changed")
                .isEmpty();

        // one row a call set explicitly is the same case
        Configuration oneRow = new Configuration();
        oneRow.set(InferenceOptions.MAX_SUB_BATCH, 1);
        assertThat(ThreadBudget.withCpuBatching(oneRow).get(BatchingOptions.MAX_RECORDS))
                .isEqualTo(ThreadBudget.CPU_MAX_RECORDS);

        // an explicit batch size wins
        Configuration set = new Configuration();
        set.set(BatchingOptions.MAX_RECORDS, 32);
        assertThat(ThreadBudget.withCpuBatching(set).get(BatchingOptions.MAX_RECORDS)).isEqualTo(32);

        // model calls of several rows: batching is on purpose, the option's own default stays
        Configuration rows = new Configuration();
        rows.set(InferenceOptions.MAX_SUB_BATCH, 32);
        assertThat(ThreadBudget.withCpuBatching(rows).getOptional(BatchingOptions.MAX_RECORDS)).isEmpty();

        // CUDA batches big
        Configuration cuda = new Configuration();
        cuda.set(InferenceOptions.PROVIDER, InferenceOptions.Provider.CUDA);
        assertThat(ThreadBudget.withCpuBatching(cuda).get(BatchingOptions.MAX_RECORDS))
                .isEqualTo(BatchingOptions.MAX_RECORDS.defaultValue());
    }

    static Configuration shadow(int threads) {
        Configuration c = new Configuration();
        c.set(ShadowOptions.MODEL_DIR, "/models/candidate");
        c.set(ShadowOptions.THREADS, threads);
        return c;
    }

    @Test
    void aShadowsThreadsTakeTheirCoresFirst() {
        // 2 cores, 1 for the shadow: the primary has the other
        ThreadBudget two = ThreadBudget.of(shadow(1), 2);
        assertThat(two.asyncThreads()).isEqualTo(1);
        assertThat(two.intraOpThreads()).isEqualTo(1);
        assertThat(two.reason()).contains("2 cores").contains("1 for the shadow model's thread").contains("1 left");

        // 8 cores, 2 for the shadow: 6 left, 4 callers (async.capacity) x 6 / 4 = 1 intra-op thread
        ThreadBudget eight = ThreadBudget.of(shadow(2), 8);
        assertThat(eight.asyncThreads()).isEqualTo(4);
        assertThat(eight.intraOpThreads()).isEqualTo(1);
        assertThat(eight.reason()).contains("8 cores").contains("2 for the shadow model's threads")
                .contains("6 left");

        // 16 cores, 4 for the shadow: 12 left, 4 callers x 3
        ThreadBudget sixteen = ThreadBudget.of(shadow(4), 16);
        assertThat(sixteen.asyncThreads()).isEqualTo(4);
        assertThat(sixteen.intraOpThreads()).isEqualTo(3);

        // a shadow with as many threads as cores, or more: the primary keeps one core
        for (int threads : new int[] {2, 3, 16}) {
            ThreadBudget b = ThreadBudget.of(shadow(threads), 2);
            assertThat(b.asyncThreads()).as("shadow.threads %d", threads).isEqualTo(1);
            assertThat(b.intraOpThreads()).as("shadow.threads %d", threads).isEqualTo(1);
        }
    }

    @Test
    void theBudgetFillsTheCoresLeftByTheShadow() {
        for (int cores = 1; cores <= 32; cores++) {
            for (int threads = 1; threads <= 8; threads++) {
                for (int capacity = 1; capacity <= 6; capacity++) {
                    Configuration c = shadow(threads);
                    c.set(JobOptions.ASYNC_CAPACITY, capacity);
                    ThreadBudget b = ThreadBudget.of(c, cores);
                    int left = Math.max(1, cores - threads);
                    String at = String.format("%d cores, %d shadow threads, capacity %d", cores, threads, capacity);
                    assertThat(b.asyncThreads()).as(at).isBetween(1, Math.min(left, capacity));
                    assertThat(b.intraOpThreads()).as(at).isGreaterThanOrEqualTo(1);
                    // never more than the cores left, and no core left idle beyond the rounding of one division
                    assertThat(b.asyncThreads() * b.intraOpThreads()).as(at).isLessThanOrEqualTo(left)
                            .isGreaterThan(left - b.asyncThreads());
                    assertThat(b.reason()).as(at).contains(threads + " for the shadow");
                }
            }
        }
    }

    @Test
    void withoutAShadowNothingChanges() {
        for (int cores = 1; cores <= 32; cores++) {
            Configuration threadsOnly = new Configuration();
            // shadow.threads without shadow.model.dir reserves nothing
            threadsOnly.set(ShadowOptions.THREADS, 3);
            ThreadBudget plain = ThreadBudget.of(new Configuration(), cores);
            ThreadBudget b = ThreadBudget.of(threadsOnly, cores);
            assertThat(b).isEqualTo(plain);
            assertThat(b.reason()).doesNotContain("shadow");
            assertThat(b.asyncThreads()).isEqualTo(Math.min(cores, 4));
            assertThat(b.intraOpThreads()).isEqualTo(Math.max(1, cores / Math.min(cores, 4)));
        }
    }

    @Test
    void explicitSettingsStillWinWithAShadow() {
        Configuration c = shadow(2);
        c.set(JobOptions.ASYNC_THREADS, 3);
        ThreadBudget b = ThreadBudget.of(c, 8);
        assertThat(b.asyncThreads()).isEqualTo(3);
        // the intra-op threads share the 6 cores left
        assertThat(b.intraOpThreads()).isEqualTo(2);
        assertThat(b.reason()).contains("(set)");

        c.set(InferenceOptions.INTRA_OP_THREADS, 5);
        c.set(InferenceOptions.MAX_SUB_BATCH, 16);
        b = ThreadBudget.of(c, 2);
        assertThat(b.asyncThreads()).isEqualTo(3);
        assertThat(b.intraOpThreads()).isEqualTo(5);
        assertThat(b.maxSubBatch()).isEqualTo(16);

        // intra-op set alone: the callers share the cores left by it
        Configuration intra = shadow(2);
        intra.set(InferenceOptions.INTRA_OP_THREADS, 2);
        b = ThreadBudget.of(intra, 8);
        assertThat(b.asyncThreads()).isEqualTo(3);
        assertThat(b.intraOpThreads()).isEqualTo(2);

        // CUDA ignores the shadow: the options' own defaults
        Configuration cuda = shadow(2);
        cuda.set(InferenceOptions.PROVIDER, InferenceOptions.Provider.CUDA);
        b = ThreadBudget.of(cuda, 8);
        assertThat(b.asyncThreads()).isEqualTo(JobOptions.ASYNC_THREADS.defaultValue());
        assertThat(b.intraOpThreads()).isEqualTo(InferenceOptions.INTRA_OP_THREADS.defaultValue());
    }
}
