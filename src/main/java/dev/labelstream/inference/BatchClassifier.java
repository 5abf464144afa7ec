package dev.labelstream.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
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
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.flink.configuration.Configuration;
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
 * <p>Its parts, one concern each: {@link InferenceSettings} (options), {@link GraphContract} (what the graph must
 * declare), {@link SubBatchPlan} (cutting a sorted batch into calls), {@link Deadline} (stopping a run in time),
 * {@link Scorer} (outputs to scores). This class is the batch path between them.
 *
 * <pre>{@code
 * try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(dir), new Configuration())) {
 *     ClassifiedBatch out = c.classify(List.of(TextInput.of("win a free cruise"), TextInput.of("lunch?")));
 * }
 * }</pre>
 */
public final class BatchClassifier implements AutoCloseable {
    private final ModelBundle bundle;
    private final TextEncoder encoder;
    private final OnnxSessions.Shared shared;
    /** Which inputs the graph takes and which output is read. */
    private final GraphContract graph;
    /** How sorted batches are cut into model calls and padded. */
    private final SubBatchPlan plan;
    /** Pooling, head, activation and window aggregation. */
    private final Scorer scorer;
    /** Read-held by each classify call; close() takes the write side, so it waits for running calls. */
    private final ReadWriteLock inFlight = new ReentrantReadWriteLock();
    private boolean closed;

    private BatchClassifier(ModelBundle bundle, OnnxSessions.Shared shared, InferenceSettings settings) {
        this.bundle = bundle;
        this.shared = shared;
        // Dynamically quantized graphs scale activations per tensor, over all rows and padding of a call: only
        // one unpadded sequence per call keeps a text's scores independent of its batch (on CPU it is also no
        // slower than padded batches for such models).
        this.plan = shared.dynamicQuantization
                ? new SubBatchPlan(settings.tokenBudget(), 1, 1, bundle.maxLength(), 0)
                : new SubBatchPlan(settings.tokenBudget(), settings.maxSubBatch(), bundle.padToMultipleOf(),
                        bundle.maxLength(), settings.minPaddingEfficiency());
        this.graph = GraphContract.check(bundle, shared.session);
        this.scorer = new Scorer(bundle.scoring(), bundle.tokenization().windowAggregate());
        this.encoder = new TextEncoder(bundle);
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
        Objects.requireNonNull(options, "options");
        return open(bundle, InferenceSettings.of(options));
    }

    /** {@link #open(ModelBundle, ReadableConfig)} with settings already read. */
    public static BatchClassifier open(ModelBundle bundle, InferenceSettings settings) {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(settings, "settings");
        settings.check(bundle);
        ModelBundle b = settings.applyTo(bundle);
        OnnxSessions.Shared shared = OnnxSessions.acquire(settings.sessionKey(b));
        BatchClassifier c = null;
        try {
            c = new BatchClassifier(b, shared, settings);
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

    /** Labels whose width is dynamic in the graph are checked on a real run. */
    private void checkOutputWidth() {
        int width;
        try {
            long pad = bundle.tokenization().padTokenId();
            width = runSubBatch(List.of(new Segment(0, 0, new long[] {pad}, new long[] {0})), null).width;
        } catch (OrtException e) {
            throw new InvalidModelBundleException(bundle.modelFile(), "fails on a one-token input: "
                    + e.getMessage(), e);
        }
        GraphContract.checkWidth(bundle, width);
    }

    /** The bundle as run: its max length and long-text handling after the options' overrides. */
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
        if (bundle.scoring().head() == null) {
            throw new IllegalStateException(bundle.name() + " has its own classification head in the graph;"
                    + " only bundles with pooling + head score embeddings");
        }
        float[] scores = scorer.scoreEmbedding(embedding);
        return new Classification(scores, Classification.topOf(scores), false, 0, 0, 1, embedding, provider());
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
            try (Deadline deadline = shared.deadline(timeout)) {
                return classifyOpen(inputs, deadline);
            }
        } finally {
            inFlight.readLock().unlock();
        }
    }

    private ClassifiedBatch classifyOpen(List<TextInput> inputs, Deadline deadline) {
        long t0 = System.nanoTime();
        TextEncoder.Encoded[] encoded = new TextEncoder.Encoded[inputs.size()];
        List<Segment> segments = new ArrayList<>(inputs.size());
        try {
            encoded = encoder.encodeAll(inputs);
        } catch (RuntimeException e) {
            throw new ClassificationException("tokenizing the batch failed: " + e, e);
        }
        for (int i = 0; i < encoded.length; i++) {
            for (int w = 0; w < encoded[i].windows(); w++) {
                segments.add(new Segment(i, w, encoded[i].ids()[w], encoded[i].typeIds()[w]));
            }
        }
        long tokenizeNanos = System.nanoTime() - t0;

        // Sorting by length groups similar lengths, so each sub-batch pads little.
        segments.sort((a, b) -> Integer.compare(a.ids.length, b.ids.length));
        float[][][] windowScores = new float[inputs.size()][][];
        float[][][] windowEmbeddings = bundle.scoring().pooling() == ModelBundle.Pooling.NONE ? null
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
            float[] scores = scorer.aggregate(windowScores[i]);
            float[] embedding = windowEmbeddings == null ? null : Scorer.meanRows(windowEmbeddings[i]);
            results.add(new Classification(scores, Classification.topOf(scores), encoded[i].truncated(), encoded[i].tokens(),
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
        long[] types = graph.feedTypeIds() ? new long[rows * len] : null;
        Arrays.fill(ids, bundle.tokenization().padTokenId());
        for (int r = 0; r < rows; r++) {
            Segment s = sub.get(r);
            int offset = r * len + (bundle.tokenization().padLeft() ? len - s.ids.length : 0);
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
            feed.put(GraphContract.INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            if (graph.feedMask()) {
                feed.put(GraphContract.ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            }
            if (types != null) {
                feed.put(GraphContract.TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            }
            try (OrtSession.Result result = runOptions == null
                    ? shared.session.run(feed, Set.of(graph.output()))
                    : shared.session.run(feed, Set.of(graph.output()), runOptions)) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                long[] outShape = out.getInfo().getShape();
                FloatBuffer values = OnnxSessions.floats(out); // a view: read before the result closes
                if (graph.output().equals(GraphContract.LOGITS)) {
                    int width = (int) outShape[1];
                    float[][] scores = new float[rows][];
                    for (int r = 0; r < rows; r++) {
                        float[] logits = new float[width];
                        values.get(r * width, logits);
                        scores[r] = scorer.activate(logits);
                    }
                    return new SubBatchResult(scores, null, len, width);
                }
                int hidden = (int) outShape[2];
                float[][] scores = new float[rows][];
                float[][] embeddings = new float[rows][];
                for (int r = 0; r < rows; r++) {
                    embeddings[r] = scorer.pool(values, r, len, hidden, mask);
                    scores[r] = scorer.scoreEmbedding(embeddings[r]);
                }
                return new SubBatchResult(scores, embeddings, len, bundle.labels().size());
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
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
