package dev.labelstream.drift;

import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.io.OutboundRecord;
import java.util.Objects;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * The decoder's dead letters as drift observations, so that the dead-letter rate counts inputs that never reached
 * the classifier. They belong to the model in force, given when the job graph is built.
 */
public final class DeadLetterObservations implements MapFunction<OutboundRecord, DriftObservation> {
    private static final long serialVersionUID = 1L;

    /** The model the observations are counted against (their drift window key). */
    private final ModelIdentity model;

    public DeadLetterObservations(ModelIdentity model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    @Override
    public DriftObservation map(OutboundRecord r) {
        return DriftObservation.unclassified(model.name(), model.version(), r.timestamp(), System.currentTimeMillis());
    }
}
