package dev.labelstream.inference;

/**
 * A batch the model could not classify (an ONNX Runtime error, a tokenizer error). Callers retry it or send its
 * records to dead letters; the message says which stage failed.
 */
public final class ClassificationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ClassificationException(String message, Throwable cause) {
        super(message, cause);
    }
}
