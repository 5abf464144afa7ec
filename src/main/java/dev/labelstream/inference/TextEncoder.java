package dev.labelstream.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns a {@link TextInput} into the token ids a model is fed, with the model's own tokenizer.json (through
 * DJL's binding of the Hugging Face tokenizers library) applying its special-token template: {@code [CLS] a
 * [SEP] b [SEP]} with segment ids 0/1 for BERT and ALBERT, {@code <s> a </s></s> b </s>} for RoBERTa, {@code a
 * <|endoftext|> b} for GPT-2 (see {@link TokenizerFiles#installPairDelimiter}). Texts longer than max_length
 * are truncated, longest segment first, or split into overlapping windows. Thread-safe: the native tokenizer
 * is immutable once built.
 */
final class TextEncoder implements AutoCloseable {
    /**
     * DJL's JNI binding, internal to DJL: {@code Encoding} fetches token strings, character spans, word ids and
     * masks per call, of which the model needs only the ids (the mask is all ones before padding). Pinned with
     * ai.djl.huggingface:tokenizers 0.38.0 in pom.xml; {@code TextEncoderJniTest} checks it against Encoding.
     */
    private static final TokenizersLibrary LIB = TokenizersLibrary.LIB;

    /** The ids of one input: one row per window (a single row unless the text was split). */
    record Encoded(long[][] ids, long[][] typeIds, boolean truncated, int tokens, int unknownTokens) {
        int windows() {
            return ids.length;
        }
    }

    private final HuggingFaceTokenizer truncating;
    /** Splits long single texts into windows; null when the bundle truncates. */
    private final HuggingFaceTokenizer windowing;
    private final long unknownId;
    /** Native handles of the two tokenizers, for reading ids without DJL's per-token objects. */
    private final long truncatingHandle;
    private final long windowingHandle;
    private final int maxLength;
    private final int windowStride;
    /** Windows kept of a long text; the rest is dropped and the text marked truncated. */
    private final int maxWindows;
    /** Where texts are cut before tokenizing. */
    private final TextCut cut;
    /** Tokens the pair template adds, and the content budget of a pair. */
    private final int singleSpecials;
    private final int pairBudget;
    /** tokenizer.json as given to the native library. */
    private final byte[] json;
    /** Untruncated, for counting the tokens of pairs' segments; null until needed. */
    private HuggingFaceTokenizer counting;
    /** Whether no input can make the tokenizer fail, so one native batch call cannot abort the JVM. */
    private final boolean batchSafe;
    /** The path before the cut and the batch call (whole texts through DJL's Encoding), for the bench. */
    private final boolean legacy;
    /** BERT WordPiece in Java for the texts it handles exactly; null for other tokenizers and for windows. */
    private final WordPiecePath wordPiece;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TextEncoder.class);

    static {
        // DJL's HuggingFaceTokenizer.newInstance calls Ec2Utils.callHome (cloud metadata address + telemetry URL)
        // unless OPT_OUT_TRACKING is set: every tokenizer is built here, so this opts out before the first one.
        System.setProperty("OPT_OUT_TRACKING", "true");
    }

    /**
     * System property that selects the path before the cut and the batch call, so the bench can measure both in
     * one run; not an option: it exists for that comparison only.
     */
    static final String LEGACY_PROPERTY = "labelstream.tokenization.legacy";

    TextEncoder(ModelBundle bundle) {
        this(bundle, Boolean.getBoolean(LEGACY_PROPERTY));
    }

    TextEncoder(ModelBundle bundle, boolean legacy) {
        ModelBundle.Tokenization t = bundle.tokenization();
        this.legacy = legacy;
        this.maxLength = t.maxLength();
        this.windowStride = t.windowStride();
        this.maxWindows = t.maxWindows();
        this.cut = TextCut.of(t.tokenizerJson());
        this.batchSafe = cannotFail(t.tokenizerJson());
        this.json = t.tokenizerJson().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.truncating = build(json, t.maxLength(), 0, false);
        this.windowing = t.longText() == ModelBundle.LongText.WINDOWS
                ? build(json, t.maxLength(), t.windowStride(), true)
                : null;
        this.unknownId = TokenizerFiles.unknownTokenId(t.tokenizerJson());
        this.truncatingHandle = truncating.getHandle();
        this.windowingHandle = windowing == null ? 0 : windowing.getHandle();
        this.singleSpecials = read(LIB.encode(truncatingHandle, "", true)).ids.length;
        this.pairBudget = maxLength - pairSpecials();
        this.wordPiece = legacy || windowing != null ? null : wordPiecePath(t.tokenizerJson());
    }

    /**
     * The Java WordPiece path, when the tokenizer is BERT's WordPiece ({@link WordPieceEncoder#of}): the special
     * tokens the template puts around a text are read from the library (around a probe word), and the path is
     * checked against the library on probe texts (accents, punctuation, every kind of space, long words,
     * truncation); any difference turns it off, with a warning, and every text goes through the library.
     */
    private WordPiecePath wordPiecePath(com.fasterxml.jackson.databind.node.ObjectNode tokenizer) {
        WordPieceEncoder encoder = WordPieceEncoder.of(tokenizer).orElse(null);
        if (encoder == null) {
            return null;
        }
        int budget = maxLength - singleSpecials;
        int[] probe = new int[2];
        Read around = read(LIB.encode(truncatingHandle, "a", true));
        if (budget < 1 || encoder.encode("a", probe) != 1 || around.ids.length != singleSpecials + 1) {
            return null;
        }
        int at = -1;
        for (int k = 0; k < around.ids.length && at < 0; k++) {
            if (around.ids[k] == probe[0]) {
                at = k;
            }
        }
        for (long type : around.typeIds) {
            if (type != 0) {
                return null;
            }
        }
        if (at < 0) {
            return null;
        }
        WordPiecePath path = new WordPiecePath(encoder, java.util.Arrays.copyOfRange(around.ids, 0, at),
                java.util.Arrays.copyOfRange(around.ids, at + 1, around.ids.length), budget);
        String words = "word ".repeat(maxLength + 2);
        for (String text : new String[] {"Hello, World! \u00dcn\u00efc\u00f6d\u00e9 caf\u00e9 NA\u00cfVE \u2014 \u201cquoted\u201d"
                + " \u2026 x-ray's 3.14 $5 #tag @you", "tab\tnew\nline\r\u00a0nbsp\u2003em\u200bzero\u00adsoft\u0000nul\u0007bel",
                "a".repeat(101) + " " + "b".repeat(100) + " supercalifragilisticexpialidocious", words, "",
                " \t "}) {
            Encoded fast = path.encode(text);
            Encoded lib = single(read(LIB.encode(truncatingHandle, text, true)));
            if (fast != null && !(java.util.Arrays.equals(fast.ids()[0], lib.ids()[0])
                    && java.util.Arrays.equals(fast.typeIds()[0], lib.typeIds()[0])
                    && fast.truncated() == lib.truncated())) {
                LOG.warn("The Java WordPiece tokenization differs from the tokenizers library's on a probe text"
                        + " ({} chars); every text goes through the library, at about 1 ms of CPU per message",
                        text.length());
                return null;
            }
        }
        return path;
    }

    /** Whether single texts go through the Java WordPiece path where it handles them. */
    boolean javaWordPiece() {
        return wordPiece != null;
    }

    /** The Java WordPiece path and the template around its ids. */
    private final class WordPiecePath {
        private final WordPieceEncoder encoder;
        private final long[] before;
        private final long[] after;
        private final int budget;

        WordPiecePath(WordPieceEncoder encoder, long[] before, long[] after, int budget) {
            this.encoder = encoder;
            this.before = before;
            this.after = after;
            this.budget = budget;
        }

        /** The truncating encoding of a single text, or null when the Java path does not handle it. */
        Encoded encode(String text) {
            int[] content = new int[budget + 1];
            int n = encoder.encode(text, content);
            if (n < 0) {
                return null;
            }
            int kept = Math.min(n, budget);
            long[] ids = new long[before.length + kept + after.length];
            System.arraycopy(before, 0, ids, 0, before.length);
            for (int i = 0; i < kept; i++) {
                ids[before.length + i] = content[i];
            }
            System.arraycopy(after, 0, ids, before.length + kept, after.length);
            return new Encoded(new long[][] {ids}, new long[][] {new long[ids.length]}, n > budget, ids.length,
                    countUnknown(ids));
        }
    }

    private int pairSpecials() {
        return read(LIB.encodeDual(truncatingHandle, "", "", true)).ids.length;
    }

    /**
     * Whether the model can encode any well-formed text without an error: WordPiece and WordLevel with their
     * unknown token in the vocabulary, Unigram with an unk_id, BPE without an unknown token or with one in the
     * vocabulary. (Normalizers and pre-tokenizers do not fail on text; truncation errors are settings the bundle
     * reader already refuses.) Anything else goes one text per native call, where an error is an exception.
     */
    private static boolean cannotFail(com.fasterxml.jackson.databind.node.ObjectNode tokenizer) {
        com.fasterxml.jackson.databind.JsonNode model = tokenizer.path("model");
        String type = model.path("type").asText("");
        String unk = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        return switch (type) {
            case "WordPiece", "WordLevel" -> unk != null && TokenizerFiles.tokenId(tokenizer, unk).isPresent();
            case "Unigram" -> model.path("unk_id").canConvertToLong();
            case "BPE" -> unk == null || TokenizerFiles.tokenId(tokenizer, unk).isPresent();
            default -> false;
        };
    }

    private static HuggingFaceTokenizer build(byte[] json, int maxLength, int stride, boolean overflow) {
        return build(json, maxLength, stride, overflow, true);
    }

    private static HuggingFaceTokenizer build(byte[] json, int maxLength, int stride, boolean overflow,
            boolean truncate) {
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("truncation", truncate ? "longest_first" : "false");
        options.put("padding", "false");
        options.put("maxLength", Integer.toString(maxLength));
        // DJL caps maxLength at its "modelMaxLength" option, 512 unless set: without this, a bundle's
        // max_length above 512 (GPT-2 has 1024 positions) would silently truncate at 512.
        options.put("modelMaxLength", Integer.toString(maxLength));
        options.put("stride", Integer.toString(stride));
        options.put("withOverflowingTokens", Boolean.toString(overflow));
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Encodes one input. Before the text reaches the native library it is made well-formed UTF-16 ({@link
     * TextCut#wellFormed}) and cut ({@link TextCut}) at a bound derived from max_length (for windows: from
     * max_windows), and the cut is checked: when the cut text does not overflow what is kept, the cut grows
     * fourfold, up to the whole text, so the ids, lengths and truncation flag are exactly the whole text's.
     */
    Encoded encode(TextInput input) {
        if (legacy) {
            return encodeWhole(input);
        }
        if (wordPiece != null && input.pair() == null && input.text() != null) {
            Encoded fast = wordPiece.encode(input.text());
            if (fast != null) {
                return fast;
            }
        }
        String text = TextCut.wellFormed(input.text());
        if (input.pair() != null) {
            return encodePair(text, TextCut.wellFormed(input.pair()));
        }
        if (windowing == null) {
            return encodeTruncated(text, (long) maxLength + 1);
        }
        return encodeWindows(text);
    }

    /**
     * Encodes a batch of single texts (pairs and windows go one by one), in order. The truncating tokenizer
     * encodes all cut texts in one native call where no input can make it fail: the library's batch call
     * unwraps its errors in Rust, which aborts the JVM where the per-record call throws (see {@link
     * #batchSafe}).
     */
    Encoded[] encodeAll(java.util.List<TextInput> inputs) {
        Encoded[] out = new Encoded[inputs.size()];
        for (int i = 0; i < out.length; i++) {
            // Checked before the batch call: the native side must only ever get texts it can take, and a bad
            // input is named by its position, as on the per-record path.
            if (inputs.get(i) == null || inputs.get(i).text() == null) {
                throw new IllegalArgumentException("input " + i + ": no text");
            }
        }
        if (legacy || windowing != null || !batchSafe || inputs.size() < 2) {
            for (int i = 0; i < out.length; i++) {
                out[i] = encodeOne(inputs, i);
            }
            return out;
        }
        int singles = 0;
        for (int i = 0; i < out.length; i++) {
            TextInput in = inputs.get(i);
            if (in.pair() == null && wordPiece != null) {
                out[i] = wordPiece.encode(in.text());
            }
            if (in.pair() == null && out[i] == null) {
                singles++;
            }
        }
        String[] texts = new String[singles];
        String[] cut = new String[singles];
        int[] at = new int[singles];
        int k = 0;
        for (int i = 0; i < out.length; i++) {
            TextInput in = inputs.get(i);
            if (out[i] != null) {
                continue;
            }
            if (in.pair() == null) {
                texts[k] = TextCut.wellFormed(in.text());
                cut[k] = prefix(texts[k], (long) maxLength + 1);
                at[k++] = i;
            } else {
                out[i] = encodeOne(inputs, i);
            }
        }
        if (singles == 0) {
            return out;
        }
        long[] handles = LIB.batchEncode(truncatingHandle, cut, true);
        try {
            for (int j = 0; j < singles; j++) {
                long h = handles[j];
                handles[j] = 0;
                Read r = read(h);
                if (r.overflowed || cut[j].length() == texts[j].length()) {
                    out[at[j]] = single(r);
                } else {
                    // The cut did not reach past max_length (whitespace runs, long unknown words): grow it.
                    out[at[j]] = encodeTruncated(texts[j], (long) maxLength + 1, 4L * cut[j].length());
                }
            }
        } finally {
            for (long h : handles) {
                if (h != 0) {
                    LIB.deleteEncoding(h);
                }
            }
        }
        return out;
    }

    private Encoded encodeOne(java.util.List<TextInput> inputs, int i) {
        try {
            return encode(inputs.get(i));
        } catch (RuntimeException e) {
            throw new IllegalStateException("input " + i + ": " + e.getMessage(), e);
        }
    }

    /** The ids, type ids and overflow flag of one native encoding, which this deletes. */
    private record Read(long[] ids, long[] typeIds, boolean overflowed) {}

    private static Read read(long handle) {
        try {
            return new Read(LIB.getTokenIds(handle), LIB.getTypeIds(handle), LIB.getOverflowCount(handle) > 0);
        } finally {
            LIB.deleteEncoding(handle);
        }
    }

    private Encoded single(Read r) {
        return new Encoded(new long[][] {r.ids}, new long[][] {r.typeIds}, r.overflowed, r.ids.length,
                countUnknown(r.ids));
    }

    /** The prefix of {@code text} kept for {@code tokens} tokens at first. */
    private String prefix(String text, long tokens) {
        return cut.enabled() ? text.substring(0, TextCut.cutPoint(text, cut.bound(tokens))) : text;
    }

    private Encoded encodeTruncated(String text, long tokens) {
        return encodeTruncated(text, tokens, cut.bound(tokens));
    }

    /** The truncating encoding of {@code text}, from a cut of {@code limit} characters grown until proven. */
    private Encoded encodeTruncated(String text, long tokens, long limit) {
        while (true) {
            String part = cut.enabled() ? text.substring(0, TextCut.cutPoint(text, limit)) : text;
            Read r = read(LIB.encode(truncatingHandle, part, true));
            if (r.overflowed || part.length() == text.length()) {
                return single(r);
            }
            limit *= 4;
        }
    }

    /**
     * Longest-first truncation of a pair depends on both lengths: each segment is cut only where the pair's
     * result provably does not change, checked with the single-text tokenizer (a cut segment must overflow
     * max_length on its own, so it holds more than the pair's budget). With an odd budget and both segments
     * over it, the extra token goes to the longer segment (the second on a tie): then both whole texts are
     * counted (without truncation, so without the library's overflow pieces) and the cut of the longer one grows
     * until it is the longer of the two cuts too.
     *
     * <p>Never the two whole texts: the library crosses the overflow pieces of both segments (n1 x n2
     * encodings), which for two long texts exhausts the memory of the JVM (measured: 18 GB for two texts of a
     * few hundred KB at max_length 17).
     */
    private Encoded encodePair(String a, String b) {
        String ca = pairSegment(a);
        String cb = pairSegment(b);
        boolean cutA = ca.length() < a.length();
        boolean cutB = cb.length() < b.length();
        if ((cutA || cutB) && pairBudget % 2 == 1 && contentTokens(ca) > pairBudget / 2
                && contentTokens(cb) > pairBudget / 2) {
            boolean firstLonger = counted(a) > counted(b);
            long limit = Math.max(ca.length(), cb.length());
            while (firstLonger ? counted(ca) <= counted(cb) : counted(cb) < counted(ca)) {
                limit *= 4;
                if (firstLonger) {
                    ca = a.substring(0, TextCut.cutPoint(a, limit));
                } else {
                    cb = b.substring(0, TextCut.cutPoint(b, limit));
                }
            }
        }
        return single(read(LIB.encodeDual(truncatingHandle, ca, cb, true)));
    }

    /** Tokens of a whole text, without special tokens and without truncation. */
    private long counted(String text) {
        return read(LIB.encode(countingHandle(), text, false)).ids.length;
    }

    /** The untruncated tokenizer, made on first use: only pairs with an odd budget and two long segments need it. */
    private synchronized long countingHandle() {
        if (counting == null) {
            counting = build(json, Integer.MAX_VALUE / 2, 0, false, false);
        }
        return counting.getHandle();
    }

    /** A segment cut so that alone it overflows max_length, or whole. */
    private String pairSegment(String text) {
        if (!cut.enabled()) {
            return text;
        }
        long limit = cut.bound((long) maxLength + 1);
        while (true) {
            String part = text.substring(0, TextCut.cutPoint(text, limit));
            if (part.length() == text.length()) {
                return part;
            }
            if (read(LIB.encode(truncatingHandle, part, true)).overflowed) {
                return part;
            }
            limit *= 4;
        }
    }

    /** Tokens of a text without special tokens, up to max_length; more than the pair budget otherwise. */
    private long contentTokens(String text) {
        Read r = read(LIB.encode(truncatingHandle, text, true));
        return r.overflowed ? Long.MAX_VALUE : r.ids.length - singleSpecials;
    }

    /**
     * Windows beyond max_windows are dropped (the text is marked truncated): a 960 KiB text would otherwise be
     * ~500 windows, each a model call. A cut is proven when it yields more than max_windows windows, since then
     * the kept windows lie inside the cut's tokens, which are the whole text's first tokens.
     */
    private Encoded encodeWindows(String text) {
        long tokens = (long) maxWindows * Math.max(1, maxLength - windowStride) + maxLength + 1;
        long limit = cut.bound(tokens);
        while (true) {
            String part = cut.enabled() ? text.substring(0, TextCut.cutPoint(text, limit)) : text;
            long first = LIB.encode(windowingHandle, part, true);
            long[] overflow;
            Read head;
            try {
                overflow = LIB.getOverflowing(first);
            } finally {
                head = read(first);
            }
            int n = 1 + overflow.length;
            boolean whole = part.length() == text.length();
            if (!whole && n <= maxWindows) {
                for (long h : overflow) {
                    LIB.deleteEncoding(h);
                }
                limit *= 4;
                continue;
            }
            int kept = Math.min(n, maxWindows);
            long[][] ids = new long[kept][];
            long[][] types = new long[kept][];
            ids[0] = head.ids;
            types[0] = head.typeIds;
            for (int i = 1; i < n; i++) {
                if (i < kept) {
                    Read w = read(overflow[i - 1]);
                    ids[i] = w.ids;
                    types[i] = w.typeIds;
                } else {
                    LIB.deleteEncoding(overflow[i - 1]);
                }
            }
            int total = 0;
            int unknown = 0;
            for (long[] w : ids) {
                total += w.length;
                unknown += countUnknown(w);
            }
            return new Encoded(ids, types, n > 1 || head.overflowed, total, unknown);
        }
    }

    /**
     * The encoding before the cut and the batch path: the whole text through DJL's {@link Encoding}, which
     * also copies token strings, character spans, word ids and masks across JNI. Kept as the reference that
     * the tests and the bench compare against.
     */
    Encoded encodeWhole(TextInput input) {
        if (input.pair() != null) {
            // Windows of a pair have no agreed meaning (which segment slides?): pairs are truncated.
            return of(truncating.encode(input.text(), input.pair(), true, false));
        }
        if (windowing == null) {
            return of(truncating.encode(input.text(), true, false));
        }
        Encoding first = windowing.encode(input.text(), true, true);
        Encoding[] overflow = first.getOverflowing();
        int n = 1 + (overflow == null ? 0 : overflow.length);
        int kept = Math.min(n, maxWindows);
        long[][] ids = new long[kept][];
        long[][] types = new long[kept][];
        ids[0] = first.getIds();
        types[0] = first.getTypeIds();
        int unknown = countUnknown(ids[0]);
        for (int i = 1; i < kept; i++) {
            ids[i] = overflow[i - 1].getIds();
            types[i] = overflow[i - 1].getTypeIds();
            unknown += countUnknown(ids[i]);
        }
        int tokens = 0;
        for (long[] w : ids) {
            tokens += w.length;
        }
        return new Encoded(ids, types, n > 1 || first.exceedMaxLength(), tokens, unknown);
    }

    private Encoded of(Encoding e) {
        long[] ids = e.getIds();
        return new Encoded(new long[][] {ids}, new long[][] {e.getTypeIds()}, e.exceedMaxLength(), ids.length,
                countUnknown(ids));
    }

    private int countUnknown(long[] ids) {
        if (unknownId < 0) {
            return 0;
        }
        int n = 0;
        for (long id : ids) {
            if (id == unknownId) {
                n++;
            }
        }
        return n;
    }

    @Override
    public synchronized void close() {
        truncating.close();
        if (counting != null) {
            counting.close();
        }
        if (windowing != null) {
            windowing.close();
        }
    }
}
