package dev.labelstream.job;

import dev.labelstream.classify.Classifier;
import dev.labelstream.settings.JobSettings;
import dev.labelstream.inference.InvalidModelBundleException;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.policy.ModelControl;
import dev.labelstream.policy.PolicyBatcher;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.shadow.ShadowOptions;
import org.apache.flink.configuration.Configuration;

/**
 * The checks a promotion passes before its model is put in force, on every subtask: the startup checks {@code run}
 * gives inference.model.dir (the bundle's files, the inference and moderation options against it), the version the promotion names is the
 * bundle's, its labels are the model in force's (same names, same order: the output's scores, the policy and
 * the consumers depend on them), and the policy in force fits them. Reads the bundle's files; opens no session.
 */
final class PromotionCheck implements PolicyBatcher.ModelCheck {
    private static final long serialVersionUID = 1L;

    private final Configuration conf;
    private final ModelIdentity configured;

    PromotionCheck(Configuration conf, ModelIdentity configured) {
        this.conf = conf;
        this.configured = configured;
    }

    @Override
    public PolicyBatcher.Promoted check(ModelControl control, PolicyDocument inForce) throws PolicyRejectedException {
        String dir = control.dir();
        String version = control.version();
        if (control.shadow()) {
            dir = conf.getOptional(ShadowOptions.MODEL_DIR).orElseThrow(() -> new PolicyRejectedException(null, -1,
                    "{\"promote\": \"shadow\"} but this job has no shadow.model.dir"));
        }
        ModelIdentity m;
        try {
            Configuration c = JobSettings.withModel(conf, dir);
            m = Classifier.check(ModelBundle.load(c), c);
        } catch (InvalidModelBundleException | java.io.UncheckedIOException | IllegalArgumentException e) {
            throw new PolicyRejectedException(null, -1, "the bundle at " + dir + " cannot be put in force: "
                    + e.getMessage());
        }
        if (version != null && !version.equals(m.version())) {
            throw new PolicyRejectedException(null, -1, "the bundle at " + dir + " is " + m.key() + ", not version "
                    + version + " as the promotion says; publish the version the bundle has");
        }
        if (!m.labels().equals(configured.labels())) {
            throw new PolicyRejectedException(null, -1, "the bundle at " + dir + " (" + m.key() + ") has labels "
                    + m.labels() + ", the model in force " + configured.labels() + ": a model with other labels"
                    + " changes the output's scores, the policy and every consumer; deploy it as a new job instead");
        }
        try {
            inForce.checkFits(m.labels());
        } catch (PolicyRejectedException e) {
            throw new PolicyRejectedException(null, -1, "the policy in force (" + inForce + ") does not fit "
                    + m.key() + ": " + e.getMessage());
        }
        return new PolicyBatcher.Promoted(dir, m.key());
    }
}
