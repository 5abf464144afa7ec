package dev.labelstream.settings;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.shadow.ShadowOptions;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the classify stage shares a TaskManager's CPU cores, for the settings the configuration leaves unset.
 *
 * <p>On the CPU provider the stage runs {@code async.threads} batches at once, and each ONNX Runtime call spreads
 * over {@code inference.intra-op-threads} threads: more threads than cores only makes them take turns (measured on
 * 2 cores: 2 callers x 2 intra-op threads gave 23 rec/s, 2 x 1 gave 34, 1 x 2 gave 27.5). So, unless set: caller
 * threads = cores (at most {@code async.capacity}, since no more batches are ever in flight), intra-op threads =
 * cores / callers, and {@value #CPU_MAX_SUB_BATCH} row per model call: on a CPU a bigger call does the same
 * arithmetic plus its padding (batch 1 34.0 rec/s, 8: 30.8, 128: 22.1 on the same machine). Explicit settings always
 * win; the other values fill the cores that are left. CUDA keeps the options' own defaults (the GPU does the work,
 * the session uses one intra-op thread, big calls are what make it fast).
 *
 * <p>With a shadow model ({@code shadow.model.dir}), its {@code shadow.threads} threads run one intra-op thread
 * each and are taken from the cores first; the primary's defaults share out the cores left (at least one).
 *
 * <p>Resolved where the stage starts, on the TaskManager, so "cores" are that machine's, not the client's. The
 * batch size is the exception ({@link #withCpuBatching}): the batcher runs before the stage, so it is resolved
 * when the job is built, from the configured provider; it does not depend on the cores.
 */
public record ThreadBudget(int asyncThreads, int intraOpThreads, int maxSubBatch, String reason) {
    /** Rows per model call on a CPU when inference.max-sub-batch is unset. */
    static final int CPU_MAX_SUB_BATCH = 1;
    /** Records per batch on a CPU when batching.max-records is unset and each record is its own model call. */
    static final int CPU_MAX_RECORDS = 4;
    private static final Logger LOG = LoggerFactory.getLogger(ThreadBudget.class);
    /** One line per TaskManager JVM is enough: every slot resolves the same values. */
    private static final AtomicBoolean LOGGED = new AtomicBoolean();
    private static final AtomicBoolean BATCHING_LOGGED = new AtomicBoolean();

    /** The budget for {@code conf} on a machine with {@code cores} cores. */
    public static ThreadBudget of(ReadableConfig conf, int cores) {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, got " + cores);
        }
        int capacity = Math.max(1, conf.get(JobOptions.ASYNC_CAPACITY));
        var threads = conf.getOptional(JobOptions.ASYNC_THREADS);
        var intraOp = conf.getOptional(InferenceOptions.INTRA_OP_THREADS);
        var subBatch = conf.getOptional(InferenceOptions.MAX_SUB_BATCH);
        if (conf.get(InferenceOptions.PROVIDER) != InferenceOptions.Provider.CPU) {
            return new ThreadBudget(conf.get(JobOptions.ASYNC_THREADS), conf.get(InferenceOptions.INTRA_OP_THREADS),
                    conf.get(InferenceOptions.MAX_SUB_BATCH), "CUDA provider: the options' own defaults");
        }
        // A shadow model's threads (one intra-op thread each, ShadowClassifyFunction) take their cores first.
        int shadow = conf.getOptional(ShadowOptions.MODEL_DIR).isPresent() ? conf.get(ShadowOptions.THREADS) : 0;
        int left = Math.max(1, cores - shadow);
        // 0 intra-op threads is ONNX Runtime's "one per core": count it as the cores when sharing them out.
        int intraCount = intraOp.map(i -> i == 0 ? cores : i).orElse(0);
        int callers = threads.orElseGet(() -> intraCount > 0 ? Math.max(1, left / intraCount)
                : Math.min(left, capacity));
        int intra = intraOp.orElseGet(() -> Math.max(1, left / callers));
        int rows = subBatch.orElse(CPU_MAX_SUB_BATCH);
        String reason = String.format("CPU provider, %d cores%s: %d caller thread%s (%s) x %d intra-op thread%s (%s),"
                        + " %d row%s per model call (%s)", cores, shadow == 0 ? "" : " (" + shadow + " for the shadow"
                        + " model's thread" + (shadow == 1 ? "" : "s") + ", " + left + " left)", callers, callers == 1 ? "" : "s",
                threads.isPresent() ? "set" : "cores, at most async.capacity", intra, intra == 1 ? "" : "s",
                intraOp.isPresent() ? "set" : "cores / callers", rows, rows == 1 ? "" : "s",
                subBatch.isPresent() ? "set" : "no padding, measured fastest on a CPU");
        return new ThreadBudget(callers, intra, rows, reason + "; " + tokenizerPool(System.getenv(), cores));
    }

    /**
     * The tokenizers library's own pool, which its batch encode uses unless TOKENIZERS_PARALLELISM is false: Rust
     * threads, RAYON_NUM_THREADS or one per core, read from the environment when the pool starts (the JVM cannot
     * change it). Its threads run while an async thread waits in the batch call, and on top of the other async
     * threads' ONNX Runtime work: deploy/ turns it off, so the async threads are the only tokenizing threads.
     */
    static String tokenizerPool(java.util.Map<String, String> env, int cores) {
        String parallelism = env.getOrDefault("TOKENIZERS_PARALLELISM", "");
        if (parallelism.equalsIgnoreCase("false") || parallelism.equals("0")) {
            return "tokenizer pool off (TOKENIZERS_PARALLELISM=false): the async threads encode";
        }
        String rayon = env.get("RAYON_NUM_THREADS");
        return "tokenizer pool " + (rayon != null ? rayon + " thread(s) (RAYON_NUM_THREADS)" : cores
                + " threads (one per core; set TOKENIZERS_PARALLELISM=false or RAYON_NUM_THREADS to bound it)")
                + " besides the async threads";
    }

    /**
     * {@code conf} with batching.max-records = {@value #CPU_MAX_RECORDS} when the provider is CPU, batching.max-records
     * is unset and each record is its own model call (inference.max-sub-batch unset or 1); {@code conf} itself
     * otherwise.
     *
     * <p>Why: with one row per model call the records of a batch share no arithmetic; a batch is only the unit of
     * work one async thread takes, run row after row. Big units cost three ways under load: a thread that finishes
     * early has nothing to take while the other works through a whole batch; a checkpoint barrier waits behind the
     * full async queue until a batch completes (so checkpoints, and exactly-once commits, come later); and every
     * record of a batch waits for the last one. On 2 cores with a pre-loaded topic, batches of 23 (64 records, cut
     * by batching.max-tokens) committed 14-16 % below the job's processed rate and left the cores 8-11 % idle;
     * batches of 2 committed within 1-3 % of it with the cores busy. A batch still costs little (the feed's tiny
     * graph ran about as fast with batches of 2 as of 37), so 4 keeps a margin. With max-sub-batch above 1 the
     * user batches model calls on purpose, and the batch size stays the option's.
     */
    public static Configuration withCpuBatching(Configuration conf) {
        if (conf.get(InferenceOptions.PROVIDER) != InferenceOptions.Provider.CPU
                || conf.getOptional(BatchingOptions.MAX_RECORDS).isPresent()
                || conf.getOptional(InferenceOptions.MAX_SUB_BATCH).orElse(CPU_MAX_SUB_BATCH) != 1) {
            return conf;
        }
        Configuration c = new Configuration(conf);
        c.set(BatchingOptions.MAX_RECORDS, CPU_MAX_RECORDS);
        return c;
    }

    /** {@link #withCpuBatching} for the job being built; logs the choice once per JVM when it applies. */
    public static Configuration resolveBatching(Configuration conf) {
        Configuration c = withCpuBatching(conf);
        if (c != conf && BATCHING_LOGGED.compareAndSet(false, true)) {
            LOG.info("Batching: batching.max-records {} (CPU provider, one row per model call: a batch is only the"
                    + " unit of work one async thread takes, and small ones keep the threads busy and commits"
                    + " prompt); set batching.max-records to override", CPU_MAX_RECORDS);
        }
        return c;
    }

    /** A copy of {@code conf} with the budget's values set, so every reader sees the same ones. */
    public Configuration applyTo(Configuration conf) {
        Configuration c = new Configuration(conf);
        c.set(JobOptions.ASYNC_THREADS, asyncThreads);
        c.set(InferenceOptions.INTRA_OP_THREADS, intraOpThreads);
        c.set(InferenceOptions.MAX_SUB_BATCH, maxSubBatch);
        return c;
    }

    /** {@code conf} resolved for this machine's cores; logs the choice once per JVM. */
    public static Configuration resolve(Configuration conf) {
        ThreadBudget b = of(conf, Runtime.getRuntime().availableProcessors());
        if (LOGGED.compareAndSet(false, true)) {
            LOG.info("Classify stage: async.threads {}, inference.intra-op-threads {}, inference.max-sub-batch {}"
                    + " ({}); set them to override", b.asyncThreads, b.intraOpThreads, b.maxSubBatch, b.reason);
        }
        return b.applyTo(conf);
    }
}
