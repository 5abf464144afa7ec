package dev.labelstream.drift;

import dev.labelstream.inference.ModelBundle;
import dev.labelstream.io.OutboundRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;

/**
 * The decoder's dead letters as drift observations, so that the dead-letter rate counts inputs that never reached
 * the classifier. They belong to the model the job runs (read from the bundle on the TaskManager).
 */
public final class DeadLetterObservations extends RichMapFunction<OutboundRecord, DriftObservation> {
    private static final long serialVersionUID = 1L;

    private final Configuration conf;
    private transient String modelName;
    private transient String modelVersion;

    public DeadLetterObservations(Configuration conf) {
        this.conf = conf;
    }

    @Override
    public void open(OpenContext ctx) {
        ModelBundle bundle = ModelBundle.load(conf);
        modelName = bundle.name();
        modelVersion = bundle.version();
    }

    @Override
    public DriftObservation map(OutboundRecord r) {
        return DriftObservation.unclassified(modelName, modelVersion, r.timestamp(), System.currentTimeMillis());
    }
}
