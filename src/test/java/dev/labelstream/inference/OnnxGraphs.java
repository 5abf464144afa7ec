package dev.labelstream.inference;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A small fluent builder over the ONNX protobuf classes, enough to write test transformer graphs
 * by hand: initializers (seeded random or given), nodes with auto-named outputs, graph inputs and
 * outputs with symbolic dims. Models are written with IR version 8 and the default-domain opset 17,
 * which ONNX Runtime 1.23 loads.
 */
final class OnnxGraphs {

    static final int IR_VERSION = 8;
    static final int OPSET = 17;

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int INT32 = TensorProto.DataType.INT32_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    private OnnxGraphs() {}

    static Builder builder(String graphName, long seed) {
        return new Builder(graphName, seed);
    }

    // ---- attributes ----

    static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto attrInts(String name, long... values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            b.addInts(v);
        }
        return b.build();
    }

    static final class Builder {
        private final GraphProto.Builder graph = GraphProto.newBuilder();
        private final long seed;
        private int counter;

        private Builder(String name, long seed) {
            graph.setName(name);
            this.seed = seed;
        }

        /**
         * The random source of one initializer: seeded by the graph seed and the initializer's name,
         * so a weight does not change when another one (e.g. the vocabulary-sized embedding) does.
         */
        Random random(String initializerName) {
            return new Random(seed * 1_000_003L + initializerName.hashCode());
        }

        /** A graph input; each dim is a {@code String} (symbolic, e.g. "batch") or a number. */
        String input(String name, int elemType, Object... dims) {
            graph.addInput(valueInfo(name, elemType, dims));
            return name;
        }

        /** Declares an existing value as a graph output. */
        Builder output(String name, int elemType, Object... dims) {
            graph.addOutput(valueInfo(name, elemType, dims));
            return this;
        }

        /** A float initializer drawn from N(0, std^2), seeded by {@link #random(String)}. */
        String normal(String name, double std, long... dims) {
            Random random = random(name);
            float[] values = new float[Math.toIntExact(count(dims))];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * std);
            }
            return floats(name, values, dims);
        }

        /** A float initializer around {@code center} with N(0, std^2) jitter (e.g. LayerNorm gammas). */
        String around(String name, double center, double std, long... dims) {
            Random random = random(name);
            float[] values = new float[Math.toIntExact(count(dims))];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (center + random.nextGaussian() * std);
            }
            return floats(name, values, dims);
        }

        String floats(String name, float[] values, long... dims) {
            if (values.length != count(dims)) {
                throw new IllegalArgumentException(name + ": " + values.length + " values for dims " + java.util.Arrays.toString(dims));
            }
            ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            graph.addInitializer(tensor(name, FLOAT, dims, buf));
            return name;
        }

        /** The values of a float initializer written by this builder. */
        float[] floatsOf(String name) {
            for (TensorProto t : graph.getInitializerList()) {
                if (t.getName().equals(name) && t.getDataType() == FLOAT) {
                    java.nio.FloatBuffer fb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                    float[] out = new float[fb.remaining()];
                    fb.get(out);
                    return out;
                }
            }
            throw new IllegalArgumentException("no float initializer " + name);
        }

        /** Replaces the values of an existing float initializer (same number of elements). */
        Builder replaceFloats(String name, float[] values) {
            for (int i = 0; i < graph.getInitializerCount(); i++) {
                TensorProto t = graph.getInitializer(i);
                if (t.getName().equals(name)) {
                    if (count(t.getDimsList().stream().mapToLong(Long::longValue).toArray()) != values.length) {
                        throw new IllegalArgumentException(name + ": wrong number of values " + values.length);
                    }
                    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    buf.asFloatBuffer().put(values);
                    graph.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(buf.array())));
                    return this;
                }
            }
            throw new IllegalArgumentException("no initializer " + name);
        }

        /** A float scalar (rank 0) initializer. */
        String scalar(String name, float value) {
            return floats(name, new float[] {value});
        }

        String int64s(String name, long[] values, long... dims) {
            if (values.length != count(dims)) {
                throw new IllegalArgumentException(name + ": " + values.length + " values for dims " + java.util.Arrays.toString(dims));
            }
            ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(values);
            graph.addInitializer(tensor(name, INT64, dims, buf));
            return name;
        }

        /** An int64 scalar (rank 0) initializer. */
        String scalar(String name, long value) {
            return int64s(name, new long[] {value});
        }

        /** A 1-D int64 initializer, e.g. the axes of Unsqueeze. */
        String vector(String name, long... values) {
            return int64s(name, values, values.length);
        }

        /** A node with one auto-named output; returns the output name. */
        String op(String opType, String[] inputs, AttributeProto... attrs) {
            return opNamed(opType.toLowerCase(java.util.Locale.ROOT) + "_" + (counter++), opType, inputs, attrs);
        }

        String op(String opType, String input, AttributeProto... attrs) {
            return op(opType, new String[] {input}, attrs);
        }

        String op(String opType, String a, String b, AttributeProto... attrs) {
            return op(opType, new String[] {a, b}, attrs);
        }

        /** A node whose single output has the given name (use for graph outputs). */
        String opNamed(String output, String opType, String[] inputs, AttributeProto... attrs) {
            NodeProto.Builder node = NodeProto.newBuilder()
                    .setName("n" + (counter++) + "_" + opType)
                    .setOpType(opType)
                    .addOutput(output);
            for (String in : inputs) {
                node.addInput(in);
            }
            for (AttributeProto a : attrs) {
                node.addAttribute(a);
            }
            graph.addNode(node);
            return output;
        }

        ModelProto build() {
            return ModelProto.newBuilder()
                    .setIrVersion(IR_VERSION)
                    .setProducerName("labelstream-tests")
                    .setProducerVersion("1")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .setGraph(graph.build())
                    .build();
        }

        Path save(Path file) throws IOException {
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (OutputStream out = Files.newOutputStream(file)) {
                build().writeTo(out);
            }
            return file;
        }

        private static long count(long[] dims) {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        private static TensorProto tensor(String name, int dataType, long[] dims, ByteBuffer raw) {
            TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(dataType);
            for (long d : dims) {
                t.addDims(d);
            }
            raw.rewind();
            return t.setRawData(ByteString.copyFrom(raw)).build();
        }

        private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (Object d : dims) {
                TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
                if (d instanceof String s) {
                    dim.setDimParam(s);
                } else if (d instanceof Number n) {
                    dim.setDimValue(n.longValue());
                } else {
                    throw new IllegalArgumentException("dim " + d);
                }
                shape.addDim(dim);
            }
            TypeProto type = TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))
                    .build();
            return ValueInfoProto.newBuilder().setName(name).setType(type).build();
        }
    }
}
