package dev.labelstream.inference;

import dev.labelstream.moderation.PolicySettings;
import static dev.labelstream.inference.InferenceTestSupport.conf;
import static dev.labelstream.inference.InferenceTestSupport.copyBundle;
import static dev.labelstream.inference.InferenceTestSupport.readObject;
import static dev.labelstream.inference.InferenceTestSupport.settings;
import static dev.labelstream.inference.InferenceTestSupport.writeJson;
import static dev.labelstream.inference.OnnxGraphs.FLOAT;
import static dev.labelstream.inference.OnnxGraphs.INT64;
import static dev.labelstream.inference.OnnxGraphs.attr;
import static dev.labelstream.inference.OnnxGraphs.attrInts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per startup error of a model bundle: each message names the file at fault (its path) and the
 * problem, and a classifier that fails to open leaves no ONNX Runtime session behind.
 */
class ModelBundleErrorsTest {
    @TempDir
    static Path tmp;

    static Path bert;
    static Path encoder;
    static final AtomicInteger COPIES = new AtomicInteger();

    @BeforeAll
    static void bundles() throws Exception {
        bert = TestBundles.bert(tmp.resolve("bert"));
        encoder = TestBundles.bertEncoderOnly(tmp.resolve("encoder"));
    }

    /** A fresh copy of {@code base} to break. */
    private static Path copy(Path base) throws Exception {
        return copyBundle(base, tmp.resolve("case-" + COPIES.incrementAndGet()));
    }

    private static Path editConfig(Path dir, Consumer<ObjectNode> edit) throws Exception {
        Path file = dir.resolve(ModelBundle.CONFIG_FILE);
        ObjectNode config = readObject(file);
        edit.accept(config);
        writeJson(config, file);
        return dir;
    }

    private static void assertLoadFails(Path dir, Path fileNamed, String... problem) {
        assertThatThrownBy(() -> ModelBundle.load(dir))
                .isInstanceOf(InvalidModelBundleException.class)
                .hasMessageStartingWith(fileNamed + ": ")
                .hasMessageContainingAll(problem);
    }

    /** Loads the bundle, then fails to open a classifier on it, leaving no session open. */
    private static void assertOpenFails(Path dir, Configuration options, Class<? extends Throwable> type,
                                        String... problem) {
        ModelBundle bundle = ModelBundle.load(dir);
        int before = OnnxSessions.openSessions();
        assertThatThrownBy(() -> BatchClassifier.open(bundle, options).close())
                .isInstanceOf(type)
                .hasMessageContainingAll(problem);
        assertThat(OnnxSessions.openSessions()).as("no session leaks from a failed open").isEqualTo(before);
    }

    // ------------------------------------------------------------------ files

    @Test
    void notADirectory() throws Exception {
        Path file = Files.writeString(tmp.resolve("model.txt"), "not a bundle");
        assertLoadFails(file, file, "is not a directory", "--model", "model.dir", "model.onnx", "tokenizer.json",
                "config.json");
        Path missing = tmp.resolve("no-such-dir");
        assertLoadFails(missing, missing, "does not exist", "--model");
    }

    @Test
    void missingModelOnnx() throws Exception {
        Path dir = copy(bert);
        Files.delete(dir.resolve("model.onnx"));
        assertLoadFails(dir, dir.resolve("model.onnx"), "is missing", "ONNX graph", "optimum-cli export onnx");
    }

    @Test
    void missingTokenizerJson() throws Exception {
        Path dir = copy(bert);
        Files.delete(dir.resolve("tokenizer.json"));
        assertLoadFails(dir, dir.resolve("tokenizer.json"), "is missing", "tokenizer", "save_pretrained");
    }

    @Test
    void missingConfigJson() throws Exception {
        Path dir = copy(bert);
        Files.delete(dir.resolve("config.json"));
        assertLoadFails(dir, dir.resolve("config.json"), "is missing", "model_type, id2label, problem_type");
    }

    @Test
    void invalidJsonInConfig() throws Exception {
        Path dir = copy(bert);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\",, }");
        assertLoadFails(dir, dir.resolve("config.json"), "is not valid JSON");
        Files.writeString(dir.resolve("config.json"), "[\"bert\"]");
        assertLoadFails(dir, dir.resolve("config.json"), "must hold a JSON object");
    }

    @Test
    void invalidJsonInTokenizerOrSettings() throws Exception {
        Path dir = copy(bert);
        Files.writeString(dir.resolve("labelstream.json"), "{max_length: 128}");
        assertLoadFails(dir, dir.resolve("labelstream.json"), "is not valid JSON");
        Files.delete(dir.resolve("labelstream.json"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
        assertLoadFails(dir, dir.resolve("tokenizer.json"), "is not a Hugging Face tokenizer.json", "save_pretrained");
    }

    // ------------------------------------------------------------------ config.json

    @Test
    void missingModelType() throws Exception {
        Path dir = editConfig(copy(bert), c -> c.remove("model_type"));
        assertLoadFails(dir, dir.resolve("config.json"), "has no \"model_type\"", "bert", "gpt2");
    }

    @Test
    void unknownModelTypeListsTheSupportedOnes() throws Exception {
        Path dir = editConfig(copy(bert), c -> c.put("model_type", "t5"));
        assertLoadFails(dir, dir.resolve("config.json"), "model_type \"t5\" is not supported",
                "Supported model types: albert, bert, gpt2, roberta.", "distilbert", "xlm-roberta",
                "inference.allow-untested-model-type");
    }

    @Test
    void untestedModelTypeFailsUnlessAllowed() throws Exception {
        for (String type : List.of("llama", "distilbert", "xlnet", "modernbert")) {
            Path dir = editConfig(copy(bert), c -> c.put("model_type", type));
            assertLoadFails(dir, dir.resolve("config.json"), "model_type \"" + type + "\" is untested",
                    "tested: albert, bert, gpt2, roberta", "inference.allow-untested-model-type: true",
                    "--set inference.allow-untested-model-type=true");
        }
        // With the override, an untested encoder type runs with the encoder rule: a BERT graph classifies as BERT.
        Path dir = editConfig(copy(bert), c -> c.put("model_type", "distilbert"));
        Configuration allow = conf("inference.allow-untested-model-type", "true", "model.dir", dir.toString());
        ModelBundle untested = ModelBundle.load(allow);
        assertThat(untested.identity().family()).isEqualTo(ModelFamily.ENCODER);
        assertThat(untested.modelType()).isEqualTo("distilbert");
        try (BatchClassifier c = BatchClassifier.open(untested, allow);
                BatchClassifier b = BatchClassifier.open(ModelBundle.load(bert))) {
            List<TextInput> in = List.of(TextInput.of("you are a terrible idiot"), TextInput.of("thanks a lot"));
            assertThat(c.classify(in).results().get(0).scores())
                    .containsExactly(b.classify(in).results().get(0).scores());
        }
        // and an untested decoder type with the decoder rule
        Path llama = editConfig(copy(bert), c -> {
            c.put("model_type", "llama");
            c.put("eos_token_id", 102);
        });
        assertThat(ModelBundle.load(conf("inference.allow-untested-model-type", "true", "model.dir",
                llama.toString())).identity().family()).isEqualTo(ModelFamily.DECODER);
    }

    @Test
    void missingId2label() throws Exception {
        Path dir = editConfig(copy(bert), c -> c.remove("id2label"));
        assertLoadFails(dir, dir.resolve("config.json"), "has no \"id2label\"", "{\"0\": \"ham\", \"1\": \"spam\"}");
    }

    @Test
    void id2labelWithAGap() throws Exception {
        Path dir = editConfig(copy(bert), c -> {
            ObjectNode labels = c.putObject("id2label");
            labels.put("0", "ok");
            labels.put("2", "toxic");
        });
        assertLoadFails(dir, dir.resolve("config.json"), "id2label", "0..1", "without gaps", "found key 2");
        editConfig(dir, c -> c.putObject("id2label").put("0", "ok").put("one", "toxic"));
        assertLoadFails(dir, dir.resolve("config.json"), "id2label key \"one\" is not a number");
    }

    @Test
    void unsupportedProblemType() throws Exception {
        Path dir = editConfig(copy(bert), c -> c.put("problem_type", "regression"));
        assertLoadFails(dir, dir.resolve("config.json"), "problem_type \"regression\" is not supported",
                "single_label_classification", "multi_label_classification");
    }

    @Test
    void moreLabelsThanTheGraphHasLogits() throws Exception {
        Path dir = editConfig(copy(bert), c -> c.putObject("id2label").put("0", "ok").put("1", "toxic")
                .put("2", "spam"));
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "logits has 2 labels", "id2label names 3", "must match");
    }

    @Test
    void moreLabelsThanADynamicWidthGraphReturns() throws Exception {
        // the graph declares logits [batch, labels]: the width is found on the warm-up run
        Path dir = copy(bert);
        OnnxGraphs.Builder g = OnnxGraphs.builder("dynamic-width", 3);
        String ids = g.input("input_ids", INT64, "batch", "sequence");
        g.input("attention_mask", INT64, "batch", "sequence");
        String f = g.op("Cast", ids, attr("to", (long) FLOAT));
        String mean = g.op("ReduceMean", f, attrInts("axes", 1), attr("keepdims", 1L));
        g.opNamed("logits", "MatMul", new String[] {mean, g.normal("w", 0.01, 1, 2)});
        g.output("logits", FLOAT, "batch", "labels");
        g.save(dir.resolve("model.onnx"));
        editConfig(dir, c -> c.putObject("id2label").put("0", "a").put("1", "b").put("2", "c"));
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "logits has 2 labels", "id2label names 3");
    }

    @Test
    void graphWithoutLogitsAndNoPooling() throws Exception {
        Path dir = copy(encoder);
        Files.delete(dir.resolve("labelstream.json"));
        editConfig(dir, c -> c.putObject("id2label").put("0", "neg").put("1", "pos"));
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "has no \"logits\" output", "last_hidden_state",
                "\"pooling\" and \"head\" in labelstream.json");
    }

    @Test
    void maxLengthAboveMaxPositionEmbeddings() throws Exception {
        Path dir = settings(copy(bert), Map.of("max_length", 1024));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "max_length 1024",
                "max_position_embeddings (512)");
    }

    // ------------------------------------------------------------------ labelstream.json and the head

    @Test
    void poolingWithoutAHead() throws Exception {
        Path dir = copy(encoder);
        ObjectNode ls = readObject(dir.resolve("labelstream.json"));
        ls.remove("head");
        writeJson(ls, dir.resolve("labelstream.json"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "sets \"pooling\"", "no \"head\"");
    }

    @Test
    void poolingWithTheHeadFileMissing() throws Exception {
        Path dir = copy(encoder);
        Files.delete(dir.resolve("head.json"));
        assertLoadFails(dir, dir.resolve("head.json"), "is missing", "labelstream.json names it",
                "classification head");
    }

    @Test
    void unknownPooling() throws Exception {
        Path dir = settings(copy(encoder), Map.of("pooling", "max"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "pooling \"max\"", "cls, mean, last");
    }

    @Test
    void headWidthDiffersFromTheHiddenSize() throws Exception {
        Path dir = copy(encoder);
        ObjectNode head = readObject(dir.resolve("head.json"));
        ArrayNode weights = head.putArray("weights");
        for (int l = 0; l < 2; l++) {
            ArrayNode row = weights.addArray();
            for (int i = 0; i < 16; i++) {
                row.add(0.1);
            }
        }
        writeJson(head, dir.resolve("head.json"));
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "last_hidden_state is 32 wide",
                "the head's weight rows have 16 values", "trained for another encoder");
    }

    @Test
    void headLabelsDifferFromId2label() throws Exception {
        Path dir = editConfig(copy(encoder), c -> c.putObject("id2label").put("0", "ham").put("1", "spam"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "the head's labels [neg, pos]",
                "config.json id2label [ham, spam]");
    }

    @Test
    void headWithRaggedWeights() throws Exception {
        Path dir = copy(encoder);
        ObjectNode head = readObject(dir.resolve("head.json"));
        head.putArray("bias").add(0.0);
        writeJson(head, dir.resolve("head.json"));
        assertLoadFails(dir, dir.resolve("head.json"), "has 2 labels but 2 weight rows and 1 bias values");
    }

    /** The bundle's thresholds are the moderation package's to read: it fails on them, naming labelstream.json. */
    private static void assertPolicyFails(Path dir, String... problem) {
        ModelBundle bundle = ModelBundle.load(dir);
        assertThatThrownBy(() -> PolicySettings.bundlePolicy(bundle))
                .isInstanceOf(InvalidModelBundleException.class)
                .hasMessageStartingWith(dir.resolve("labelstream.json") + ": ")
                .hasMessageContainingAll(problem);
        assertThatThrownBy(() -> PolicySettings.check(bundle, new Configuration()))
                .isInstanceOf(InvalidModelBundleException.class)
                .hasMessageContainingAll(problem);
    }

    @Test
    void thresholdsNamingAnUnknownLabel() throws Exception {
        Path dir = settings(copy(bert), Map.of("thresholds", Map.of("spam", Map.of("review", 0.5, "block", 0.9))));
        assertPolicyFails(dir, "thresholds name label \"spam\"", "its labels are [ok, toxic]");
    }

    @Test
    void blockBelowReview() throws Exception {
        Path dir = settings(copy(bert), Map.of("thresholds", Map.of("toxic", Map.of("review", 0.9, "block", 0.5))));
        assertPolicyFails(dir, "thresholds for \"toxic\"", "block threshold 0.5 is below the review threshold 0.9");
    }

    @Test
    void paddingLeftOnAnEncoder() throws Exception {
        Path dir = settings(copy(bert), Map.of("padding_side", "left"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "padding_side left is only for decoders",
                "bert reads its first token and needs right padding");
        settings(dir, Map.of("padding_side", "middle"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "padding_side \"middle\" must be right or left");
    }

    @Test
    void windowStrideAndBucketsOutOfRange() throws Exception {
        Path dir = settings(copy(bert), Map.of("window_stride", 300));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "window_stride 300", "< max_length / 2");
        dir = settings(copy(bert), Map.of("pad_to_multiple_of", 0));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "pad_to_multiple_of must be >= 1");
        dir = settings(copy(bert), Map.of("long_text", "summarize"));
        assertLoadFails(dir, dir.resolve("labelstream.json"), "long_text \"summarize\" is not one of [truncate, windows]");
    }

    // ------------------------------------------------------------------ the graph

    @Test
    void graphInputLabelstreamCannotFeed() throws Exception {
        Path dir = copy(bert);
        OnnxGraphs.Builder g = OnnxGraphs.builder("extra-input", 1);
        String ids = g.input("input_ids", INT64, "batch", "sequence");
        g.input("attention_mask", INT64, "batch", "sequence");
        String positions = g.input("position_ids", INT64, "batch", "sequence");
        String f = g.op("Cast", g.op("Add", ids, positions), attr("to", (long) FLOAT));
        String mean = g.op("ReduceMean", f, attrInts("axes", 1), attr("keepdims", 1L));
        g.opNamed("logits", "MatMul", new String[] {mean, g.normal("w", 0.01, 1, 2)});
        g.output("logits", FLOAT, "batch", 2);
        g.save(dir.resolve("model.onnx"));
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "position_ids", "labelstream feeds input_ids (required),"
                        + " attention_mask and token_type_ids", "without past key values or position ids");
    }

    @Test
    void graphFileThatIsNotOnnx() throws Exception {
        Path dir = copy(bert);
        Files.writeString(dir.resolve("model.onnx"), "version https://git-lfs.github.com/spec/v1\n");
        assertOpenFails(dir, new Configuration(), InvalidModelBundleException.class,
                dir.resolve("model.onnx").toString(), "ONNX Runtime cannot load this graph");
    }

    // ------------------------------------------------------------------ options

    @Test
    void tokenBudgetBelowMaxLength() {
        assertOpenFails(bert, conf("inference.token-budget", "256"), IllegalArgumentException.class,
                "inference.token-budget: 256 tokens", "(512)", "inference.max-length");
        // fine once max length fits
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(bert),
                conf("inference.token-budget", "256", "inference.max-length", "256"))) {
            assertThat(c.bundle().maxLength()).isEqualTo(256);
        }
    }

    @Test
    void optionsOutOfRange() {
        assertOpenFails(bert, conf("inference.max-length", "4"), IllegalArgumentException.class,
                "inference.max-length: must be >= 8, got 4; allowed: ");
        assertOpenFails(bert, conf("inference.max-sub-batch", "0"), IllegalArgumentException.class,
                "inference.max-sub-batch: must be >= 1, got 0; allowed: ");
    }
}
