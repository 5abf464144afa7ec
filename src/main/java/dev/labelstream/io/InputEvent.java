package dev.labelstream.io;

import java.util.Map;

/**
 * A decoded and validated text to classify, with the record it came from (for its key, headers, position
 * and, should classification fail, its original bytes).
 *
 * @param source the Kafka record
 * @param id the producer's id of the text
 * @param text the text (first segment for pair models)
 * @param pair the second segment, or null
 * @param attributes producer metadata passed through, or null
 * @param eventTime when the text was created (ms), or null
 */
public record InputEvent(SourceRecord source, String id, String text, String pair, Map<String, String> attributes,
        Long eventTime) {

    /** UTF-8 bytes of the text and pair: the batcher's cheap token estimate reads this. */
    public int textBytes() {
        return source.value() == null ? text.length() : source.value().length;
    }
}
