package dev.labelstream.io;

/** Why a record went to the dead-letter topic; written as DeadLetter.error_kind and a metric label. */
public enum ErrorKind {
    /** A tombstone: the record has no value. */
    NULL_VALUE,
    /** The record (key + value + headers) is larger than input.max-bytes. */
    TOO_LARGE,
    /** Not a TextEvent in Avro binary encoding (malformed, truncated, another schema). */
    BAD_AVRO,
    /** Not a JSON object. */
    BAD_JSON,
    /** The text bytes are not valid UTF-8 (including overlong encodings and lone surrogates). */
    INVALID_UTF8,
    /** A required field (id, text) is absent or null. */
    MISSING_FIELD,
    /** A field has the wrong JSON type. */
    WRONG_TYPE,
    /** The text is empty or only whitespace. */
    EMPTY_TEXT,
    /** The classifier failed on the record's batch after all retries. */
    INFERENCE_FAILED,
    /** The classifier did not answer within async.timeout after all retries. */
    INFERENCE_TIMEOUT
}
