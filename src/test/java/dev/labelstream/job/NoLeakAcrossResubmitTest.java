package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Ten cancel / resubmit cycles of the job jar through a user-code class loader into one MiniCluster (the
 * {@link ResubmissionTest} deployment layout: labelstream's classes in the jar, ONNX Runtime, DJL, Avro, Kafka
 * and Flink on the parent class path, as Flink's lib/ on a session cluster): what labelstream starts is gone
 * after each cancel, and each submission's class loader can be collected.
 *
 * <p>Asserted, per cycle: the live threads named {@code labelstream*} go back to the baseline after the cancel
 * (the classify workers and the deadline timer, which was a static thread per class loader before and so one
 * more per submission); the job's ONNX Runtime sessions (counted in the job's own copy of {@code OnnxSessions},
 * loaded by the submission's class loader) go back to 0; Avro's global class validator is the same object
 * after the first cycle (it does not grow per submission) and refers to no class of any submission's loader.
 * After the ten cycles, the class loaders of the submissions (the TaskManager's child-first loader that defined
 * the job's classes, held through weak references) are cleared after GC, except at most the first and the last,
 * which two JVM-wide retainers outside labelstream keep (JNA's cleaner thread, the JDK's MethodHandle asType
 * cache: the comment at the assertion gives the paths). With {@code -Dlabelstream.leak.heapdump=true} a kept
 * loader leaves a heap dump in target/ and its shortest reference chains from the GC roots ({@link HeapPaths}).
 */
@Tag("slow")
class NoLeakAcrossResubmitTest {
    private static final int CYCLES = 10;
    private static final int RECORDS_PER_CYCLE = 5;

    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1);

    @Test
    void tenCancelAndResubmitCyclesLeaveNoThreadSessionOrClassLoader(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        Path jar = ResubmissionTest.jobJar();
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        List<String> args = ResubmissionTest.jarArgs(t, "300 ms");

        int baselineThreads = labelstreamThreads().size();
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        List<String> perCycle = new ArrayList<>();
        Object validatorAfterFirst = null;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            String prefix = "c" + cycle + "-";
            FaultTestSupport.produce(client, t.input(), ResubmissionTest.inputs(prefix, 0, RECORDS_PER_CYCLE));
            JobID job = ResubmissionTest.submit(cluster, jar, args);
            int running;
            int sessionsRunning;
            Method openSessions;
            try {
                List<String> ids = ResubmissionTest.ids(FaultTestSupport.readDistinct(client, t,
                        RECORDS_PER_CYCLE * (cycle + 1), Duration.ofSeconds(120)));
                assertThat(ids).filteredOn(id -> id.startsWith(prefix)).hasSize(RECORDS_PER_CYCLE);
                running = labelstreamThreads().size();
                ClassLoader loader = jobClassLoader();
                loaders.add(new WeakReference<>(loader));
                openSessions = loader.loadClass("dev.labelstream.inference.OnnxSessions")
                        .getDeclaredMethod("openSessions");
                openSessions.setAccessible(true);
                sessionsRunning = (int) openSessions.invoke(null);
            } finally {
                cluster.cancelJob(job).get();
            }
            ResubmissionTest.awaitStatus(cluster, job, JobStatus.CANCELED);
            // the operators close asynchronously after the job is CANCELED
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((labelstreamThreads().size() != baselineThreads || (int) openSessions.invoke(null) != 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            List<String> left = labelstreamThreads();
            int sessionsLeft = (int) openSessions.invoke(null);
            openSessions = null; // holds the submission's class loader
            perCycle.add("cycle " + (cycle + 1) + ": labelstream threads running/after cancel " + running + "/"
                    + left.size() + ", sessions " + sessionsRunning + "/" + sessionsLeft);

            assertThat(sessionsRunning).as("cycle %d: sessions while running", cycle + 1).isEqualTo(1);
            assertThat(running).as("cycle %d: labelstream threads while running", cycle + 1)
                    .isGreaterThan(baselineThreads);
            assertThat(left).as("cycle %d: labelstream threads after the cancel", cycle + 1)
                    .hasSize(baselineThreads);
            assertThat(sessionsLeft).as("cycle %d: sessions after the cancel", cycle + 1).isZero();
            Object validator = ClassSecurityValidator.getGlobal();
            if (cycle == 0) {
                validatorAfterFirst = validator;
            }
            assertThat(validator).as("cycle %d: Avro's global validator, not composed again", cycle + 1)
                    .isSameAs(validatorAfterFirst);
        }
        validatorAfterFirst = null;
        assertThat(ReferenceScan.loadersReachable(ClassSecurityValidator.getGlobal(), loaders))
                .as("class loaders of the submissions reachable from Avro's global validator").isEmpty();

        int collected = collect(loaders);
        if (collected < CYCLES) {
            // JNA's cleaner thread ends after 30 s without registered objects (JNA 5.17): give it that, once
            long deadline = System.nanoTime() + Duration.ofSeconds(35).toNanos();
            while (threadNamed("JNA Cleaner") && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            collected = collect(loaders);
        }
        List<Integer> retained = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            if (loaders.get(i).get() != null) {
                retained.add(i + 1);
            }
        }
        String evidence = "";
        if (!retained.isEmpty() && Boolean.getBoolean("labelstream.leak.heapdump")) {
            evidence = " retention paths in " + retentionPaths(dumpHeap());
        }
        FaultTestSupport.figures("10 cancel/resubmit cycles of the job jar (user-code class loader)",
                String.join("; ", perCycle) + "; class loaders collected " + collected + " of " + CYCLES
                        + ", retained: cycles " + retained + ", JNA Cleaner thread alive " + threadNamed("JNA Cleaner")
                        + evidence);
        // Two retainers outside labelstream, each holding at most one loader however many cycles run (heap
        // dump analysis with -Dlabelstream.leak.heapdump=true, HeapPaths, on JDK 17.0.15):
        // - the first submission's: JNA's "JNA Cleaner" thread (jna 5.17, from DJL) is started by the first JNA
        //   use in the JVM, inside the job's open(), and keeps the creating thread's AccessControlContext:
        //   CleanerThread.inheritedAccessControlContext -> ProtectionDomain[] -> the job jar's ProtectionDomain
        //   -> .classloader. It was still alive 35 s (and, in an earlier run, 60 s) after the last cycle: an
        //   object registered with it lives on.
        //   When something else in the JVM used JNA first (the app class path), no submission is kept.
        // - the last submission's: the JDK's one-entry MethodHandle.asTypeCache (JDK-8078641, fixed in JDK 18):
        //   class java.lang.runtime.ObjectMethods .OBJECTS_HASHCODE -> DirectMethodHandle .asTypeCache ->
        //   MethodType (int, InferenceOptions$Provider) -> the loader, from linking the hashCode() of the record
        //   OnnxSessions.Key; the next submission's link replaces it.
        // So: no growth. Every loader in between must be collected; the first and last may stay.
        assertThat(retained).as("submissions whose class loader stayed reachable after GC")
                .hasSizeLessThanOrEqualTo(2).isSubsetOf(1, CYCLES);
    }

    static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(th -> th.isAlive() && th.getName().equals(name));
    }

    /** {@link HeapPaths} (no dependencies) on {@code dump}, in a JVM of its own; returns the file the paths are written to. */
    static Path retentionPaths(Path dump) throws Exception {
        Path out = Path.of(dump.toString().replace(".hprof", "-paths.txt"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", Path.of("target", "test-classes").toString(), HeapPaths.class.getName(), dump.toString(),
                "ChildFirstClassLoader")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        p.waitFor();
        return out;
    }

    /** Live threads whose name starts with labelstream, by name. */
    static List<String> labelstreamThreads() {
        List<String> names = new ArrayList<>();
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            if (th.isAlive() && th.getName().startsWith("labelstream")) {
                names.add(th.getName());
            }
        }
        names.sort(null);
        return names;
    }

    /**
     * The class loader that defined the running job's classes in the TaskManager. The classify workers inherit
     * the task thread's context class loader: Flink's safety-net wrapper around the child-first loader, so the
     * defining loader is asked from a class loaded through it.
     */
    static ClassLoader jobClassLoader() throws ClassNotFoundException {
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            if (th.getName().startsWith("labelstream-classify-")) {
                ClassLoader loader = th.getContextClassLoader()
                        .loadClass("dev.labelstream.job.LabelstreamJob").getClassLoader();
                assertThat(loader).as("the job's classes come from the job jar")
                        .isNotSameAs(NoLeakAcrossResubmitTest.class.getClassLoader());
                return loader;
            }
        }
        throw new AssertionError("no labelstream-classify thread while the job runs");
    }

    /** Runs GC until every reference is cleared or ten rounds have passed; returns how many were cleared. */
    static int collect(List<WeakReference<ClassLoader>> loaders) throws InterruptedException {
        for (int round = 0; round < 10 && loaders.stream().anyMatch(r -> r.get() != null); round++) {
            System.gc();
            Thread.sleep(200);
        }
        return (int) loaders.stream().filter(r -> r.get() == null).count();
    }

    /** A heap dump of live objects under target/, for finding what keeps a class loader (see the class comment). */
    static Path dumpHeap() throws Exception {
        Path file = Path.of("target", "leak-" + System.currentTimeMillis() + ".hprof").toAbsolutePath();
        Files.deleteIfExists(file);
        ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                .dumpHeap(file.toString(), true);
        return file;
    }
}
