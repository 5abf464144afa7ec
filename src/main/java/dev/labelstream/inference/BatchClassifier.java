package dev.labelstream.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Classifies batches of texts with a {@link ModelBundle} in ONNX Runtime.
 *
 * <p>A call tokenizes every input with the model's own tokenizer (family-aware special tokens and segment ids,
 * truncation or windows), sorts the sequences by length, splits them into sub-batches whose padded size (rows x
 * padded length) stays under {@link InferenceOptions#TOKEN_BUDGET}, pads each sub-batch only to its own
 * longest sequence rounded up to a multiple of the bundle's {@code pad_to_multiple_of} (so a GPU memory arena
 * sees a few shapes, not one per length), runs the model, turns logits into softmax or sigmoid scores and
 * returns one {@link Classification} per input, in input order.
 *
 * <p>Guarantees: a text's scores do not depend on the batch it is in (padding is masked, and decoders read
 * their last real token; a graph that quantizes activations dynamically, whose per-tensor scales would mix the
 * rows and padding of a batch, is run one unpadded sequence per call); the graph's inputs and outputs are
 * checked against the bundle when the classifier opens, so a mismatch fails at startup. Thread-safe: callers
 * may classify concurrently; the ONNX Runtime session is shared by all classifiers of the same model in the
 * JVM, and {@link #close()} waits for running calls before releasing it.
 *
 * <pre>{@code
 * try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(dir), new Configuration())) {
 *     ClassifiedBatch out = c.classify(List.of(TextInput.of("win a free cruise"), TextInput.of("lunch?")));
 * }
 * }</pre>
 */
public final class BatchClassifier implements AutoCloseable {
    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";
    static final String LOGITS = "logits";
    static final String LAST_HIDDEN_STATE = "last_hidden_state";
    private static final Set<String> FEEDABLE = Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

    private final ModelBundle bundle;
    private final TextEncoder encoder;
    private final OnnxSessions.Shared shared;
    /** Graph inputs, each fed only when the graph declares it (RoBERTa has no token_type_ids). */
    private final boolean feedMask;
    private final boolean feedTypeIds;
    /** The output read: logits, or last_hidden_state for head-less bundles. */
    private final String output;
    /** How sorted batches are cut into model calls and padded. */
    private final SubBatchPlan plan;
    /** Read-held by each classify call; close() takes the write side, so it waits for running calls. */
    private final ReadWriteLock inFlight = new ReentrantReadWriteLock();
    private boolean closed;

    private BatchClassifier(ModelBundle bundle, OnnxSessions.Shared shared, int tokenBudget, int maxSubBatch,
            double minEfficiency) {
        this.bundle = bundle;
        this.shared = shared;
        // Dynamically quantized graphs scale activations per tensor, over all rows and padding of a call: only
        // one unpadded sequence per call keeps a text's scores independent of its batch (on CPU it is also no
        // slower than padded batches for such models).
        // Dynamically quantized graphs scale over the whole padded batch: one unpadded sequence per call.
        this.plan = shared.dynamicQuantization
                ? new SubBatchPlan(tokenBudget, 1, 1, bundle.maxLength(), 0)
                : new SubBatchPlan(tokenBudget, maxSubBatch, bundle.padToMultipleOf(), bundle.maxLength(),
                        minEfficiency);
        try {
            Map<String, NodeInfo> inputs = shared.session.getInputInfo();
            Map<String, NodeInfo> outputs = shared.session.getOutputInfo();
            Set<String> unknown = new TreeSet<>(inputs.keySet());
            unknown.removeAll(FEEDABLE);
            if (!inputs.containsKey(INPUT_IDS) || !unknown.isEmpty()) {
                throw new InvalidModelBundleException(bundle.modelFile(), "declares inputs " + inputs.keySet()
                        + ", but labelstream feeds input_ids (required), attention_mask and token_type_ids."
                        + " Export the model for text classification without past key values or position ids.");
            }
            this.feedMask = inputs.containsKey(ATTENTION_MASK);
            this.feedTypeIds = inputs.containsKey(TOKEN_TYPE_IDS);
            this.output = chooseOutput(bundle, outputs);
            this.encoder = new TextEncoder(bundle);
        } catch (OrtException e) {
            throw new InvalidModelBundleException(bundle.modelFile(), "cannot be inspected: " + e.getMessage(), e);
        }
    }

    /**
     * Opens a classifier for {@code bundle} with the {@link InferenceOptions} in {@code options}, and runs one
     * warm-up batch that checks the graph's output width against the bundle's labels.
     *
     * @throws InvalidModelBundleException when the graph does not match the bundle
     * @throws IllegalArgumentException when an option is out of range (the message names it)
     * @throws IllegalStateException when {@code inference.require-gpu} is set and CUDA cannot start
     */
    public static BatchClassifier open(ModelBundle bundle, ReadableConfig options) {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(options, "options");
        ModelBundle b = bundle;
        if (options.getOptional(InferenceOptions.MAX_LENGTH).isPresent()
                || options.getOptional(InferenceOptions.LONG_TEXT).isPresent()
                || options.getOptional(InferenceOptions.WINDOW_AGGREGATE).isPresent()) {
            int maxLength = options.getOptional(InferenceOptions.MAX_LENGTH).orElse(bundle.maxLength());
            if (maxLength < 8) {
                throw new IllegalArgumentException(InferenceOptions.MAX_LENGTH.key() + " must be >= 8, got "
                        + maxLength);
            }
            b = bundle.withLimits(maxLength,
                    options.getOptional(InferenceOptions.LONG_TEXT).orElse(bundle.longText()),
                    options.getOptional(InferenceOptions.WINDOW_AGGREGATE).orElse(bundle.windowAggregate()));
        }
        int budget = options.get(InferenceOptions.TOKEN_BUDGET);
        if (budget < b.maxLength()) {
            throw new IllegalArgumentException(InferenceOptions.TOKEN_BUDGET.key() + " is " + budget
                    + " tokens, less than one sequence of the model's max length (" + b.maxLength()
                    + "): raise it or lower " + InferenceOptions.MAX_LENGTH.key() + ".");
        }
        int maxSub = options.get(InferenceOptions.MAX_SUB_BATCH);
        if (maxSub < 1) {
            throw new IllegalArgumentException(InferenceOptions.MAX_SUB_BATCH.key() + " must be >= 1, got " + maxSub);
        }
        long memoryLimit = options.getOptional(InferenceOptions.CUDA_MEMORY_LIMIT).map(MemorySize::getBytes)
                .orElse(0L);
        OnnxSessions.Key key = new OnnxSessions.Key(b.modelFile().toAbsolutePath().normalize(),
                options.get(InferenceOptions.PROVIDER), options.get(InferenceOptions.CUDA_DEVICE), memoryLimit,
                options.get(InferenceOptions.INTRA_OP_THREADS), options.get(InferenceOptions.REQUIRE_GPU));
        OnnxSessions.Shared shared = OnnxSessions.acquire(key);
        BatchClassifier c = null;
        try {
            c = new BatchClassifier(b, shared, budget, maxSub,
                    options.get(InferenceOptions.MIN_PADDING_EFFICIENCY));
            c.checkOutputWidth();
            return c;
        } catch (RuntimeException e) {
            if (c != null) {
                c.close();
            } else {
                shared.release();
            }
            throw e;
        }
    }

    /** Opens a classifier with default options. */
    public static BatchClassifier open(ModelBundle bundle) {
        return open(bundle, new Configuration());
    }

    private static String chooseOutput(ModelBundle bundle, Map<String, NodeInfo> outputs) {
        if (bundle.pooling() != ModelBundle.Pooling.NONE) {
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
            if (shape[2] > 0 && shape[2] != bundle.head().hidden()) {
                throw new InvalidModelBundleException(bundle.modelFile(), "last_hidden_state is " + shape[2]
                        + " wide but the head's weight rows have " + bundle.head().hidden()
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
        if (shape[1] > 0 && shape[1] != bundle.labels().size()) {
            throw new InvalidModelBundleException(bundle.modelFile(), "logits has " + shape[1] + " labels but"
                    + " config.json id2label names " + bundle.labels().size() + " " + bundle.labels()
                    + ": they must match.");
        }
        return LOGITS;
    }

    /** Labels whose width is dynamic in the graph are checked on a real run. */
    private void checkOutputWidth() {
        int width;
        try {
            width = runSubBatch(List.of(new Segment(0, 0, new long[] {bundle.padTokenId()}, new long[] {0})), null)
                    .width;
        } catch (OrtException e) {
            throw new InvalidModelBundleException(bundle.modelFile(), "fails on a one-token input: "
                    + e.getMessage(), e);
        }
        if (width != bundle.labels().size()) {
            throw new InvalidModelBundleException(bundle.modelFile(), "logits has " + width + " labels but"
                    + " config.json id2label names " + bundle.labels().size() + " " + bundle.labels()
                    + ": they must match.");
        }
    }

    public ModelBundle bundle() {
        return bundle;
    }

    /** The execution provider the session runs on: "CUDA" or "CPU" (after a fallback). */
    public String provider() {
        return shared.provider.name();
    }

    /** Padded length of a sequence of {@code length} tokens: the next multiple of the bundle's bucket size. */
    int paddedLength(int length) {
        return plan.paddedLength(length);
    }

    /**
     * Scores an embedding computed elsewhere (e.g. by another implementation of the same encoder) with this
     * bundle's head, exactly as {@link #classify} scores its own pooled embeddings: head, then softmax or sigmoid.
     *
     * @throws IllegalStateException when the bundle's graph has its own head (no pooling + head)
     */
    public Classification classifyEmbedding(float[] embedding) {
        if (bundle.head() == null) {
            throw new IllegalStateException(bundle.name() + " has its own classification head in the graph;"
                    + " only bundles with pooling + head score embeddings");
        }
        float[] scores = activate(bundle.head().apply(embedding));
        return new Classification(scores, argMax(scores), false, 0, 0, 1, embedding, provider());
    }

    /** Tokenizes without running the model; the bench uses it to time tokenization alone. */
    int countTokens(TextInput input) {
        return encoder.encode(input).tokens();
    }

    /**
     * Classifies {@code inputs}; the result holds one classification per input, in input order.
     *
     * @throws ClassificationException when tokenization or the model fails; no partial result is returned
     */
    public ClassifiedBatch classify(List<TextInput> inputs) {
        return classify(inputs, null);
    }

    /**
     * Classifies {@code inputs}, giving up at {@code timeout}: ONNX Runtime's run is stopped through its
     * terminate flag, so a timed-out call frees its thread and the GPU instead of running on unseen.
     *
     * @param timeout the most time the call may take, or null for no limit
     * @throws ClassificationException when tokenization or the model fails, or the deadline passes ({@link
     *     ClassificationException#timedOut()})
     */
    public ClassifiedBatch classify(List<TextInput> inputs, Duration timeout) {
        inFlight.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("BatchClassifier for " + bundle.name() + " is closed");
            }
            if (timeout == null) {
                return classifyOpen(inputs, null);
            }
            try (Deadline deadline = new Deadline(timeout)) {
                return classifyOpen(inputs, deadline);
            }
        } finally {
            inFlight.readLock().unlock();
        }
    }

    /** Run options whose terminate flag is raised when the time is up. */
    private static final class Deadline implements AutoCloseable {
        private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "labelstream-inference-deadline");
            t.setDaemon(true);
            return t;
        });
        final OrtSession.RunOptions options;
        private final ScheduledFuture<?> alarm;
        private boolean closed;
        private boolean expired;

        Deadline(Duration timeout) {
            try {
                options = new OrtSession.RunOptions();
            } catch (OrtException e) {
                throw new ClassificationException("cannot create ONNX Runtime run options: " + e.getMessage(), e);
            }
            alarm = TIMER.schedule(this::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        private synchronized void expire() {
            if (!closed) {
                expired = true;
                try {
                    options.setTerminate(true);
                } catch (OrtException e) {
                    // the run finishes on its own; nothing else to stop
                }
            }
        }

        synchronized boolean expired() {
            return expired;
        }

        @Override
        public synchronized void close() {
            closed = true;
            alarm.cancel(false);
            options.close();
        }
    }

    private ClassifiedBatch classifyOpen(List<TextInput> inputs, Deadline deadline) {
        long t0 = System.nanoTime();
        TextEncoder.Encoded[] encoded = new TextEncoder.Encoded[inputs.size()];
        List<Segment> segments = new ArrayList<>(inputs.size());
        for (int i = 0; i < encoded.length; i++) {
            try {
                encoded[i] = encoder.encode(inputs.get(i));
            } catch (RuntimeException e) {
                throw new ClassificationException("tokenizing input " + i + " of the batch failed: " + e, e);
            }
            for (int w = 0; w < encoded[i].windows(); w++) {
                segments.add(new Segment(i, w, encoded[i].ids()[w], encoded[i].typeIds()[w]));
            }
        }
        long tokenizeNanos = System.nanoTime() - t0;

        // Sorting by length groups similar lengths, so each sub-batch pads little.
        segments.sort((a, b) -> Integer.compare(a.ids.length, b.ids.length));
        float[][][] windowScores = new float[inputs.size()][][];
        float[][][] windowEmbeddings = bundle.pooling() == ModelBundle.Pooling.NONE ? null
                : new float[inputs.size()][][];
        for (int i = 0; i < encoded.length; i++) {
            windowScores[i] = new float[encoded[i].windows()][];
            if (windowEmbeddings != null) {
                windowEmbeddings[i] = new float[encoded[i].windows()][];
            }
        }
        long realTokens = 0;
        long paddedTokens = 0;
        long inferenceNanos = 0;
        int calls = 0;
        int[] lengths = new int[segments.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = segments.get(i).ids.length;
        }
        int start = 0;
        while (start < segments.size()) {
            int end = plan.end(lengths, start);
            List<Segment> sub = segments.subList(start, end);
            long t1 = System.nanoTime();
            SubBatchResult r;
            if (deadline != null && deadline.expired()) {
                throw new ClassificationException("deadline passed before sub-batch " + (calls + 1), null, true);
            }
            try {
                r = runSubBatch(sub, deadline == null ? null : deadline.options);
            } catch (OrtException | RuntimeException e) {
                if (deadline != null && deadline.expired()) {
                    throw new ClassificationException("ONNX Runtime was stopped at the deadline", e, true);
                }
                throw new ClassificationException("ONNX Runtime failed on a sub-batch of " + sub.size()
                        + " sequences padded to " + paddedLength(sub.get(sub.size() - 1).ids.length)
                        + " tokens: " + e.getMessage(), e);
            }
            inferenceNanos += System.nanoTime() - t1;
            calls++;
            paddedTokens += (long) sub.size() * r.paddedLength;
            for (int k = 0; k < sub.size(); k++) {
                Segment s = sub.get(k);
                realTokens += s.ids.length;
                windowScores[s.input][s.window] = r.scores[k];
                if (windowEmbeddings != null) {
                    windowEmbeddings[s.input][s.window] = r.embeddings[k];
                }
            }
            start = end;
        }

        List<Classification> results = new ArrayList<>(inputs.size());
        String provider = provider();
        for (int i = 0; i < encoded.length; i++) {
            float[] scores = aggregate(windowScores[i]);
            float[] embedding = windowEmbeddings == null ? null : meanRows(windowEmbeddings[i]);
            results.add(new Classification(scores, argMax(scores), encoded[i].truncated(), encoded[i].tokens(),
                    encoded[i].unknownTokens(), encoded[i].windows(), embedding, provider));
        }
        return new ClassifiedBatch(results, calls, realTokens, paddedTokens, tokenizeNanos, inferenceNanos,
                provider);
    }

    /** One sequence fed to the model: an input, or one window of a long input. */
    private record Segment(int input, int window, long[] ids, long[] typeIds) {}

    private record SubBatchResult(float[][] scores, float[][] embeddings, int paddedLength, int width) {}

    private SubBatchResult runSubBatch(List<Segment> sub, OrtSession.RunOptions runOptions) throws OrtException {
        int rows = sub.size();
        int longest = 0;
        for (Segment s : sub) {
            longest = Math.max(longest, s.ids.length);
        }
        int len = paddedLength(longest);
        long[] ids = new long[rows * len];
        long[] mask = new long[rows * len];
        long[] types = feedTypeIds ? new long[rows * len] : null;
        Arrays.fill(ids, bundle.padTokenId());
        for (int r = 0; r < rows; r++) {
            Segment s = sub.get(r);
            int offset = r * len + (bundle.padLeft() ? len - s.ids.length : 0);
            System.arraycopy(s.ids, 0, ids, offset, s.ids.length);
            Arrays.fill(mask, offset, offset + s.ids.length, 1L);
            if (types != null) {
                System.arraycopy(s.typeIds, 0, types, offset, s.typeIds.length);
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = {rows, len};
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feed.put(INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            if (feedMask) {
                feed.put(ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            }
            if (types != null) {
                feed.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            }
            try (OrtSession.Result result = runOptions == null
                    ? shared.session.run(feed, Set.of(output))
                    : shared.session.run(feed, Set.of(output), runOptions)) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                long[] outShape = out.getInfo().getShape();
                FloatBuffer values = out.getFloatBuffer();
                if (output.equals(LOGITS)) {
                    int width = (int) outShape[1];
                    float[][] scores = new float[rows][];
                    for (int r = 0; r < rows; r++) {
                        float[] logits = new float[width];
                        values.get(r * width, logits);
                        scores[r] = activate(logits);
                    }
                    return new SubBatchResult(scores, null, len, width);
                }
                int hidden = (int) outShape[2];
                float[][] scores = new float[rows][];
                float[][] embeddings = new float[rows][];
                for (int r = 0; r < rows; r++) {
                    embeddings[r] = pool(values, r, len, hidden, mask);
                    scores[r] = activate(bundle.head().apply(embeddings[r]));
                }
                return new SubBatchResult(scores, embeddings, len, bundle.head().labels().size());
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    /** Pools row {@code r} of a [rows, len, hidden] tensor as the bundle's pooling says. */
    private float[] pool(FloatBuffer values, int r, int len, int hidden, long[] mask) {
        float[] out = new float[hidden];
        int base = r * len;
        switch (bundle.pooling()) {
            case CLS, LAST -> {
                int pos = -1;
                for (int p = 0; p < len; p++) {
                    if (mask[base + p] == 1) {
                        pos = p;
                        if (bundle.pooling() == ModelBundle.Pooling.CLS) {
                            break;
                        }
                    }
                }
                values.get((base + pos) * hidden, out);
            }
            case MEAN -> {
                float[] row = new float[hidden];
                int n = 0;
                for (int p = 0; p < len; p++) {
                    if (mask[base + p] == 1) {
                        values.get((base + p) * hidden, row);
                        for (int h = 0; h < hidden; h++) {
                            out[h] += row[h];
                        }
                        n++;
                    }
                }
                for (int h = 0; h < hidden; h++) {
                    out[h] /= n;
                }
            }
            default -> throw new IllegalStateException("no pooling for a graph with its own head");
        }
        if (bundle.normalize()) {
            double norm = 0;
            for (float v : out) {
                norm += v * v;
            }
            float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
            for (int h = 0; h < hidden; h++) {
                out[h] *= scale;
            }
        }
        return out;
    }

    private float[] activate(float[] logits) {
        float[] p = new float[logits.length];
        if (bundle.multiLabel()) {
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (1.0 / (1.0 + Math.exp(-logits[i])));
            }
            return p;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double e = Math.exp(logits[i] - max);
            p[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (p[i] / sum);
        }
        return p;
    }

    private float[] aggregate(float[][] windows) {
        if (windows.length == 1) {
            return windows[0];
        }
        float[] out = new float[windows[0].length];
        boolean max = bundle.windowAggregate() == ModelBundle.WindowAggregate.MAX;
        if (max) {
            Arrays.fill(out, Float.NEGATIVE_INFINITY);
        }
        for (float[] w : windows) {
            for (int i = 0; i < out.length; i++) {
                out[i] = max ? Math.max(out[i], w[i]) : out[i] + w[i] / windows.length;
            }
        }
        return out;
    }

    private static float[] meanRows(float[][] rows) {
        if (rows.length == 1) {
            return rows[0];
        }
        float[] out = new float[rows[0].length];
        for (float[] r : rows) {
            for (int i = 0; i < out.length; i++) {
                out[i] += r[i] / rows.length;
            }
        }
        return out;
    }

    private static int argMax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Waits for running {@link #classify} calls, then releases the shared session. Idempotent. */
    @Override
    public void close() {
        inFlight.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            inFlight.writeLock().unlock();
        }
        encoder.close();
        shared.release();
    }
}
