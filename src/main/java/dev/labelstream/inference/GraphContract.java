package dev.labelstream.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What labelstream feeds a graph and reads from it, checked against the bundle when a classifier opens, so a
 * graph that does not match its config fails at startup with a message naming model.onnx.
 *
 * @param feedMask the graph declares attention_mask
 * @param feedTypeIds the graph declares token_type_ids (RoBERTa and GPT-2 do not)
 * @param output the output read: logits, or last_hidden_state for head-less bundles
 */
record GraphContract(boolean feedMask, boolean feedTypeIds, String output) {
    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";
    static final String LOGITS = "logits";
    static final String LAST_HIDDEN_STATE = "last_hidden_state";
    private static final Set<String> FEEDABLE = Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

    /** @throws InvalidModelBundleException when the graph's inputs or outputs do not fit the bundle */
    static GraphContract check(ModelBundle bundle, OrtSession session) {
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            Set<String> unknown = new TreeSet<>(inputs.keySet());
            unknown.removeAll(FEEDABLE);
            if (!inputs.containsKey(INPUT_IDS) || !unknown.isEmpty()) {
                throw new InvalidModelBundleException(bundle.modelFile(), "declares inputs " + inputs.keySet()
                        + ", but labelstream feeds input_ids (required), attention_mask and token_type_ids."
                        + " Export the model for text classification without past key values or position ids.");
            }
            return new GraphContract(inputs.containsKey(ATTENTION_MASK), inputs.containsKey(TOKEN_TYPE_IDS),
                    output(bundle, session.getOutputInfo()));
        } catch (OrtException e) {
            throw new InvalidModelBundleException(bundle.modelFile(), "cannot be inspected: " + e.getMessage(), e);
        }
    }

    private static String output(ModelBundle bundle, Map<String, NodeInfo> outputs) {
        LinearHead head = bundle.scoring().head();
        if (bundle.scoring().pooling() != ModelBundle.Pooling.NONE) {
            NodeInfo hidden = outputs.get(LAST_HIDDEN_STATE);
            if (hidden == null) {
                throw new InvalidModelBundleException(bundle.modelFile(), "has no last_hidden_state output"
                        + " (outputs: " + outputs.keySet() + "), but labelstream.json sets pooling for a"
                        + " head-less encoder. Remove pooling/head, or export the base model.");
            }
            long[] shape = ((TensorInfo) hidden.getInfo()).getShape();
            if (shape.length != 3) {
                throw new InvalidModelBundleException(bundle.modelFile(), "last_hidden_state has rank "
                        + shape.length + "; expected [batch, sequence, hidden].");
            }
            if (shape[2] > 0 && shape[2] != head.hidden()) {
                throw new InvalidModelBundleException(bundle.modelFile(), "last_hidden_state is " + shape[2]
                        + " wide but the head's weight rows have " + head.hidden()
                        + " values: the head was trained for another encoder.");
            }
            return LAST_HIDDEN_STATE;
        }
        NodeInfo logits = outputs.get(LOGITS);
        if (logits == null) {
            throw new InvalidModelBundleException(bundle.modelFile(), "has no \"logits\" output (outputs: "
                    + outputs.keySet() + "). Export it with --task text-classification, or for a base encoder"
                    + " set \"pooling\" and \"head\" in labelstream.json.");
        }
        long[] shape = ((TensorInfo) logits.getInfo()).getShape();
        if (shape.length != 2) {
            throw new InvalidModelBundleException(bundle.modelFile(), "logits has rank " + shape.length
                    + "; expected [batch, labels].");
        }
        if (shape[1] > 0) {
            checkWidth(bundle, (int) shape[1]);
        }
        return LOGITS;
    }

    /** Also run on a real output when the graph's label dimension is dynamic. */
    static void checkWidth(ModelBundle bundle, int width) {
        if (width != bundle.labels().size()) {
            throw new InvalidModelBundleException(bundle.modelFile(), "logits has " + width + " labels but"
                    + " config.json id2label names " + bundle.labels().size() + " " + bundle.labels()
                    + ": they must match.");
        }
    }
}
