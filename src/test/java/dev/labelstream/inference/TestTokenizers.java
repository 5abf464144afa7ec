package dev.labelstream.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Builds Hugging Face tokenizer.json files for the test model bundles: an ALBERT-style
 * SentencePiece Unigram tokenizer, a tiny GPT-2-style byte-level BPE tokenizer (trained here on a
 * word list), the RoBERTa variant of a byte-level BPE tokenizer, and the MiniLM WordPiece tokenizer
 * with its baked-in truncation and padding removed.
 */
final class TestTokenizers {

    static final ObjectMapper JSON = new ObjectMapper();

    static final String MINILM_RESOURCE = "/all-minilm-l6-v2-q-tokenizer.json";
    static final String METASPACE = "\u2581";
    static final String GPT2_EOS = "<|endoftext|>";

    /** ALBERT's special tokens, in id order. */
    static final List<String> ALBERT_SPECIALS = List.of("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]");

    /** Common English words, most frequent first (used as Unigram pieces and as the BPE training corpus). */
    static final List<String> WORDS = List.of(("""
            the of and to a in is it you that he was for on are with as i his they be at one have this
            from or had by not word but what some we can out other were all there when up use your how
            said an each she which do their time if will way about many then them write would like so
            these her long make thing see him two has look more day could go come did number sound no most
            people my over know water than call first who may down side been now find any new work part
            take get place made live where after back little only round man year came show every good me
            give our under name very through just form sentence great think say help low line differ turn
            cause much mean before move right boy old too same tell does set three want air well also play
            small end put home read hand port large spell add even land here must big high such follow act
            why ask men change went light kind off need house picture try us again animal point mother world
            near build self earth father head stand own page should country found answer school grow study
            still learn plant cover food sun four between state keep eye never last let thought city tree
            cross farm hard start might story saw far sea draw left late run don't while press close night
            real life few north open seem together next white children begin got walk example ease paper
            group always music those both mark often letter until mile river car feet care second book
            carry took science eat room friend began idea fish mountain stop once base hear horse cut sure
            watch color face wood main enough plain girl usual young ready above ever red list though feel
            talk bird soon body dog family direct pose leave song measure door product black short numeral
            class wind question happen complete ship area half rock order fire south problem piece told
            knew pass since top whole king space heard best hour better true during hundred five remember
            step early hold west ground interest reach fast verb sing listen six table travel less morning
            ten simple several vowel toward war lay against pattern slow center love person money serve
            appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall
            lead cry dark machine note wait plan figure star box noun field rest correct able pound done
            beauty drive stood contain front teach week final gave green oh quick develop ocean warm free
            minute strong special mind behind clear tail produce fact street inch multiply nothing course
            stay wheel full force blue object decide surface deep moon island foot system busy test record
            boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate
            hot miss brought heat snow tire bring yes distant fill east paint language among hello world
            bad terrible awful hate stupid idiot kill spam click buy cheap offer win prize free great
            awesome excellent nice thanks please sorry happy sad angry toxic insult threat love
            """).trim().split("\\s+")).stream().distinct().toList();

    /** Pieces that continue a word (no leading metaspace) in the Unigram vocabulary. */
    static final List<String> SUFFIXES = List.of(
            "s", "es", "ed", "ing", "er", "ers", "est", "ly", "tion", "tions", "ness", "ment", "able",
            "al", "ful", "less", "ous", "ive", "ize", "y", "en", "'s", "n't", "re", "un", "in", "th",
            "an", "on", "at", "or", "ar", "st", "nd", "ll", "ch", "sh");

    private TestTokenizers() {}

    // ------------------------------------------------------------------ WordPiece (MiniLM)

    /** The MiniLM BERT WordPiece tokenizer.json with "truncation" and "padding" set to null. */
    static Path miniLmWordPiece(Path out) throws IOException {
        ObjectNode root;
        try (InputStream in = TestTokenizers.class.getResourceAsStream(MINILM_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + MINILM_RESOURCE + " not on the classpath");
            }
            root = (ObjectNode) JSON.readTree(in);
        }
        root.putNull("truncation");
        root.putNull("padding");
        return write(root, out);
    }

    // ------------------------------------------------------------------ Unigram (ALBERT)

    /**
     * An ALBERT-style SentencePiece Unigram tokenizer.json: {@code <pad>=0, <unk>=1, [CLS]=2,
     * [SEP]=3, [MASK]=4}, lowercasing normalizer, Metaspace pre-tokenizer and decoder, and the
     * {@code [CLS] A [SEP] B [SEP]} template with segment ids 0/1.
     */
    static Path albertUnigram(Path out) throws IOException {
        Map<String, Double> pieces = new LinkedHashMap<>();
        for (String s : ALBERT_SPECIALS) {
            pieces.put(s, 0.0);
        }
        for (int rank = 0; rank < WORDS.size(); rank++) {
            pieces.putIfAbsent(METASPACE + WORDS.get(rank), -(4.0 + Math.log(rank + 1.0)));
        }
        for (int i = 0; i < SUFFIXES.size(); i++) {
            pieces.putIfAbsent(SUFFIXES.get(i), -(9.5 + i * 0.01));
        }
        pieces.putIfAbsent(METASPACE, -8.0);
        for (char c = 33; c < 127; c++) { // printable ASCII (upper case is lowercased before the model)
            pieces.putIfAbsent(String.valueOf(c), Character.isLetterOrDigit(c) ? -11.0 : -11.5);
            pieces.putIfAbsent(METASPACE + c, Character.isLetterOrDigit(c) ? -10.5 : -11.0);
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < ALBERT_SPECIALS.size(); id++) {
            added.add(addedToken(id, ALBERT_SPECIALS.get(id)));
        }

        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode norms = normalizer.putArray("normalizers");
        norms.addObject().put("type", "Replace").<ObjectNode>set("pattern", JSON.createObjectNode().put("String", "``"))
                .put("content", "\"");
        norms.addObject().put("type", "Replace").<ObjectNode>set("pattern", JSON.createObjectNode().put("String", "''"))
                .put("content", "\"");
        norms.addObject().put("type", "NFKD");
        norms.addObject().put("type", "StripAccents");
        norms.addObject().put("type", "Lowercase");

        root.set("pre_tokenizer", metaspace());
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.add(special("[CLS]", 0)).add(sequence("A", 0)).add(special("[SEP]", 0));
        ArrayNode pair = post.putArray("pair");
        pair.add(special("[CLS]", 0)).add(sequence("A", 0)).add(special("[SEP]", 0))
                .add(sequence("B", 1)).add(special("[SEP]", 1));
        ObjectNode specials = post.putObject("special_tokens");
        for (String s : List.of("[CLS]", "[SEP]")) {
            ObjectNode st = specials.putObject(s);
            st.put("id", s);
            st.putArray("ids").add(ALBERT_SPECIALS.indexOf(s));
            st.putArray("tokens").add(s);
        }
        root.set("decoder", metaspace());

        ObjectNode model = root.putObject("model");
        model.put("type", "Unigram");
        model.put("unk_id", ALBERT_SPECIALS.indexOf("<unk>"));
        ArrayNode vocab = model.putArray("vocab");
        pieces.forEach((piece, score) -> vocab.addArray().add(piece).add(score));
        model.put("byte_fallback", false);
        return write(root, out);
    }

    private static ObjectNode metaspace() {
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "Metaspace");
        m.put("replacement", METASPACE);
        m.put("prepend_scheme", "always");
        m.put("split", true);
        return m;
    }

    private static ObjectNode special(String id, int typeId) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("SpecialToken").put("id", id).put("type_id", typeId);
        return n;
    }

    private static ObjectNode sequence(String id, int typeId) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("Sequence").put("id", id).put("type_id", typeId);
        return n;
    }

    // ------------------------------------------------------------------ byte-level BPE (GPT-2)

    /** GPT-2's bytes_to_unicode table: byte value -> printable code point. */
    static int[] byteLevelAlphabet() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) bs.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n++);
            }
        }
        int[] table = new int[256];
        for (int i = 0; i < 256; i++) {
            table[bs.get(i)] = cs.get(i);
        }
        return table;
    }

    /**
     * A small GPT-2-style byte-level BPE tokenizer.json: the 256 byte symbols (in GPT-2's id order)
     * as base vocabulary, merges learned here from {@link #WORDS} (with and without a leading
     * space), {@code <|endoftext|>} as the last id and a special added token; ByteLevel
     * pre-tokenizer (add_prefix_space false, use_regex true), decoder and post-processor
     * (trim_offsets false), no normalizer, no padding or truncation.
     */
    static Path tinyByteLevelBpe(Path out, int maxMerges) throws IOException {
        int[] table = byteLevelAlphabet();
        // base vocabulary in GPT-2's order: printable bytes first, then the remapped ones
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<int[]> order = new ArrayList<>();
        for (int b = 0; b < 256; b++) order.add(new int[] {table[b], b});
        order.sort((x, y) -> Integer.compare(x[0], y[0]));
        for (int[] o : order) vocab.put(new String(Character.toChars(o[0])), vocab.size());

        // corpus: each word with and without the leading space (Ġ), Zipf weights
        Map<List<String>, Integer> corpus = new LinkedHashMap<>();
        for (int rank = 0; rank < WORDS.size(); rank++) {
            int weight = Math.max(1, 2000 / (rank + 1));
            corpus.merge(symbols(WORDS.get(rank), table), weight, Integer::sum);
            corpus.merge(symbols(" " + WORDS.get(rank), table), 3 * weight, Integer::sum);
        }
        List<String> merges = new ArrayList<>();
        while (merges.size() < maxMerges) {
            Map<String, Integer> counts = new HashMap<>();
            for (Map.Entry<List<String>, Integer> e : corpus.entrySet()) {
                List<String> w = e.getKey();
                for (int i = 0; i + 1 < w.size(); i++) {
                    counts.merge(w.get(i) + " " + w.get(i + 1), e.getValue(), Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1; // a pair must occur at least twice
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                int c = e.getValue();
                if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            String left = best.substring(0, best.indexOf(' '));
            String right = best.substring(best.indexOf(' ') + 1);
            merges.add(best);
            vocab.putIfAbsent(left + right, vocab.size());
            Map<List<String>, Integer> next = new LinkedHashMap<>();
            for (Map.Entry<List<String>, Integer> e : corpus.entrySet()) {
                next.merge(merge(e.getKey(), left, right), e.getValue(), Integer::sum);
            }
            corpus = next;
        }
        int eos = vocab.size();
        vocab.put(GPT2_EOS, eos);

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.add(addedToken(eos, GPT2_EOS).put("normalized", true));
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false, true, true));
        root.set("post_processor", byteLevel(true, false, true));
        root.set("decoder", byteLevel(true, true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        return write(root, out);
    }

    private static List<String> symbols(String word, int[] table) {
        List<String> out = new ArrayList<>();
        for (byte b : word.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            out.add(new String(Character.toChars(table[b & 0xFF])));
        }
        return out;
    }

    private static List<String> merge(List<String> word, String left, String right) {
        List<String> out = new ArrayList<>(word.size());
        for (int i = 0; i < word.size(); i++) {
            if (i + 1 < word.size() && word.get(i).equals(left) && word.get(i + 1).equals(right)) {
                out.add(left + right);
                i++;
            } else {
                out.add(word.get(i));
            }
        }
        return List.copyOf(out);
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", useRegex);
        return n;
    }

    // ------------------------------------------------------------------ RoBERTa from a GPT-2 tokenizer

    /** Ids a derived RoBERTa tokenizer gives its added special tokens. */
    record RobertaIds(int bos, int eos, int pad) {}

    /**
     * The RoBERTa variant of a GPT-2 byte-level BPE tokenizer.json (plain or .gz): adds the special
     * tokens {@code <s>, </s>, <pad>} with new ids after the vocabulary and a RobertaProcessing
     * post-processor ({@code <s> A </s>} and {@code <s> A </s></s> B </s>}).
     */
    static RobertaIds robertaFromGpt2(Path gpt2TokenizerJson, Path out) throws IOException {
        ObjectNode root = (ObjectNode) readJson(gpt2TokenizerJson);
        int next = maxTokenId(root) + 1;
        RobertaIds ids = new RobertaIds(next, next + 1, next + 2);
        ArrayNode added = root.withArray("added_tokens");
        added.add(addedToken(ids.bos(), "<s>"));
        added.add(addedToken(ids.eos(), "</s>"));
        added.add(addedToken(ids.pad(), "<pad>"));
        root.putNull("truncation");
        root.putNull("padding");
        ObjectNode post = JSON.createObjectNode();
        post.put("type", "RobertaProcessing");
        post.putArray("sep").add("</s>").add(ids.eos());
        post.putArray("cls").add("<s>").add(ids.bos());
        post.put("trim_offsets", true);
        post.put("add_prefix_space", false);
        root.set("post_processor", post);
        write(root, out);
        return ids;
    }

    /** A GPT-2 tokenizer.json (plain or .gz) copied as plain JSON, without padding or truncation. */
    static Path copyGpt2(Path gpt2TokenizerJson, Path out) throws IOException {
        ObjectNode root = (ObjectNode) readJson(gpt2TokenizerJson);
        root.putNull("truncation");
        root.putNull("padding");
        return write(root, out);
    }

    // ------------------------------------------------------------------ helpers

    static JsonNode readJson(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return JSON.readTree(in);
        }
    }

    /** Vocabulary size the embedding needs: the largest id in the model vocabulary or added tokens, plus one. */
    static int vocabSize(Path tokenizerJson) throws IOException {
        return maxTokenId(readJson(tokenizerJson)) + 1;
    }

    static int maxTokenId(JsonNode root) {
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isArray()) { // Unigram: [[piece, score], ...]
            max = vocab.size() - 1;
        } else {
            for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) {
                max = Math.max(max, it.next().asInt());
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asInt());
        }
        return max;
    }

    /** The id of a token, looked up in added_tokens first, then in the model vocabulary. */
    static int tokenId(JsonNode root, String token) {
        for (JsonNode t : root.path("added_tokens")) {
            if (token.equals(t.path("content").asText())) {
                return t.path("id").asInt();
            }
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                if (token.equals(vocab.get(i).get(0).asText())) {
                    return i;
                }
            }
        } else if (vocab.has(token)) {
            return vocab.get(token).asInt();
        }
        throw new IllegalArgumentException("no token " + token);
    }

    private static ObjectNode addedToken(int id, String content) {
        ObjectNode t = JSON.createObjectNode();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }

    static Path write(JsonNode root, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        JSON.writeValue(out.toFile(), root);
        return out;
    }
}
