package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * BERT's WordPiece tokenization (tokenizer.json with a {@code BertNormalizer}, a {@code BertPreTokenizer} and a
 * {@code WordPiece} model) in Java, for the texts where it provably gives the Hugging Face tokenizers library's
 * ids: every character in {@link #handles the range whose Unicode properties} Java 17 and the library's
 * character tables agree on (Latin, combining accents, general punctuation), and no added token's text in it.
 * Any other text is declined ({@code -1}) and goes through the library.
 *
 * <p>Why by hand: the library costs about 1 ms of CPU per 1,150-character message on this project's 2-core machine
 * (it tracks every character's alignment through normalization and returns token strings and offsets), which
 * caps what one core can feed a GPU at a few hundred messages a second; this path costs about 0.1 ms (the bench's
 * feed part measures both, 9-16x apart). Parity is a test ({@code WordPieceParityTest}: random texts and the
 * corpus against the library) and is checked again on probe texts whenever an encoder is built ({@link
 * TextEncoder}).
 *
 * <p>The rules it follows are the library's (the tokenizers crate DJL binds: {@code normalizers/bert.rs}, {@code
 * pre_tokenizers/bert.rs}, {@code models/wordpiece}): clean text (drop NUL, U+FFFD and control/format characters
 * but tab, newline and carriage return; every White_Space character becomes a space), strip accents (NFD, then
 * drop nonspacing marks; follows lowercase when unset), lowercase each character; split on White_Space (dropped)
 * and on punctuation (ASCII punctuation or a Unicode P* category, each its own word); each word longest-match-first
 * into the vocabulary, continuations prefixed, a word longer than max_input_chars_per_word or with no match is the
 * unknown token. Within the range handled every character normalizes on its own (decompositions there yield only
 * marks that are all dropped, and without accent stripping nothing is decomposed), so one table per code point
 * replaces the library's whole-string passes. Immutable, thread-safe.
 */
final class WordPieceEncoder {
    /** Below this, every code point is handled: Basic Latin to Combining Diacritical Marks (U+036F). */
    private static final int LATIN_END = 0x370;
    /** General Punctuation: smart quotes, dashes, ellipsis, the typographic spaces. */
    private static final int PUNCTUATION_START = 0x2000;
    private static final int PUNCTUATION_END = 0x2070;

    private final int unknownId;
    private final int maxWordChars;
    /** The vocabulary as two tries: word-initial pieces, and continuations (the prefix taken off). */
    private final Trie initial = new Trie();
    private final Trie continuing;
    /** Each handled code point's normalized text (empty: removed), indexed by {@link #slot}. */
    private final String[] normalized;
    /**
     * The same where it is one character, with its kind ({@link #WORD}, {@link #SPACE}, {@link #PUNCTUATION}),
     * for the loop over a text; {@link #REMOVED} and {@link #SEVERAL} otherwise.
     */
    private final char[] single;
    private final byte[] kind;
    private static final byte WORD = 0;
    private static final byte SPACE = 1;
    private static final byte PUNCTUATION = 2;
    private static final byte REMOVED = 3;
    private static final byte SEVERAL = 4;
    /** Added tokens' texts (the library matches them in the raw text before normalizing) by first character. */
    private final Map<Character, List<String>> addedByFirst;
    /** Whether an added token starts with the character: the per-character test, without boxing. */
    private final boolean[] startsAdded = new boolean[Character.MAX_VALUE + 1];

    private WordPieceEncoder(Map<String, Integer> vocab, int unknownId, String prefix, int maxWordChars,
            boolean cleanText, boolean stripAccents, boolean lowercase, List<String> added) {
        this.unknownId = unknownId;
        this.maxWordChars = maxWordChars;
        // With an empty prefix a continuation is looked up as it is, in the one vocabulary.
        this.continuing = prefix.isEmpty() ? initial : new Trie();
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String piece = e.getKey();
            if (!prefix.isEmpty() && piece.startsWith(prefix)) {
                continuing.put(piece.substring(prefix.length()), e.getValue());
            }
            initial.put(piece, e.getValue());
        }
        int slots = LATIN_END + (PUNCTUATION_END - PUNCTUATION_START);
        this.normalized = new String[slots];
        this.single = new char[slots];
        this.kind = new byte[slots];
        for (int cp = 0; cp < PUNCTUATION_END; cp = cp == LATIN_END - 1 ? PUNCTUATION_START : cp + 1) {
            String n = normalize(cp, cleanText, stripAccents, lowercase);
            int k = slot(cp);
            normalized[k] = n;
            if (n.isEmpty()) {
                kind[k] = REMOVED;
            } else if (n.length() > 1) {
                kind[k] = SEVERAL;
            } else {
                single[k] = n.charAt(0);
                kind[k] = isWhitespace(n.charAt(0)) ? SPACE : isPunctuation(n.charAt(0)) ? PUNCTUATION : WORD;
            }
        }
        this.addedByFirst = new HashMap<>();
        for (String a : added) {
            addedByFirst.computeIfAbsent(a.charAt(0), k -> new ArrayList<>()).add(a);
            startsAdded[a.charAt(0)] = true;
        }
        initial.freeze();
        if (continuing != initial) {
            continuing.freeze();
        }
    }

    /**
     * The encoder for {@code tokenizer}, or empty when it is not exactly BERT's WordPiece shape this implements
     * (another normalizer, pre-tokenizer or model; added tokens matched after normalization or with stripping
     * rules; no unknown token in the vocabulary).
     */
    static Optional<WordPieceEncoder> of(ObjectNode tokenizer) {
        JsonNode norm = tokenizer.path("normalizer");
        JsonNode pre = tokenizer.path("pre_tokenizer");
        JsonNode model = tokenizer.path("model");
        if (!"BertNormalizer".equals(norm.path("type").asText()) || !"BertPreTokenizer".equals(
                pre.path("type").asText()) || !"WordPiece".equals(model.path("type").asText())
                || !model.path("vocab").isObject()) {
            return Optional.empty();
        }
        List<String> added = new ArrayList<>();
        for (JsonNode t : tokenizer.path("added_tokens")) {
            String content = t.path("content").asText("");
            if (content.isEmpty() || t.path("normalized").asBoolean(true) || t.path("single_word").asBoolean(false)
                    || t.path("lstrip").asBoolean(false) || t.path("rstrip").asBoolean(false)) {
                return Optional.empty();
            }
            added.add(content);
        }
        Map<String, Integer> vocab = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        Integer unk = vocab.get(model.path("unk_token").asText("[UNK]"));
        if (unk == null) {
            return Optional.empty();
        }
        boolean lowercase = norm.path("lowercase").asBoolean(true);
        JsonNode strip = norm.path("strip_accents");
        boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase;
        return Optional.of(new WordPieceEncoder(vocab, unk, model.path("continuing_subword_prefix").asText("##"),
                model.path("max_input_chars_per_word").asInt(100), norm.path("clean_text").asBoolean(true),
                stripAccents, lowercase, added));
    }

    /** Whether this path handles the code point (its Unicode properties are the same in both tables). */
    static boolean handles(int cp) {
        return cp < LATIN_END || (cp >= PUNCTUATION_START && cp < PUNCTUATION_END);
    }

    private static int slot(int cp) {
        return cp < LATIN_END ? cp : LATIN_END + cp - PUNCTUATION_START;
    }

    /**
     * Writes the content ids of {@code text} (no special tokens) into {@code out}, stopping after {@code
     * out.length} ids; returns how many it wrote, {@code out.length} when the text has at least that many (more
     * pieces follow or not: the caller asks for one more than it keeps), or -1 when the text is not one this
     * path handles. Only the text up to the last word read is looked at, so a long text costs what is kept.
     */
    int encode(String text, int[] out) {
        int n = 0;
        Word word = new Word(maxWordChars);
        int len = text.length();
        for (int i = 0; i < len && n < out.length; i++) {
            char raw = text.charAt(i);
            if (!handles(raw)) {
                return -1;
            }
            if (startsAdded[raw]) {
                for (String a : addedByFirst.get(raw)) {
                    if (text.startsWith(a, i)) {
                        return -1;
                    }
                }
            }
            int k = slot(raw);
            switch (kind[k]) {
                case WORD -> word.add(single[k]);
                case SPACE -> n = pieces(word, out, n);
                case PUNCTUATION -> n = punctuation(single[k], word, out, n);
                case SEVERAL -> {
                    String norm = normalized[k];
                    for (int c = 0; c < norm.length() && n < out.length; c++) {
                        char ch = norm.charAt(c);
                        if (isWhitespace(ch)) {
                            n = pieces(word, out, n);
                        } else if (isPunctuation(ch)) {
                            n = punctuation(ch, word, out, n);
                        } else {
                            word.add(ch);
                        }
                    }
                }
                default -> { } // removed by clean_text
            }
        }
        return n < out.length ? pieces(word, out, n) : n;
    }

    /** A punctuation character ends the word before it and is a word of its own. */
    private int punctuation(char c, Word word, int[] out, int n) {
        n = pieces(word, out, n);
        if (n < out.length) {
            word.add(c);
            n = pieces(word, out, n);
        }
        return n;
    }

    /** The characters of the word being read; past max_input_chars_per_word only its length counts. */
    private static final class Word {
        private final int maxChars;
        char[] chars = new char[64];
        int length;

        Word(int maxChars) {
            this.maxChars = maxChars;
        }

        void add(char c) {
            if (length < maxChars) {
                if (length == chars.length) {
                    chars = java.util.Arrays.copyOf(chars, (int) Math.min(maxChars, 2L * chars.length));
                }
                chars[length] = c;
            }
            length++;
        }
    }

    /**
     * The pieces of the word read so far, appended to {@code out} from {@code n} as far as it has room; clears
     * the word. Longest match first, as the library's loop that shortens the candidate from its end: the longest
     * vocabulary entry that starts the rest of the word, read off the trie. A word whose rest matches nothing is
     * one unknown token, as is a word longer than max_input_chars_per_word (every character handled is one UTF-16
     * unit, so chars count characters).
     */
    private int pieces(Word word, int[] out, int n) {
        int len = word.length;
        word.length = 0;
        if (len == 0) {
            return n;
        }
        if (len > maxWordChars) {
            out[n] = unknownId;
            return n + 1;
        }
        int kept = n;
        int start = 0;
        while (start < len) {
            long match = (start == 0 ? initial : continuing).longest(word.chars, start, len);
            if (match < 0) {
                out[n] = unknownId;
                return n + 1;
            }
            if (kept < out.length) {
                out[kept] = (int) match;
            }
            kept++;
            start = (int) (match >>> 32);
        }
        return Math.min(kept, out.length);
    }

    /** A character trie of vocabulary pieces. */
    private static final class Trie {
        /** Nodes with more children than this get a direct table for the characters below {@link #DIRECT}. */
        private static final int WIDE = 16;
        private static final int DIRECT = 0x370;
        private char[] keys = new char[0];
        private Trie[] children = new Trie[0];
        private Trie[] direct;
        private int id = -1;

        /** After the last put: wide nodes (the roots have thousands of children) look up by index. */
        void freeze() {
            if (keys.length > WIDE) {
                direct = new Trie[DIRECT];
                for (int i = 0; i < keys.length && keys[i] < DIRECT; i++) {
                    direct[keys[i]] = children[i];
                }
            }
            for (Trie c : children) {
                c.freeze();
            }
        }

        void put(String piece, int pieceId) {
            Trie t = this;
            for (int i = 0; i < piece.length(); i++) {
                t = t.child(piece.charAt(i), true);
            }
            t.id = pieceId;
        }

        private Trie child(char c, boolean create) {
            if (direct != null && c < DIRECT) {
                return direct[c];
            }
            int at = java.util.Arrays.binarySearch(keys, c);
            if (at >= 0) {
                return children[at];
            }
            if (!create) {
                return null;
            }
            int insert = -at - 1;
            char[] k = new char[keys.length + 1];
            Trie[] ch = new Trie[keys.length + 1];
            System.arraycopy(keys, 0, k, 0, insert);
            System.arraycopy(children, 0, ch, 0, insert);
            k[insert] = c;
            ch[insert] = new Trie();
            System.arraycopy(keys, insert, k, insert + 1, keys.length - insert);
            System.arraycopy(children, insert, ch, insert + 1, keys.length - insert);
            keys = k;
            children = ch;
            return ch[insert];
        }

        /** The longest piece starting {@code chars[from, to)}: (its end << 32) | its id, or -1 for none. */
        long longest(char[] chars, int from, int to) {
            Trie t = this;
            long best = -1;
            for (int i = from; i < to; i++) {
                t = t.child(chars[i], false);
                if (t == null) {
                    break;
                }
                if (t.id >= 0) {
                    best = ((long) (i + 1) << 32) | t.id;
                }
            }
            return best;
        }
    }

    /** One code point's text after the library's BertNormalizer, on its own. */
    private static String normalize(int cp, boolean cleanText, boolean stripAccents, boolean lowercase) {
        String s = new String(Character.toChars(cp));
        if (cleanText) {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return "";
            }
            if (isWhitespace(cp)) {
                s = " ";
            }
        }
        if (stripAccents) {
            String d = Normalizer.normalize(s, Normalizer.Form.NFD);
            StringBuilder b = new StringBuilder(d.length());
            d.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(b::appendCodePoint);
            s = b.toString();
        }
        if (lowercase) {
            StringBuilder b = new StringBuilder(s.length());
            // Rust's char::to_lowercase is the full mapping, per character: U+0130 is its one two-character case
            // in the range handled (String.toLowerCase would also apply Greek final-sigma context).
            s.codePoints().forEach(c -> {
                if (c == 0x130) {
                    b.append("i\u0307");
                } else {
                    b.appendCodePoint(Character.toLowerCase(c));
                }
            });
            s = b.toString();
        }
        return s;
    }

    /**
     * The library's is_control: Unicode "other" but tab, newline and carriage return. Its tables come from
     * UnicodeData.txt, which lists no unassigned code point, so Cn is never "other" there (U+2065 is kept).
     */
    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                || t == Character.PRIVATE_USE;
    }

    /** Rust's char::is_whitespace: the Unicode White_Space property (Java's isWhitespace is another set). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x9 && cp <= 0xD) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    /** The library's is_bert_punc: ASCII punctuation, or a Unicode punctuation category. */
    static boolean isPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96)
                    || (cp >= 123 && cp <= 126);
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }
}
