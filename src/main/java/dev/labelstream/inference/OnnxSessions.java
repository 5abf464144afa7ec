package dev.labelstream.inference;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import dev.labelstream.inference.InferenceOptions.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session per model file and provider setting per JVM, shared by every caller (all slots of a
 * TaskManager): {@code OrtSession.run} is thread-safe, and one CUDA session per GPU is what keeps its memory
 * arena and stream from being duplicated. Sessions are reference-counted and closed when the last user
 * releases them; {@link BatchClassifier#close()} first waits for its in-flight batches.
 *
 * <p>Nothing of a session outlives its last release: the session, its deadline timer thread and the CUDA
 * provider options are all closed, so a job cancelled in a session cluster leaves no native session and no
 * thread behind (each submission loads its own copy of this class, in its own class loader).
 */
final class OnnxSessions {
    private static final Logger LOG = LoggerFactory.getLogger(OnnxSessions.class);

    /** What makes two sessions interchangeable. */
    record Key(Path model, Provider provider, int cudaDevice, long cudaMemoryLimit, int intraOpThreads,
            boolean requireGpu) {}

    /** A session and the provider it actually runs on (CPU when CUDA fell back). */
    static final class Shared {
        private final Key key;
        final OrtSession session;
        final Provider provider;
        /**
         * The graph quantizes activations dynamically (DynamicQuantizeLinear and its fused forms, as ONNX
         * Runtime's quantize_dynamic and Optimum's quantizer write them): one scale per tensor, from the min and
         * max of the whole input, so a sequence's outputs depend on the other rows and the padding of its batch.
         */
        final boolean dynamicQuantization;
        /** Fires the deadlines of calls on this session; shut down with the session (see {@link Deadline}). */
        private final ScheduledThreadPoolExecutor timer;
        private int users;

        private Shared(Key key, OrtSession session, Provider provider) {
            this.key = key;
            this.session = session;
            this.provider = provider;
            this.timer = Deadline.timer();
            this.dynamicQuantization = quantizesDynamically(key.model());
            if (dynamicQuantization) {
                LOG.info("{} quantizes activations dynamically (per-tensor scales depend on the whole batch):"
                        + " it is run one unpadded sequence per call, so scores do not depend on the batch",
                        key.model());
            }
        }

        /** A deadline for one call on this session, {@code timeout} from now. */
        Deadline deadline(Duration timeout) {
            return new Deadline(timer, timeout);
        }

        void release() {
            OnnxSessions.release(this);
        }
    }

    private static final Map<Key, Shared> OPEN = new HashMap<>();

    private OnnxSessions() {}

    static synchronized Shared acquire(Key key) {
        Shared s = OPEN.get(key);
        if (s == null) {
            s = open(key);
            OPEN.put(key, s);
        }
        s.users++;
        return s;
    }

    /** Sessions currently open in this JVM, for leak checks. */
    static synchronized int openSessions() {
        return OPEN.size();
    }

    private static synchronized void release(Shared s) {
        if (--s.users == 0) {
            OPEN.remove(s.key);
            // Every user has closed, after its running calls: no deadline is pending.
            s.timer.shutdownNow();
            try {
                s.session.close();
            } catch (OrtException e) {
                LOG.warn("Closing the ONNX Runtime session of {} failed", s.key.model(), e);
            }
        }
    }

    private static Shared open(Key key) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        String model = key.model().toString();
        if (key.provider() == Provider.CUDA) {
            // SessionOptions.close() does not close the provider options it was given (ORT 1.23.2): the native
            // OrtCUDAProviderOptionsV2 would leak once per session opened. addCUDA copies them into the session
            // options, so they are closed here, after the session is built.
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
                    OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(key.cudaDevice())) {
                opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                // The GPU does the work; more CPU threads only contend with tokenization.
                opts.setIntraOpNumThreads(1);
                if (key.cudaMemoryLimit() > 0) {
                    cuda.add("gpu_mem_limit", Long.toString(key.cudaMemoryLimit()));
                }
                // Grow the arena by what is asked for, not by powers of two: shapes vary batch to batch.
                cuda.add("arena_extend_strategy", "kSameAsRequested");
                opts.addCUDA(cuda);
                OrtSession session = env.createSession(model, opts);
                LOG.info("ONNX Runtime session for {} runs on CUDA device {}", model, key.cudaDevice());
                return new Shared(key, session, Provider.CUDA);
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                String reason = firstLine(e);
                if (key.requireGpu()) {
                    throw new IllegalStateException("inference.require-gpu is set, but the CUDA execution"
                            + " provider could not start on device " + key.cudaDevice() + ": " + reason
                            + ". Check that a GPU is visible (nvidia-smi) and that the CUDA 12 and cuDNN 9"
                            + " libraries are on the loader path (LD_LIBRARY_PATH), or set"
                            + " inference.provider=cpu.", e);
                }
                LOG.warn("CUDA execution provider requested (inference.provider=cuda) but unavailable ({});"
                        + " falling back to CPU. Set inference.require-gpu=true to fail instead.", reason);
            }
        }
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (key.intraOpThreads() > 0) {
                opts.setIntraOpNumThreads(key.intraOpThreads());
            }
            OrtSession session = env.createSession(model, opts);
            LOG.info("ONNX Runtime session for {} runs on CPU", model);
            return new Shared(key, session, Provider.CPU);
        } catch (OrtException e) {
            throw new InvalidModelBundleException(key.model(), "ONNX Runtime cannot load this graph: "
                    + firstLine(e) + ". Re-export it (opset 11 or newer) or check the file is complete.", e);
        }
    }

    /** ONNX Runtime's private OnnxTensor.getBuffer(): a view of the tensor's own memory; null if it is gone. */
    private static final java.lang.invoke.MethodHandle VIEW = viewHandle();

    private static java.lang.invoke.MethodHandle viewHandle() {
        try {
            java.lang.reflect.Method m = ai.onnxruntime.OnnxTensor.class.getDeclaredMethod("getBuffer");
            m.setAccessible(true);
            return java.lang.invoke.MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("ONNX Runtime's tensor memory cannot be viewed ({}): outputs are copied", firstLine(e));
            return null;
        }
    }

    /**
     * A float tensor's values as a view of ONNX Runtime's own memory, valid while the tensor is open. The public
     * {@code getFloatBuffer} copies into a new heap buffer: a [batch, sequence, hidden] output is ~390 KB a record,
     * which at the GPU-feed rate was most of the garbage collector's work. Through ORT's private {@code getBuffer}
     * (onnxruntime 1.23.2 is pinned in pom.xml; {@code OutputViewTest} checks the view), else the copy.
     */
    static java.nio.FloatBuffer floats(ai.onnxruntime.OnnxTensor tensor) {
        if (VIEW != null && tensor.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
            try {
                java.nio.ByteBuffer bytes = (java.nio.ByteBuffer) VIEW.invoke(tensor);
                return bytes.order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
            } catch (Throwable e) {
                // an ORT that changed the private method's contract: the public copy is always right
            }
        }
        return tensor.getFloatBuffer();
    }

    private static final byte[] DYNAMIC_QUANTIZE = "DynamicQuantize".getBytes(StandardCharsets.US_ASCII);

    /**
     * Whether the graph has a DynamicQuantize* operator (DynamicQuantizeLinear, DynamicQuantizeMatMul,
     * DynamicQuantizeLSTM): op types are plain strings in the ONNX protobuf, so this scans the file's bytes for
     * the name rather than parsing it. A false positive would only cost batching, never correctness.
     */
    static boolean quantizesDynamically(Path model) {
        byte[] needle = DYNAMIC_QUANTIZE;
        byte[] buf = new byte[1 << 20];
        int carry = 0;
        try (InputStream in = Files.newInputStream(model)) {
            int n;
            while ((n = in.read(buf, carry, buf.length - carry)) >= 0) {
                int end = carry + n;
                outer:
                for (int i = 0; i + needle.length <= end; i++) {
                    for (int j = 0; j < needle.length; j++) {
                        if (buf[i + j] != needle[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
                carry = Math.min(needle.length - 1, end);
                System.arraycopy(buf, end - carry, buf, 0, carry);
            }
        } catch (IOException e) {
            LOG.warn("Cannot read {} to check for dynamic quantization; assuming none", model, e);
        }
        return false;
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
