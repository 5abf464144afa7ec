package dev.labelstream.inference;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * The model in force: who a model bundle is, worked out once when the bundle is read (the version may hash
 * model.onnx) and then handed around as a value, so that operators, reports and decisions name the same model
 * without reading the bundle again. The job builds it at graph-build time and gives it to every operator that
 * names the model; a later model switch in a running job replaces this value (the drift monitor already keys its
 * windows by {@link #key()}), so nothing should cache what it derives from it beyond one model's lifetime.
 *
 * @param dir the bundle directory, absolute, as a string (paths are not serializable)
 * @param name labelstream.json "name", else the directory name
 * @param version labelstream.json "version", else {@code sha256:} and the first 12 hex digits of model.onnx's hash
 * @param modelType config.json model_type
 * @param family the family rule the model runs with
 * @param labels label names in the order of the model's outputs
 * @param multiLabel problem_type multi_label_classification: sigmoid per label, else softmax
 * @param maxLength tokens fed per sequence (special tokens included), after {@link InferenceOptions#MAX_LENGTH}
 */
public record ModelIdentity(String dir, String name, String version, String modelType, ModelFamily family,
        List<String> labels, boolean multiLabel, int maxLength) implements Serializable {
    private static final long serialVersionUID = 1L;

    public ModelIdentity {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(family, "family");
        labels = List.copyOf(labels);
    }

    /** {@code name@version}: how metrics and drift windows tell models apart. */
    public String key() {
        return name + "@" + version;
    }

    ModelIdentity withMaxLength(int newMaxLength) {
        return new ModelIdentity(dir, name, version, modelType, family, labels, multiLabel, newMaxLength);
    }
}
