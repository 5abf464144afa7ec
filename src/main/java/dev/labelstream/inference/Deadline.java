package dev.labelstream.inference;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime run options whose terminate flag is raised when the time is up, so that a timed-out call frees
 * its thread and the GPU instead of running on unseen.
 *
 * <p>The alarms run on a timer owned by the shared session ({@link OnnxSessions.Shared}), not on a static one:
 * a static timer thread outlived every job cancelled in a session cluster and kept its class loader (the
 * thread, its context class loader and its factory all belong to the job). The session's lifetime is exactly
 * that of its users: it is reference-counted by the classifiers, each of which closes only after its running
 * calls (and so their deadlines) have finished, so the timer can be stopped with the last release and no
 * deadline ever outlives it.
 */
final class Deadline implements AutoCloseable {
    /** The timer thread's name; leak checks count threads named labelstream-*. */
    static final String THREAD_NAME = "labelstream-inference-deadline";
    /** Passed to every run of the call; terminated at the deadline. */
    final OrtSession.RunOptions options;
    private final ScheduledFuture<?> alarm;
    /** Set by close(): an alarm that fires late must not touch closed run options. */
    private boolean closed;
    private boolean expired;

    Deadline(ScheduledExecutorService timer, Duration timeout) {
        try {
            options = new OrtSession.RunOptions();
        } catch (OrtException e) {
            throw new ClassificationException("cannot create ONNX Runtime run options: " + e.getMessage(), e);
        }
        alarm = timer.schedule(this::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * The timer of one shared session: one daemon thread, started with the session and shut down when it
     * closes. Cancelled alarms are removed at once, so a stream of calls that finish in time leaves no garbage
     * queued for the length of the deadline.
     */
    static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, THREAD_NAME);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private synchronized void expire() {
        if (!closed) {
            expired = true;
            try {
                options.setTerminate(true);
            } catch (OrtException e) {
                // the run finishes on its own; nothing else to stop
            }
        }
    }

    synchronized boolean expired() {
        return expired;
    }

    @Override
    public synchronized void close() {
        closed = true;
        alarm.cancel(false);
        options.close();
    }
}
