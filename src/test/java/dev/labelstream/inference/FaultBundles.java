package dev.labelstream.inference;

import static dev.labelstream.inference.OnnxGraphs.FLOAT;
import static dev.labelstream.inference.OnnxGraphs.INT64;
import static dev.labelstream.inference.OnnxGraphs.attr;
import static dev.labelstream.inference.OnnxGraphs.attrInts;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A BERT-family bundle with two injected faults, for the fault-tolerance tests of other packages (this class is
 * public; the bundle builders it uses are package-private):
 *
 * <ul>
 *   <li>a <b>poison word</b>: the word embedding has fewer rows ({@value #EMBEDDING_ROWS}) than the tokenizer's
 *       vocabulary (30522), and {@value #POISON_WORD} tokenizes to id 29500, so ONNX Runtime's Gather fails
 *       ("indices element out of data bounds") for every batch that contains it;
 *   <li>a <b>slow word</b>: a Loop whose trip count is {@value #SLOW_TRIPS} when {@value #SLOW_WORD} (id 26500)
 *       is among the input ids and 0 otherwise, so a batch with that word runs until ONNX Runtime is stopped
 *       through its terminate flag, and every other batch is fast.
 * </ul>
 *
 * <pre>
 * logits = ReduceMean(Gather(embedding[29000, 2], input_ids), axis 1) + 0 * Loop(trip count, v += 1)
 * </pre>
 *
 * The tokenizer is MiniLM's WordPiece (lower-cased): use words with ids below 29000 (common English words)
 * for texts that must classify.
 */
public final class FaultBundles {
    public static final String POISON_WORD = "starbucks";
    public static final String SLOW_WORD = "liechtenstein";
    public static final java.util.List<String> LABELS = TestBundles.BERT_LABELS;
    static final int EMBEDDING_ROWS = 29_000;
    /** Trip count of the slow path: hours of Loop iterations, i.e. "until stopped". */
    static final long SLOW_TRIPS = 1L << 40;

    private FaultBundles() {}

    /** Writes the bundle into {@code dir} (created if missing) and returns {@code dir}. */
    public static Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode tok = TestTokenizers.readJson(TestTokenizers.miniLmWordPiece(dir.resolve(TestBundles.TOKENIZER)));
        long poison = TestTokenizers.tokenId(tok, POISON_WORD);
        long slow = TestTokenizers.tokenId(tok, SLOW_WORD);
        if (poison < EMBEDDING_ROWS || slow >= EMBEDDING_ROWS) {
            throw new IllegalStateException("token ids moved: " + POISON_WORD + "=" + poison + ", " + SLOW_WORD + "="
                    + slow);
        }
        OnnxGraphs.Builder g = OnnxGraphs.builder("faulty", 909);
        String ids = g.input("input_ids", INT64, "batch", "sequence");
        String emb = g.normal("embedding", 1.0, EMBEDDING_ROWS, 2);
        String gathered = g.op("Gather", emb, ids, attr("axis", 0L));
        String mean = g.op("ReduceMean", gathered, attrInts("axes", 1), attr("keepdims", 0L));

        String isSlow = g.op("ReduceMax", g.op("Cast", g.op("Equal", ids, g.scalar("slow_id", slow)),
                attr("to", (long) INT64)), attr("keepdims", 0L));
        String trips = g.op("Mul", isSlow, g.scalar("slow_trips", SLOW_TRIPS));
        String counter = g.scalar("counter_start", 0f);
        String loop = g.opNamed("loop_out", "Loop", new String[] {trips, "", counter}, body());
        String logits = g.opNamed("logits", "Add", new String[] {mean,
                g.op("Mul", loop, g.scalar("zero", 0f))});
        g.output(logits, FLOAT, "batch", 2);
        g.save(dir.resolve(TestBundles.MODEL));

        ObjectNode config = TestTokenizers.JSON.createObjectNode();
        config.put("model_type", "bert");
        config.putArray("architectures").add("BertForSequenceClassification");
        config.put("max_position_embeddings", 512);
        ObjectNode id2label = config.putObject("id2label");
        for (int i = 0; i < LABELS.size(); i++) {
            id2label.put(String.valueOf(i), LABELS.get(i));
        }
        config.put("problem_type", TestBundles.SINGLE_LABEL);
        config.put("pad_token_id", 0);
        TestTokenizers.write(config, dir.resolve(TestBundles.CONFIG));
        ObjectNode settings = TestTokenizers.JSON.createObjectNode();
        settings.put("name", "faulty");
        settings.put("version", "1");
        settings.put("max_length", 128);
        TestTokenizers.write(settings, dir.resolve(TestBundles.LABELSTREAM));
        return dir;
    }

    /** Loop body: (iteration, condition, v) -> (condition, v + 1). */
    private static AttributeProto body() {
        OnnxGraphs.Builder b = OnnxGraphs.builder("slow_body", 1);
        b.input("iteration", INT64);
        String cond = b.input("cond_in", OnnxGraphs.BOOL);
        String v = b.input("v_in", FLOAT);
        b.opNamed("cond_out", "Identity", new String[] {cond});
        b.opNamed("v_out", "Add", new String[] {v, b.scalar("one", 1f)});
        b.output("cond_out", OnnxGraphs.BOOL);
        b.output("v_out", FLOAT);
        GraphProto graph = b.build().getGraph();
        return AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(graph)
                .build();
    }

    /** ONNX Runtime sessions open in this JVM (OnnxSessions of the application class loader), for leak checks. */
    public static int openSessions() {
        return OnnxSessions.openSessions();
    }
}
