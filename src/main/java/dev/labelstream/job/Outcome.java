package dev.labelstream.job;

import dev.labelstream.drift.DriftObservation;
import dev.labelstream.io.OutboundRecord;

/**
 * What the async classifier emits per input: the output record (classified event or dead letter) and, for the
 * drift monitor, a compact observation of the same verdict (null when drift is off). The job splits the two right
 * after the classifier, in the same chained task.
 */
public record Outcome(OutboundRecord record, DriftObservation observation) {}
