package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;

/**
 * Where a text may be cut before tokenizing without changing what the tokenizer makes of the part that is kept.
 *
 * <p>A 960 KiB text (the default {@code input.max-bytes}) costs about 1.5 s to tokenize whole, though only its
 * first max_length tokens are used. The cut keeps a prefix that ends with a non-whitespace character followed by
 * ASCII whitespace in the text. For tokenizers whose pre-tokenizer splits at whitespace (BERT's, Whitespace,
 * Metaspace, GPT-2's ByteLevel regex) and whose normalizers act per character, the pre-tokens of such a prefix are
 * the first pre-tokens of the whole text (a word ends at the whitespace in both; a whitespace run, whose GPT-2
 * tokens depend on what follows it, is left out), so its tokens are the whole text's first tokens. This class only
 * says where; {@link TextEncoder} proves each cut sufficient (the prefix must overflow max_length, or the windows
 * cap) and grows it otherwise, so the result is the whole text's. Tokenizers it cannot vouch for are never cut.
 */
final class TextCut {
    /** Pre-tokenizers that split at whitespace, so a word never spans a whitespace character. */
    private static final Set<String> SPLITTING = Set.of("BertPreTokenizer", "Whitespace", "WhitespaceSplit",
            "Metaspace", "ByteLevel");
    /** Pre-tokenizers that only split further (any pre-token they see already ends at whitespace). */
    private static final Set<String> REFINING = Set.of("Punctuation", "Digits", "UnicodeScripts", "Split",
            "ByteLevel", "Metaspace", "BertPreTokenizer", "Whitespace", "WhitespaceSplit");
    /** Normalizers that act on each character alone (or at the text's start), never across a whitespace. */
    private static final Set<String> LOCAL = Set.of("BertNormalizer", "Lowercase", "NFD", "NFKD", "NFC", "NFKC",
            "StripAccents", "Strip", "Prepend", "Nmt", "Precompiled", "ByteLevel");
    /** Slack per token for the separators and the normalizer's changes, in characters. */
    private static final int SLACK = 2;

    /** Characters kept at first per token of max_length; 0 when the tokenizer is never cut. */
    final int charsPerToken;

    private TextCut(int charsPerToken) {
        this.charsPerToken = charsPerToken;
    }

    static TextCut of(ObjectNode tokenizer) {
        return new TextCut(cuttable(tokenizer) ? longestToken(tokenizer) + SLACK : 0);
    }

    /** Whether any text is cut at all. */
    boolean enabled() {
        return charsPerToken > 0;
    }

    /** The first bound for {@code tokens} tokens, in characters (saturating). */
    long bound(long tokens) {
        return Math.min(Integer.MAX_VALUE, tokens * charsPerToken);
    }

    /**
     * The length of the longest prefix of at most {@code limit} characters that ends before an ASCII whitespace
     * that follows a non-whitespace character, or the text's length when it is not longer than {@code limit} or
     * has no such place. A cut there is never inside a surrogate pair (the character after it is ASCII).
     */
    static int cutPoint(String text, long limit) {
        if (text.length() <= limit) {
            return text.length();
        }
        int from = (int) limit;
        for (int k = from; k > 0; k--) {
            if (isSpace(text.charAt(k)) && !isSpace(text.charAt(k - 1))) {
                return k;
            }
        }
        for (int k = from + 1; k < text.length(); k++) {
            if (isSpace(text.charAt(k)) && !isSpace(text.charAt(k - 1))) {
                return k;
            }
        }
        return text.length();
    }

    /** ASCII whitespace: every tokenizer family treats these as separators. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
    }

    /**
     * The text with unpaired surrogates replaced by U+FFFD. The native library reads Java strings as modified
     * UTF-8 and, on one unpaired surrogate, decodes the whole string lossily (every emoji becomes replacement
     * characters): replacing them first makes a text's tokens independent of what follows, as a cut needs, and
     * is what a UTF-8 decoder of the input bytes would have produced.
     */
    static String wellFormed(String text) {
        int n = text.length();
        StringBuilder out = null;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            boolean bad;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    if (out != null) {
                        out.append(c).append(text.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                bad = true;
            } else {
                bad = Character.isLowSurrogate(c);
            }
            if (bad && out == null) {
                out = new StringBuilder(n).append(text, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
            }
        }
        return out == null ? text : out.toString();
    }

    private static boolean cuttable(ObjectNode tokenizer) {
        JsonNode pre = tokenizer.path("pre_tokenizer");
        if (!splits(pre) || !localNormalizer(tokenizer.path("normalizer"))) {
            return false;
        }
        // An added token with whitespace in it could be matched across the cut.
        for (JsonNode t : tokenizer.path("added_tokens")) {
            String content = t.path("content").asText("");
            for (int i = 0; i < content.length(); i++) {
                if (Character.isWhitespace(content.charAt(i))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether the pre-tokenizer splits at whitespace before anything else can join words. */
    private static boolean splits(JsonNode pre) {
        String type = pre.path("type").asText("");
        if (type.equals("Sequence")) {
            JsonNode list = pre.path("pretokenizers");
            if (!list.isArray() || list.isEmpty()) {
                return false;
            }
            boolean first = true;
            for (JsonNode p : list) {
                String t = p.path("type").asText("");
                if (first ? !(SPLITTING.contains(t) && splits(p)) : !REFINING.contains(t)) {
                    return false;
                }
                first = false;
            }
            return true;
        }
        if (type.equals("Metaspace")) {
            return p(pre, "split", true);
        }
        if (type.equals("ByteLevel")) {
            return p(pre, "use_regex", true);
        }
        return SPLITTING.contains(type);
    }

    private static boolean p(JsonNode n, String field, boolean dflt) {
        return n.has(field) ? n.get(field).asBoolean(dflt) : dflt;
    }

    private static boolean localNormalizer(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return true;
        }
        String type = n.path("type").asText("");
        if (type.equals("Sequence")) {
            for (JsonNode m : n.path("normalizers")) {
                if (!localNormalizer(m)) {
                    return false;
                }
            }
            return true;
        }
        if (type.equals("Replace")) {
            // A pattern without whitespace cannot match across a cut made at whitespace.
            JsonNode pattern = n.path("pattern");
            String s = pattern.has("String") ? pattern.path("String").asText(null) : null;
            String c = n.path("content").asText("");
            return s != null && !s.isEmpty() && s.chars().noneMatch(Character::isWhitespace)
                    && c.chars().noneMatch(Character::isWhitespace);
        }
        return LOCAL.contains(type);
    }

    /** The longest token string of the vocabulary, in characters (at least 1). */
    private static int longestToken(ObjectNode tokenizer) {
        int longest = 1;
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Iterator<String> it = vocab.fieldNames(); it.hasNext(); ) {
                longest = Math.max(longest, it.next().length());
            }
        } else if (vocab.isArray()) {
            for (JsonNode piece : vocab) {
                longest = Math.max(longest, piece.path(0).asText("").length());
            }
        }
        return longest;
    }
}
