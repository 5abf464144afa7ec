package dev.labelstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.classify.Classifier;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.moderation.Thresholds;
import dev.labelstream.policy.ModelControl;
import dev.labelstream.policy.PolicyBatcher;
import dev.labelstream.policy.PolicyDocument;
import dev.labelstream.policy.PolicyRejectedException;
import dev.labelstream.shadow.ShadowOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PromotionCheck} without a cluster: the tiny faulty bundle ("faulty@1", labels ok and toxic) is the
 * configured model, and variants of it in a temp dir are the candidates. Every way a candidate can be wrong is a
 * {@link PolicyRejectedException} naming what is wrong, never another exception (which would fail the job).
 */
class PromotionCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Configuration conf;
    static ModelIdentity configured;
    static Path v2;
    static Path threeLabels;
    /** The policy in force: the built-in one of the configured model's labels. */
    static PolicyDocument builtIn;

    @BeforeAll
    static void bundles() throws Exception {
        conf = new Configuration();
        conf.set(InferenceOptions.MODEL_DIR, FaultTestSupport.faultyModel().toString());
        configured = Classifier.check(ModelBundle.load(conf), conf);
        v2 = FaultTestSupport.faultyVariant(tmp.resolve("v2"), "2", false);
        threeLabels = FaultTestSupport.faultyVariant(tmp.resolve("three-labels"), "3", true);
        builtIn = PolicyDocument.builtIn("community", Map.of("toxic", new Thresholds(0.5, 0.9)), "default");
    }

    @Test
    void theConfiguredModelIsTheFaultyBundleVersionOne() {
        assertThat(configured.key()).isEqualTo("faulty@1");
        assertThat(configured.labels()).containsExactly("ok", "toxic");
    }

    @Test
    void aValidVariantPassesWithItsDirAndNameAtVersion() throws Exception {
        PolicyBatcher.Promoted p = check(conf, new ModelControl(v2.toString(), "2"), builtIn);
        assertThat(p).isEqualTo(new PolicyBatcher.Promoted(v2.toString(), "faulty@2"));
        // the configured bundle itself passes too, as faulty@1: the batcher then returns to the configured model
        assertThat(check(conf, new ModelControl(FaultTestSupport.faultyModel().toString(), "1"), builtIn).model())
                .isEqualTo(configured.key());
    }

    @Test
    void aVersionOtherThanTheBundlesIsRejectedNamingBoth() {
        assertRejected(conf, new ModelControl(v2.toString(), "7"), builtIn)
                .startsWith("the bundle at " + v2 + " is faulty@2, not version 7 as the promotion says");
        assertRejected(conf, new ModelControl(v2.toString(), "1"), builtIn)
                .as("the configured version, another bundle").contains("is faulty@2, not version 1");
    }

    @Test
    void otherLabelsAreRejectedNamingBothSets() {
        assertRejected(conf, new ModelControl(threeLabels.toString(), "3"), builtIn)
                .startsWith("the bundle at " + threeLabels + " (faulty@3) has labels [ok, toxic, threat], the model"
                        + " in force [ok, toxic]");
    }

    @Test
    void labelsInAnotherOrderAreOtherLabels() throws Exception {
        Path swapped = FaultTestSupport.faultyVariant(tmp.resolve("swapped"), "4", false);
        edit(swapped.resolve("config.json"), c -> {
            ((ObjectNode) c.get("id2label")).put("0", "toxic").put("1", "ok");
        });
        assertRejected(conf, new ModelControl(swapped.toString(), "4"), builtIn)
                .contains("has labels [toxic, ok], the model in force [ok, toxic]");
    }

    @Test
    void aMissingDirIsRejectedNamingIt() {
        String missing = tmp.resolve("no-such-bundle").toString();
        assertRejected(conf, new ModelControl(missing, "2"), builtIn)
                .startsWith("the bundle at " + missing + " cannot be put in force: ").contains(missing);
    }

    @Test
    void aBrokenBundleIsRejectedNeverThrown() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        Path badMeta = FaultTestSupport.faultyVariant(tmp.resolve("bad-meta"), "2", false);
        Files.writeString(badMeta.resolve("labelstream.json"), "{not json", StandardCharsets.UTF_8);
        Path badConfig = FaultTestSupport.faultyVariant(tmp.resolve("bad-config"), "2", false);
        Files.writeString(badConfig.resolve("config.json"), "[]", StandardCharsets.UTF_8);
        Path noModel = FaultTestSupport.faultyVariant(tmp.resolve("no-model"), "2", false);
        Files.delete(noModel.resolve("model.onnx"));
        Path badLength = FaultTestSupport.faultyVariant(tmp.resolve("bad-length"), "2", false);
        edit(badLength.resolve("labelstream.json"), m -> m.put("max_length", 4));
        for (Path dir : List.of(empty, file, badMeta, badConfig, noModel, badLength)) {
            assertRejected(conf, new ModelControl(dir.toString(), "2"), builtIn).as("%s", dir)
                    .startsWith("the bundle at " + dir + " cannot be put in force: ");
        }
    }

    /**
     * The tokenizer is read (a broken one is rejected); the graph is not (the check opens no session): a candidate
     * whose model.onnx does not load passes here, and the classify stage falls back to the configured model
     * (docs/shadow.md).
     */
    @Test
    void theTokenizerIsCheckedTheGraphIsNot() throws Exception {
        Path badTokenizer = FaultTestSupport.faultyVariant(tmp.resolve("bad-tokenizer"), "2", false);
        Files.delete(badTokenizer.resolve("tokenizer.json"));
        Files.writeString(badTokenizer.resolve("tokenizer.json"), "{\"model\": 1}", StandardCharsets.UTF_8);
        assertRejected(conf, new ModelControl(badTokenizer.toString(), "2"), builtIn)
                .startsWith("the bundle at " + badTokenizer + " cannot be put in force: ").contains("tokenizer.json");
        Path badGraph = FaultTestSupport.faultyVariant(tmp.resolve("bad-graph"), "2", false);
        Files.delete(badGraph.resolve("model.onnx"));
        Files.writeString(badGraph.resolve("model.onnx"), "not onnx", StandardCharsets.UTF_8);
        assertThat(check(conf, new ModelControl(badGraph.toString(), "2"), builtIn).model()).isEqualTo("faulty@2");
    }

    /** The startup checks are the job's own options against the candidate, not only the bundle's files. */
    @Test
    void theJobsOptionsAreCheckedAgainstTheCandidate() throws Exception {
        Path longer = FaultTestSupport.faultyVariant(tmp.resolve("longer"), "5", false);
        edit(longer.resolve("labelstream.json"), m -> m.put("max_length", 512));
        Configuration c = new Configuration(conf);
        c.set(InferenceOptions.TOKEN_BUDGET, 256); // fits the configured max_length 128, not 512
        ModelIdentity configuredHere = Classifier.check(ModelBundle.load(c), c);
        PromotionCheck check = new PromotionCheck(c, configuredHere);
        assertThatThrownBy(() -> check.check(new ModelControl(longer.toString(), "5"), builtIn))
                .isInstanceOf(PolicyRejectedException.class)
                .hasMessageStartingWith("the bundle at " + longer + " cannot be put in force: ")
                .hasMessageContaining(InferenceOptions.TOKEN_BUDGET.key()).hasMessageContaining("512");
        assertThat(check.check(new ModelControl(v2.toString(), "2"), builtIn).model()).isEqualTo("faulty@2");
    }

    @Test
    void theShadowWithoutAShadowModelIsRejected() {
        assertRejected(conf, new ModelControl(null, null), builtIn)
                .isEqualTo("{\"promote\": \"shadow\"} but this job has no shadow.model.dir");
    }

    @Test
    void theShadowIsTheJobsShadowModelDir() throws Exception {
        Configuration c = new Configuration(conf);
        c.set(ShadowOptions.MODEL_DIR, v2.toString());
        assertThat(check(c, new ModelControl(null, null), builtIn))
                .isEqualTo(new PolicyBatcher.Promoted(v2.toString(), "faulty@2"));
        c.set(ShadowOptions.MODEL_DIR, threeLabels.toString());
        assertRejected(c, new ModelControl(null, null), builtIn).contains("has labels [ok, toxic, threat]");
    }

    @Test
    void aPolicyInForceThatDoesNotFitIsRejected() throws Exception {
        PolicyDocument spam = PolicyDocument.parse(
                "{\"id\": \"community\", \"version\": 3, \"rules\": {\"spam\": {\"review\": 0.5, \"block\": 0.9}}}");
        assertRejected(conf, new ModelControl(v2.toString(), "2"), spam)
                .startsWith("the policy in force (community v3) does not fit faulty@2: ").contains("\"spam\"");
        PolicyDocument toxic = PolicyDocument.parse(
                "{\"id\": \"community\", \"version\": 4, \"rules\": {\"toxic\": {\"review\": 0.5, \"block\": 0.9}}}");
        assertThat(check(conf, new ModelControl(v2.toString(), "2"), toxic).model()).isEqualTo("faulty@2");
    }

    /** The check travels to every TaskManager inside the batcher: it must survive Java serialization. */
    @Test
    void theCheckIsSerializable() throws Exception {
        Configuration c = new Configuration(conf);
        c.set(ShadowOptions.MODEL_DIR, v2.toString());
        PromotionCheck copy = InstantiationUtil.clone(new PromotionCheck(c, configured));
        assertThat(copy.check(new ModelControl(null, null), builtIn).dir()).isEqualTo(v2.toString());
        assertThatThrownBy(() -> copy.check(new ModelControl(threeLabels.toString(), "3"), builtIn))
                .isInstanceOf(PolicyRejectedException.class);
    }

    @Test
    void withModelReplacesTheModelInACopy() throws Exception {
        Configuration c = dev.labelstream.settings.JobSettings.withModel(conf, "/models/x");
        assertThat(c.get(InferenceOptions.MODEL_DIR)).isEqualTo("/models/x");
        assertThat(c.getOptional(InferenceOptions.MODEL_BUILTIN)).isEmpty();
        assertThat(conf.get(InferenceOptions.MODEL_DIR)).as("the job's own configuration")
                .isEqualTo(FaultTestSupport.faultyModel().toString());
    }

    private static PolicyBatcher.Promoted check(Configuration c, ModelControl control, PolicyDocument inForce)
            throws PolicyRejectedException {
        return new PromotionCheck(c, configured).check(control, inForce);
    }

    private static org.assertj.core.api.AbstractStringAssert<?> assertRejected(Configuration c, ModelControl control,
            PolicyDocument inForce) {
        try {
            PolicyBatcher.Promoted p = check(c, control, inForce);
            throw new AssertionError(control + " passed as " + p);
        } catch (PolicyRejectedException e) {
            assertThat(e.policyId()).isNull();
            assertThat(e.version()).isEqualTo(-1);
            return assertThat(e.getMessage());
        }
    }

    private static void edit(Path json, java.util.function.Consumer<ObjectNode> change) throws Exception {
        ObjectNode n = (ObjectNode) JSON.readTree(json.toFile());
        change.accept(n);
        JSON.writeValue(json.toFile(), n);
    }
}
