package dev.labelstream.job;

import dev.labelstream.io.OutboundRecord;
import dev.labelstream.shadow.AgreementObservation;

/**
 * What the shadow stage emits per sampled record: the shadow's decision for the shadow topic (null when it did not
 * score the record) and the comparison for the agreement report.
 */
record ShadowOutcome(OutboundRecord record, AgreementObservation observation) {}
