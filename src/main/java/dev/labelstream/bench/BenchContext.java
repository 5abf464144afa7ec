package dev.labelstream.bench;

import dev.labelstream.bench.BenchCommand.Part;
import dev.labelstream.demo.EmbeddedKafka;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.flink.configuration.Configuration;

/**
 * What every part of a bench run shares: the command's settings, where progress is printed, and the counter that
 * gives each job run its own topics and transactional ids on the one broker.
 */
final class BenchContext {
    /** Records of a warm-up run (a quarter more before them, as its own warm-up). */
    static final int JIT_WARMUP_RECORDS = 8_000;
    /** The JIT's threads count as quiet under this share of one core during a run. */
    static final double JIT_QUIET_SHARE = 0.10;
    /** The most warm-up runs. */
    static final int JIT_WARMUP_RUNS = 40;

    /** Measured records per run. */
    final int records;
    /** Warm-up records before each measurement. */
    final int warmup;
    /** Runs of each repeated measurement. */
    final int repeat;
    /** Raw-engine batch sizes to try (1 is always tried as well). */
    final List<Integer> batchSizes;
    /** Raw-engine caller threads to try. */
    final List<Integer> callers;
    /** Raw-engine intra-op threads to try. */
    final List<Integer> intraOps;
    /** Length of each latency run. */
    final Duration latencyDuration;
    /** Offered load of the latency runs as a fraction of the measured peak, unless {@link #rate} is set. */
    final double load;
    /** Offered load of the latency runs in records/s, or null. */
    final Double rate;
    /** Parts left out. */
    final Set<Part> skip;
    /** Job options the user set with --set: the bench never overrides them. */
    final Set<String> userKeys;
    /** Progress and tables. */
    final PrintWriter out;
    /** Folder for report.json, chart.svg and table.txt. */
    final Path results;
    private int runCounter;
    /** Whether {@link #warmJvm} has run in this JVM's bench. */
    private boolean jvmWarm;

    BenchContext(int records, int warmup, int repeat, List<Integer> batchSizes, List<Integer> callers,
            List<Integer> intraOps, Duration latencyDuration, double load, Double rate, Set<Part> skip,
            Set<String> userKeys, PrintWriter out, Path results) {
        this.records = records;
        this.warmup = warmup;
        this.repeat = repeat;
        this.batchSizes = batchSizes;
        this.callers = callers;
        this.intraOps = intraOps;
        this.latencyDuration = latencyDuration;
        this.load = load;
        this.rate = rate;
        this.skip = skip;
        this.userKeys = userKeys;
        this.out = out;
        this.results = results;
    }

    boolean runs(Part p) {
        return !skip.contains(p);
    }

    void section(String title) {
        out.println(title);
        out.flush();
    }

    /**
     * Once per bench, before its first measured job run: unmeasured runs of the job with the feed graph ({@link
     * BenchFeed#NAME}: thousands of records a second through the job's own code: decode, batcher, tokenizer, scoring,
     * encoding, Kafka clients, broker), repeated until the JIT compiler's threads take under {@value
     * #JIT_QUIET_SHARE} of a core during one (at most {@value #JIT_WARMUP_RUNS} runs).
     *
     * <p>Why: C2 raises its thresholds while its queue is long, so the first runs leave much of this code in
     * profiled C1 form; it is compiled later, in whichever run comes next. In a fresh JVM the compiler's threads took
     * a quarter of a core through a 20 s real-model run, and after one warm-up run of 10,000 records still half a
     * core (240 us a record) through the feed run. An idle wait does not help: counters only advance while the code
     * runs. It takes long on 2 cores: one C2 thread, sharing them with the job, stayed at 53-68 % of a core through
     * the first 17 runs, then fell (27 % at run 21, 18 % at 24, 12 % at 30). With 6 runs, the compiler still took
     * 10-19 ms of the real pipeline's 95-103 ms CPU a record; after 30, 2.9 ms.
     */
    void warmJvm(EmbeddedKafka kafka, Configuration conf, BenchCorpus corpus, Set<Long> broker) throws Exception {
        if (jvmWarm) {
            return;
        }
        jvmWarm = true;
        section("JVM warm-up (not measured): the job with " + BenchFeed.NAME + ", " + JIT_WARMUP_RECORDS
                + " records a run, until the JIT compiler takes under " + (int) (JIT_QUIET_SHARE * 100)
                + " % of a core in one (at most " + JIT_WARMUP_RUNS + " runs)");
        Configuration feed = BenchFeed.feedConf(this, conf);
        for (int run = 1; run <= JIT_WARMUP_RUNS; run++) {
            long jitBefore = BenchCpu.vmThreads().getOrDefault(BenchCpu.JIT, 0L);
            long wallBefore = System.nanoTime();
            pipeline(kafka, feed, "jvm-warmup-" + run, 1, corpus,
                    BenchPipeline.Plan.throughput(JIT_WARMUP_RECORDS / 4, JIT_WARMUP_RECORDS), broker);
            double share = (BenchCpu.vmThreads().getOrDefault(BenchCpu.JIT, 0L) - jitBefore)
                    / (double) (System.nanoTime() - wallBefore);
            out.printf(Locale.ROOT, "  JIT compiler: %.0f %% of a core during warm-up run %d%n", share * 100, run);
            out.flush();
            if (share < JIT_QUIET_SHARE) {
                break;
            }
        }
    }

    /** One job run on {@code kafka}, printed as one line. */
    BenchPipeline.Result pipeline(EmbeddedKafka kafka, Configuration conf, String what, int r, BenchCorpus corpus,
            BenchPipeline.Plan plan) throws Exception {
        return pipeline(kafka, conf, what, r, corpus, plan, Set.of());
    }

    /** As above; {@code broker}: the embedded broker's thread ids, for the CPU breakdown. */
    BenchPipeline.Result pipeline(EmbeddedKafka kafka, Configuration conf, String what, int r, BenchCorpus corpus,
            BenchPipeline.Plan plan, Set<Long> broker) throws Exception {
        return pipeline(kafka, conf, what, r, corpus, plan, broker, BenchPipeline.Extras.NONE);
    }

    /**
     * As above, the job with {@code extras} ({@link BenchPipeline#run(EmbeddedKafka, Configuration, String,
     * BenchCorpus, BenchPipeline.Plan, Set, BenchPipeline.Extras)}): with a policy topic the line says how many
     * decisions name its policy, with a shadow what the shadow scored.
     */
    BenchPipeline.Result pipeline(EmbeddedKafka kafka, Configuration conf, String what, int r, BenchCorpus corpus,
            BenchPipeline.Plan plan, Set<Long> broker, BenchPipeline.Extras extras) throws Exception {
        String id = what + "-" + (++runCounter);
        BenchPipeline.Result res = BenchPipeline.run(kafka, conf, id, corpus, plan, broker, extras);
        BenchPolicy.Document policy = extras.policy();
        String decided = (policy == null ? "" : String.format(Locale.ROOT, ", %d of %d decided by %s",
                res.decidedBy(policy.label()), res.classified(), policy.label()))
                + (res.shadow() == null ? "" : "; " + BenchShadow.line(res.shadow()));
        if (plan.paced()) {
            int[] paced = BenchStats.groupSizes(res.paced().batchKeys);
            out.printf(Locale.ROOT, "  %s: %d of %d paced records out at %s rec/s offered, latency p50 %s ms, p99 %s"
                            + " ms, batches mean %s, startup %s s%s%n", what, res.paced().outputs(), res.pacedSent(),
                    BenchReport.fmt(res.offeredRate()),
                    BenchReport.fmt(BenchStats.percentile(res.paced().latencies(), 50)),
                    BenchReport.fmt(BenchStats.percentile(res.paced().latencies(), 99)),
                    BenchReport.fmt(BenchStats.mean(paced)), BenchReport.fmt(res.startupMs() / 1000.0) + decided,
                    res.ok() ? "" : "  PROBLEM: " + res.problem());
        } else {
            int[] sizes = BenchStats.groupSizes(res.measured().batchKeys);
            out.printf(Locale.ROOT, "  %s run %d/%d: %d of %d out, %s rec/s committed, %s processed,"
                            + " batches mean %s, cpu %s cores, startup %s s, %d dead letters%s%n", what, r, repeat,
                    res.measured().outputs(), plan.measured(), BenchReport.fmt(res.committedRate()),
                    BenchReport.fmt(res.processedRate()),
                    BenchReport.fmt(BenchStats.mean(sizes)), BenchReport.fmt(res.cpuCores()),
                    BenchReport.fmt(res.startupMs() / 1000.0), res.deadLetters(),
                    decided + (res.ok() ? "" : "  PROBLEM: " + res.problem()));
        }
        out.flush();
        return res;
    }
}
