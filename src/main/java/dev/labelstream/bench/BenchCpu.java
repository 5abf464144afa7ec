package dev.labelstream.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Where a job run's CPU time went, by thread: the JVM knows each Java thread's CPU time and name, and the job,
 * Flink, the Kafka clients and the embedded broker name their threads. Native threads (ONNX Runtime's intra-op pool
 * when it has more than one thread, the tokenizers library's pool, the garbage collector, the JIT compiler) are not
 * Java threads: they are the process's CPU time minus the Java threads' sum. On Linux the JVM's own JIT and GC
 * threads are told apart by their names in /proc/self/task, so that a run still compiling (a young JVM) shows as
 * such rather than as the pipeline's cost; the rest stays "other native".
 */
final class BenchCpu {
    /** Thread groups, in the order the report shows them. */
    static final String CLASSIFY = "classify threads (tokenize, pad, ORT call, scoring, decision, output record)";
    static final String TASK = "Flink task threads (decode, batcher, emit, sink writes, drift operator)";
    static final String SOURCE = "Kafka source fetcher";
    static final String PRODUCER = "Kafka sink producers (network threads)";
    static final String BROKER = "embedded broker";
    static final String BENCH = "bench's own consumer and producers";
    static final String FLINK = "Flink runtime (checkpoints, RPC, timers)";
    static final String OTHER = "other Java threads";
    static final String JIT = "JIT compiler threads (C1, C2)";
    static final String GC = "garbage collector threads";
    static final String NATIVE = "other native threads (ORT or tokenizers pools, JVM)";
    /** Linux's clock ticks per second for /proc/.../stat times (USER_HZ, 100 on every common build). */
    private static final long TICK_NANOS = 10_000_000L;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private BenchCpu() {}

    /**
     * CPU time by thread id and the process's, at one moment; {@code vm}: the JIT's and the GC's threads' CPU time
     * ({@link #JIT}, {@link #GC}), empty where /proc is not readable.
     */
    record Snapshot(Map<Long, Long> nanos, Map<Long, String> names, long process, Map<String, Long> vm) {}

    static Snapshot snapshot() {
        Map<Long, Long> nanos = new HashMap<>();
        Map<Long, String> names = new HashMap<>();
        if (THREADS.isThreadCpuTimeSupported()) {
            for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
                if (t != null) {
                    long cpu = THREADS.getThreadCpuTime(t.getThreadId());
                    if (cpu >= 0) {
                        nanos.put(t.getThreadId(), cpu);
                        names.put(t.getThreadId(), t.getThreadName());
                    }
                }
            }
        }
        return new Snapshot(nanos, names, BenchPipeline.cpuNanos(), vmThreads());
    }

    /** CPU nanoseconds of the JVM's JIT and GC threads now, from /proc/self/task (Linux); empty elsewhere. */
    static Map<String, Long> vmThreads() {
        Map<String, Long> out = new HashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (java.io.File t : tasks) {
            try {
                String group = vmGroup(java.nio.file.Files.readString(t.toPath().resolve("comm")).strip());
                if (group == null) {
                    continue;
                }
                String stat = java.nio.file.Files.readString(t.toPath().resolve("stat"));
                // after the ")" that ends the name: state is field 3, utime and stime fields 14 and 15
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                out.merge(group, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NANOS, Long::sum);
            } catch (java.io.IOException | RuntimeException e) {
                // a thread that ended while being read
            }
        }
        return out;
    }

    /** {@link #JIT} or {@link #GC} for a HotSpot thread's name (as /proc shows it, 15 characters), else null. */
    static String vmGroup(String comm) {
        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
            return JIT;
        }
        if (comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
            return GC;
        }
        return null;
    }

    /** The ids of the threads alive now: taken before and after the broker starts, they tell its threads. */
    static Set<Long> threadIds() {
        return snapshot().nanos().keySet();
    }

    /** CPU nanoseconds per group between {@code from} and {@code to}; {@code broker}: thread ids of the broker. */
    static Map<String, Long> split(Snapshot from, Snapshot to, Set<Long> broker) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String g : new String[] {CLASSIFY, TASK, SOURCE, PRODUCER, BROKER, BENCH, FLINK, OTHER, JIT, GC, NATIVE}) {
            out.put(g, 0L);
        }
        long java = 0;
        for (Map.Entry<Long, Long> e : to.nanos().entrySet()) {
            long d = e.getValue() - from.nanos().getOrDefault(e.getKey(), 0L);
            if (d <= 0) {
                continue;
            }
            java += d;
            out.merge(group(to.names().get(e.getKey()), broker.contains(e.getKey())), d, Long::sum);
        }
        long nativeNanos = Math.max(0, to.process() - from.process() - java);
        for (String g : new String[] {JIT, GC}) {
            long d = Math.max(0, to.vm().getOrDefault(g, 0L) - from.vm().getOrDefault(g, 0L));
            d = Math.min(d, nativeNanos); // tick rounding must not make "other native" negative
            out.put(g, d);
            nativeNanos -= d;
        }
        out.put(NATIVE, nativeNanos);
        return out;
    }

    /** The group of a thread by its name (and whether it was started with the broker). */
    static String group(String name, boolean brokerThread) {
        String n = name == null ? "" : name;
        if (n.startsWith("labelstream-classify-")) {
            return CLASSIFY;
        }
        if (n.startsWith("Source Data Fetcher")) {
            return SOURCE;
        }
        if (n.startsWith("kafka-producer-network-thread")) {
            return PRODUCER; // the bench's own producers are done before the measured window (pre-loaded)
        }
        if (brokerThread || n.startsWith("data-plane-") || n.startsWith("kafka-request-handler")
                || n.contains("ExpirationReaper") || n.startsWith("TxnMarkerSender") || n.contains("raft")
                || n.startsWith("quorum-controller") || n.startsWith("broker-") || n.startsWith("controller-")
                || n.startsWith("group-coordinator") || n.startsWith("kafka-scheduler")
                || n.startsWith("LogDirFailureHandler") || n.startsWith("transaction-")) {
            return BROKER;
        }
        // Flink names a task's thread after its chain and subtask: "Source: ... (1/1)#0".
        if (n.matches(".*\\(\\d+/\\d+\\)#\\d+.*")) {
            return TASK;
        }
        if (n.startsWith("main") || n.startsWith("bench-") || n.startsWith("kafka-coordinator-heartbeat")) {
            return BENCH;
        }
        if (n.startsWith("flink-") || n.contains("pekko") || n.startsWith("Checkpoint") || n.startsWith("jobmanager")
                || n.contains("Flink") || n.startsWith("AsyncOperations") || n.startsWith("mini-cluster")
                || n.startsWith("Time Trigger") || n.startsWith("OutputFlusher")) {
            return FLINK;
        }
        return OTHER;
    }
}
