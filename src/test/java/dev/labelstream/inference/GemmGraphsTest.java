package dev.labelstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's GEMM-rate graphs (src/main/resources/bench/): one MatMul (fp32) and one MatMulInteger (uint8 x int8
 * -> int32, the operator the int8 MiniLM's quantized layers use), both operands graph inputs so the files stay a few
 * hundred bytes. They are generated here, where the ONNX protobuf classes are, and committed; this test fails when
 * the committed files differ from what the generator writes. Regenerate with:
 *
 * <pre>
 * mvn -B test -Dtest=GemmGraphsTest -Dlabelstream.regenerate-gemm=true
 * </pre>
 */
class GemmGraphsTest {
    static final Path RESOURCES = Path.of("src", "main", "resources", "bench");

    static OnnxGraphs.Builder fp32() {
        OnnxGraphs.Builder g = OnnxGraphs.builder("gemm_fp32", 1);
        g.input("a", OnnxGraphs.FLOAT, "m", "k");
        g.input("b", OnnxGraphs.FLOAT, "k", "n");
        g.opNamed("y", "MatMul", new String[] {"a", "b"});
        return g.output("y", OnnxGraphs.FLOAT, "m", "n");
    }

    static OnnxGraphs.Builder int8() {
        OnnxGraphs.Builder g = OnnxGraphs.builder("gemm_int8", 1);
        g.input("a", TensorProto.DataType.UINT8_VALUE, "m", "k");
        g.input("b", TensorProto.DataType.INT8_VALUE, "k", "n");
        g.opNamed("y", "MatMulInteger", new String[] {"a", "b"});
        return g.output("y", OnnxGraphs.INT32, "m", "n");
    }

    @Test
    void theCommittedGemmGraphsAreWhatTheGeneratorWrites(@TempDir Path tmp) throws Exception {
        if (Boolean.getBoolean("labelstream.regenerate-gemm")) {
            fp32().save(RESOURCES.resolve("gemm-fp32.onnx"));
            int8().save(RESOURCES.resolve("gemm-int8.onnx"));
        }
        assertThat(Files.readAllBytes(fp32().save(tmp.resolve("f.onnx"))))
                .isEqualTo(Files.readAllBytes(RESOURCES.resolve("gemm-fp32.onnx")));
        assertThat(Files.readAllBytes(int8().save(tmp.resolve("i.onnx"))))
                .isEqualTo(Files.readAllBytes(RESOURCES.resolve("gemm-int8.onnx")));
    }
}
