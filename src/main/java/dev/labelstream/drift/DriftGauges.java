package dev.labelstream.drift;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.metrics.Metrics;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Preconditions;

/**
 * The gauges of one model version ({@value Metrics#DRIFT} / {@value Metrics#MODEL} = name@version): the numbers of
 * the latest window's report, the end of that window ({@value Metrics#DRIFT_WINDOW_END}), and a status that tells
 * every case apart: OK / WARN / ALERT of an evaluated window, {@link Metrics#DRIFT_WARMING_UP} and {@link
 * Metrics#DRIFT_TOO_FEW_RECORDS} for windows that were not evaluated, and {@link Metrics#DRIFT_NO_DATA} once no
 * window has closed for two window lengths.
 *
 * <p>Why staleness is judged when a gauge is read, not by a timer: a model version that stops receiving records
 * (replaced by a new version, or its input stopped) gets no more windows, so nothing in the operator would run to
 * clear its last verdict; a dashboard would show the last ALERT (or OK) forever. Two window lengths, not one,
 * so that a window that closes a little late (a watermark behind, a slow checkpoint) does not flap to "no data".
 * Measured on the task's wall clock from when the last report was made, in both window-time modes: in event time
 * the window end is the records' time, which may be far from now.
 *
 * <p>{@link #update} runs on the task thread, the gauges are read by the reporter thread: every field is volatile
 * and written once per window, so a reader may see a mix of two consecutive windows for a moment, never a torn
 * value.
 */
final class DriftGauges {
    /** Wall-clock milliseconds (injected for tests). */
    private final LongSupplier clock;
    /** Two window lengths: after this long without a new window the status reads no data. */
    private final long staleAfterMillis;
    /** Each statistic's latest value, NaN when the latest window did not compute it. */
    private final Map<Statistic, Double> values = new EnumMap<>(Statistic.class);
    /** Each statistic's latest status code. */
    private final Map<Statistic, Integer> statuses = new EnumMap<>(Statistic.class);
    /** The latest window's status code (never {@link Metrics#DRIFT_NO_DATA}: that is decided on read). */
    private volatile int status = Metrics.DRIFT_NO_DATA;
    private volatile long events;
    private volatile int evaluated;
    /** End of the window the gauges describe (epoch ms; event or processing time, as the window). */
    private volatile long windowEnd;
    /** Wall-clock time of the latest {@link #update}. */
    private volatile long updatedAt;

    DriftGauges(MetricGroup group, long windowMillis, LongSupplier clock) {
        Preconditions.checkArgument(windowMillis > 0, "window length must be positive, was %s ms", windowMillis);
        this.clock = clock;
        this.staleAfterMillis = 2 * windowMillis;
        this.updatedAt = clock.getAsLong();
        for (Statistic s : Statistic.values()) {
            values.put(s, Double.NaN);
            statuses.put(s, Metrics.DRIFT_NO_DATA);
            group.gauge(s.id, () -> stale() ? Double.NaN : values.get(s));
            group.gauge(s.id + Metrics.DRIFT_STATISTIC_STATUS_SUFFIX,
                    () -> stale() ? Metrics.DRIFT_NO_DATA : statuses.get(s));
        }
        group.gauge(Metrics.DRIFT_STATUS, this::status);
        group.gauge(Metrics.DRIFT_EVENTS, () -> events);
        group.gauge(Metrics.DRIFT_EVALUATED, () -> evaluated);
        group.gauge(Metrics.DRIFT_WINDOW_END, () -> windowEnd);
    }

    /**
     * Shows {@code r}.
     *
     * @param warmingUp whether the window was compared with no reference yet (the warm-up is still building it);
     *     decides which "not evaluated" code an unevaluated window gets
     */
    void update(DriftReport r, boolean warmingUp) {
        int notEvaluated = warmingUp ? Metrics.DRIFT_WARMING_UP : Metrics.DRIFT_TOO_FEW_RECORDS;
        for (Statistic s : Statistic.values()) {
            DriftStatistic d = DriftReports.statistic(r, s.id);
            values.put(s, d == null ? Double.NaN : d.getValue());
            statuses.put(s, !r.getEvaluated() ? notEvaluated : d == null ? Metrics.DRIFT_OK : code(d.getStatus()));
        }
        status = r.getEvaluated() ? code(r.getStatus()) : notEvaluated;
        events = r.getEvents();
        evaluated = r.getEvaluated() ? 1 : 0;
        windowEnd = r.getWindowEnd().toEpochMilli();
        updatedAt = clock.getAsLong();
    }

    /** The status gauge's value: the latest window's code, or no data when it is stale. */
    int status() {
        return stale() ? Metrics.DRIFT_NO_DATA : status;
    }

    private boolean stale() {
        return clock.getAsLong() - updatedAt >= staleAfterMillis;
    }

    private static int code(dev.labelstream.avro.DriftStatus s) {
        switch (s) {
            case WARN:
                return Metrics.DRIFT_WARN;
            case ALERT:
                return Metrics.DRIFT_ALERT;
            default:
                return Metrics.DRIFT_OK;
        }
    }
}
