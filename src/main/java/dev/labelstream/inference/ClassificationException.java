package dev.labelstream.inference;

/**
 * A batch the model could not classify (an ONNX Runtime error, a tokenizer error). Callers retry it or send its
 * records to dead letters; the message says which stage failed.
 */
public final class ClassificationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean timedOut;

    public ClassificationException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public ClassificationException(String message, Throwable cause, boolean timedOut) {
        super(message, cause);
        this.timedOut = timedOut;
    }

    /** True when the call was stopped at its deadline rather than failing. */
    public boolean timedOut() {
        return timedOut;
    }
}
