package dev.labelstream.inference;

import java.nio.file.Path;

/**
 * A model bundle that cannot be served. The message always names the file (or setting) at fault, what is
 * wrong with it and what to do, because it is what an operator reads in a failed deployment's log.
 */
public final class InvalidModelBundleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidModelBundleException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public InvalidModelBundleException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
