package dev.labelstream.inference;

import java.util.Objects;

/**
 * One input to classify: a text, or a pair of texts for models fine-tuned on pairs (a reply and the post it
 * answers, a claim and its evidence).
 *
 * @param text the text, or the first segment of a pair
 * @param pair the second segment, or null
 */
public record TextInput(String text, String pair) {
    public TextInput {
        Objects.requireNonNull(text, "text");
    }

    public static TextInput of(String text) {
        return new TextInput(text, null);
    }
}
