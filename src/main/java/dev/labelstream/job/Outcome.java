package dev.labelstream.job;

import dev.labelstream.drift.DriftObservation;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.shadow.ShadowInput;

/**
 * What the async classifier emits per input: the output record (classified event or dead letter), for the drift
 * monitor a compact observation of the same verdict (null when drift is off), and, for a record the shadow model
 * is to score, what the shadow stage needs (null without a shadow, or when the record is not in its sample or was
 * not classified). The job splits them right after the classifier, in the same chained task.
 */
public record Outcome(OutboundRecord record, DriftObservation observation, ShadowInput shadow) {
    public Outcome(OutboundRecord record, DriftObservation observation) {
        this(record, observation, null);
    }
}
