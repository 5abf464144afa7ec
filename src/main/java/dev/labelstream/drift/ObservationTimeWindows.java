package dev.labelstream.drift;

import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Tumbling event-time windows by the observation's own {@link DriftObservation#eventTime()} (its Kafka record's
 * timestamp). The micro-batches in front of the classifier carry one timestamp per batch, so the stream record's
 * timestamp is not the record's; the watermarks are the source's, per partition, on the same Kafka timestamps.
 */
final class ObservationTimeWindows extends WindowAssigner<DriftObservation, TimeWindow> {
    private static final long serialVersionUID = 1L;

    private final long size;

    ObservationTimeWindows(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("window size must be positive");
        }
        this.size = size;
    }

    @Override
    public Collection<TimeWindow> assignWindows(DriftObservation element, long timestamp,
            WindowAssignerContext context) {
        long start = TimeWindow.getWindowStartWithOffset(element.eventTime(), 0, size);
        return List.of(new TimeWindow(start, start + size));
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Trigger<DriftObservation, TimeWindow> getDefaultTrigger() {
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
