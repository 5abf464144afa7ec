package dev.labelstream.drift;

import java.util.Collection;
import org.apache.flink.util.function.SerializableFunction;
import java.util.List;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Tumbling event-time windows by the element's own event time (a drift observation's {@link
 * DriftObservation#eventTime()}) (its Kafka record's
 * timestamp). The micro-batches in front of the classifier carry one timestamp per batch, so the stream record's
 * timestamp is not the record's; the watermarks are the source's, per partition, on the same Kafka timestamps.
 */
public final class ObservationTimeWindows<T> extends WindowAssigner<T, TimeWindow> {
    private static final long serialVersionUID = 1L;

    private final long size;
    private final SerializableFunction<T, Long> eventTime;

    private ObservationTimeWindows(long size, SerializableFunction<T, Long> eventTime) {
        if (size <= 0) {
            throw new IllegalArgumentException("window size must be positive");
        }
        this.size = size;
        this.eventTime = eventTime;
    }

    /** Windows of drift observations. */
    static ObservationTimeWindows<DriftObservation> ofDrift(long size) {
        return new ObservationTimeWindows<>(size, DriftObservation::eventTime);
    }

    /** Windows of {@code size} ms by each element's own event time, as the drift windows: the shadow's report. */
    public static <T> ObservationTimeWindows<T> of(long size, SerializableFunction<T, Long> eventTime) {
        return new ObservationTimeWindows<>(size, eventTime);
    }

    @Override
    public Collection<TimeWindow> assignWindows(T element, long timestamp, WindowAssignerContext context) {
        long start = TimeWindow.getWindowStartWithOffset(eventTime.apply(element), 0, size);
        return List.of(new TimeWindow(start, start + size));
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Trigger<T, TimeWindow> getDefaultTrigger() {
        return (Trigger) EventTimeTrigger.create();
    }

    @Override
    public TypeSerializer<TimeWindow> getWindowSerializer(ExecutionConfig executionConfig) {
        return new TimeWindow.Serializer();
    }

    @Override
    public boolean isEventTime() {
        return true;
    }

    @Override
    public String toString() {
        return "ObservationTimeWindows(" + size + ")";
    }
}
