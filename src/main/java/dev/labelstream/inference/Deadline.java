package dev.labelstream.inference;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * ONNX Runtime run options whose terminate flag is raised when the time is up, so that a timed-out call frees
 * its thread and the GPU instead of running on unseen. One daemon timer thread per JVM serves every deadline.
 */
final class Deadline implements AutoCloseable {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "labelstream-inference-deadline");
        t.setDaemon(true);
        return t;
    });
    /** Passed to every run of the call; terminated at the deadline. */
    final OrtSession.RunOptions options;
    private final ScheduledFuture<?> alarm;
    /** Set by close(): an alarm that fires late must not touch closed run options. */
    private boolean closed;
    private boolean expired;

    Deadline(Duration timeout) {
        try {
            options = new OrtSession.RunOptions();
        } catch (OrtException e) {
            throw new ClassificationException("cannot create ONNX Runtime run options: " + e.getMessage(), e);
        }
        alarm = TIMER.schedule(this::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
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
