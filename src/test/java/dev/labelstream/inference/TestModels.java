package dev.labelstream.inference;

import java.io.IOException;
import java.nio.file.Path;

/** Public access to the small random-weight test bundles, for tests outside this package. */
public final class TestModels {
    private TestModels() {}

    /**
     * A tiny BERT encoder without a head (mean pooling, hidden size 32, MiniLM's WordPiece vocabulary) and a
     * linear head with labels neg, pos: a head-less bundle like the default model, so it has embeddings.
     */
    public static Path encoderOnly(Path dir) throws IOException {
        return TestBundles.bertEncoderOnly(dir);
    }

    /** A tiny BERT classifier with its own head (labels ok, toxic): no embeddings. */
    public static Path bert(Path dir) throws IOException {
        return TestBundles.bert(dir);
    }
}
