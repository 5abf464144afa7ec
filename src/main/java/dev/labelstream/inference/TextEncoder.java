package dev.labelstream.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
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

    static {
        // DJL's HuggingFaceTokenizer.newInstance calls Ec2Utils.callHome (cloud metadata address + telemetry URL)
        // unless OPT_OUT_TRACKING is set: every tokenizer is built here, so this opts out before the first one.
        System.setProperty("OPT_OUT_TRACKING", "true");
    }

    TextEncoder(ModelBundle bundle) {
        ModelBundle.Tokenization t = bundle.tokenization();
        byte[] json = t.tokenizerJson().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.truncating = build(json, t.maxLength(), 0, false);
        this.windowing = t.longText() == ModelBundle.LongText.WINDOWS
                ? build(json, t.maxLength(), t.windowStride(), true)
                : null;
        this.unknownId = TokenizerFiles.unknownTokenId(t.tokenizerJson());
    }

    private static HuggingFaceTokenizer build(byte[] json, int maxLength, int stride, boolean overflow) {
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("truncation", "longest_first");
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

    Encoded encode(TextInput input) {
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
        long[][] ids = new long[n][];
        long[][] types = new long[n][];
        ids[0] = first.getIds();
        types[0] = first.getTypeIds();
        int unknown = countUnknown(ids[0]);
        for (int i = 1; i < n; i++) {
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
    public void close() {
        truncating.close();
        if (windowing != null) {
            windowing.close();
        }
    }
}
