package dev.labelstream.io;

/** How input record values are encoded. */
public enum InputFormat {
    /** TextEvent (schemas/TextEvent.avsc) in Avro binary encoding. */
    AVRO,
    /** A JSON object with TextEvent's fields: {"id", "text", "text_pair", "attributes", "event_time"}. */
    JSON,
    /** The value is the text, UTF-8; the id is the key (when valid UTF-8) or topic-partition@offset. */
    RAW
}
