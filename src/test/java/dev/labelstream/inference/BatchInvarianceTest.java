package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static dev.labelstream.inference.InferenceTestSupport.copyBundle;
import static dev.labelstream.inference.InferenceTestSupport.maxAbsDiff;
import static dev.labelstream.inference.InferenceTestSupport.settings;
import static dev.labelstream.inference.InferenceTestSupport.sum;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Property: a text's scores do not depend on the batch it is classified in. For every family of test bundle, ~40
 * seeded inputs of mixed lengths (2 to 300 words, non-ASCII included, a third of them pairs) are classified as
 * one length-mixed padded batch and each on its own; the scores (and, head-less, the embeddings) must agree
 * within 1e-5 and come back in input order. Repeated with pad_to_multiple_of 1 and 16, and with small token
 * budgets that split the batch into many model calls.
 *
 * <p>The graphs are float32 with an additive -1e9 mask (see {@link TinyTransformer}), for which invariance is
 * exact up to rounding. Dynamically quantized graphs are different: see {@link MiniLmParityTest}.
 */
class BatchInvarianceTest {
    static final double TOLERANCE = 1e-5;
    static final int INPUTS = 40;

    @TempDir
    static Path tmp;

    /** family -> bundle dir (pad_to_multiple_of 16), and the same bundle with pad_to_multiple_of 1. */
    static final Map<String, Path> PAD16 = new LinkedHashMap<>();
    static final Map<String, Path> PAD1 = new LinkedHashMap<>();
    static List<TextInput> inputs;
    /** family/pad/max length -> each input classified alone. */
    static final Map<String, List<Classification>> ALONE = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeAll
    static void bundles() throws Exception {
        Map<String, Path> base = new LinkedHashMap<>();
        base.put("bert", TestBundles.bert(tmp.resolve("bert")));
        base.put("albert", TestBundles.albert(tmp.resolve("albert")));
        base.put("roberta", TestBundles.roberta(tmp.resolve("roberta"), InferenceTestSupport.GPT2_TOKENIZER));
        base.put("gpt2-right", TestBundles.gpt2(tmp.resolve("gpt2-right"), InferenceTestSupport.GPT2_TOKENIZER));
        base.put("gpt2-left", settings(copyBundle(base.get("gpt2-right"), tmp.resolve("gpt2-left")),
                Map.of("padding_side", "left")));
        base.put("bert-encoder-mean", TestBundles.bertEncoderOnly(tmp.resolve("bert-encoder-mean")));
        for (Map.Entry<String, Path> e : base.entrySet()) {
            PAD16.put(e.getKey(), settings(e.getValue(), Map.of("pad_to_multiple_of", 16)));
            PAD1.put(e.getKey(), settings(copyBundle(e.getValue(), tmp.resolve(e.getKey() + "-pad1")),
                    Map.of("pad_to_multiple_of", 1)));
        }
        inputs = InferenceTestSupport.mixedInputs(20261125L, INPUTS, 300);
    }

    /** A way to run the batch: bundle variant and options. */
    enum Variant {
        PAD16_DEFAULT_BUDGET(16, 0, 0),
        PAD1_DEFAULT_BUDGET(1, 0, 0),
        /** max length 512 and a budget of one padded max-length sequence: long texts run alone. */
        PAD16_BUDGET_512(16, 512, 0),
        PAD1_BUDGET_512(1, 512, 0),
        /** max length 128 and a budget of 256 tokens: many small sub-batches. */
        PAD16_BUDGET_256_MAX_LENGTH_128(16, 256, 128),
        PAD1_BUDGET_256_MAX_LENGTH_128(1, 256, 128);

        final int padToMultipleOf;
        final int budget;
        final int maxLength;

        Variant(int padToMultipleOf, int budget, int maxLength) {
            this.padToMultipleOf = padToMultipleOf;
            this.budget = budget;
            this.maxLength = maxLength;
        }

        Configuration options() {
            Configuration c = new Configuration();
            if (budget > 0) {
                c.set(InferenceOptions.TOKEN_BUDGET, budget);
            }
            if (maxLength > 0) {
                c.set(InferenceOptions.MAX_LENGTH, maxLength);
            }
            return c;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String family : List.of("bert", "albert", "roberta", "gpt2-right", "gpt2-left", "bert-encoder-mean")) {
            for (Variant v : Variant.values()) {
                out.add(Arguments.of(family, v));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void scoresDoNotDependOnTheBatch(String family, Variant variant) {
        Path dir = (variant.padToMultipleOf == 1 ? PAD1 : PAD16).get(family);
        ModelBundle bundle = ModelBundle.load(dir);
        assertThat(bundle.padToMultipleOf()).isEqualTo(variant.padToMultipleOf);
        try (BatchClassifier classifier = BatchClassifier.open(bundle, variant.options())) {
            ClassifiedBatch batch = classifier.classify(inputs);
            List<Classification> results = batch.results();
            assertThat(results).hasSize(inputs.size());

            long realTokens = 0;
            int lengths = 0;
            int shortest = Integer.MAX_VALUE;
            int longest = 0;
            List<Classification> aloneResults = alone(family, variant, classifier);
            for (int i = 0; i < inputs.size(); i++) {
                Classification alone = aloneResults.get(i);
                Classification inBatch = results.get(i);
                // input order: the i-th result is the i-th input's, by its token count and its scores
                assertThat(inBatch.tokens()).as("tokens of input %d", i).isEqualTo(alone.tokens());
                assertThat(maxAbsDiff(inBatch.scores(), alone.scores()))
                        .as("%s input %d (%d tokens): scores in the batch vs alone", family, i, alone.tokens())
                        .isLessThanOrEqualTo(TOLERANCE);
                assertThat(inBatch.top()).isEqualTo(alone.top());
                if (bundle.scoring().pooling() != ModelBundle.Pooling.NONE) {
                    assertThat(inBatch.embedding()).hasSize(TinyTransformer.HIDDEN);
                    assertThat(maxAbsDiff(inBatch.embedding(), alone.embedding()))
                            .as("%s input %d: embedding in the batch vs alone", family, i)
                            .isLessThanOrEqualTo(TOLERANCE);
                } else {
                    assertThat(inBatch.embedding()).isNull();
                }
                assertThat(inBatch.provider()).isEqualTo("CPU");
                assertThat(inBatch.tokens()).isLessThanOrEqualTo(bundle.maxLength());
                if (variant.maxLength > 0) {
                    assertThat(inBatch.tokens()).isLessThanOrEqualTo(variant.maxLength);
                }
                realTokens += inBatch.tokens();
                lengths++;
                shortest = Math.min(shortest, inBatch.tokens());
                longest = Math.max(longest, inBatch.tokens());
            }
            assertThat(lengths).isEqualTo(INPUTS);
            assertThat(longest).as("a length-mixed batch").isGreaterThan(4 * shortest);
            assertThat(batch.realTokens()).isEqualTo(realTokens);
            assertThat(batch.paddedTokens()).isGreaterThanOrEqualTo(batch.realTokens());
            if (variant.padToMultipleOf == 16) {
                assertThat(batch.paddedTokens()).as("buckets of 16 pad some sequences")
                        .isGreaterThan(batch.realTokens());
            }
            if (variant.budget > 0) {
                assertThat(batch.modelCalls()).as("a small budget splits the batch").isGreaterThan(1);
                assertThat(batch.paddedTokens()).as("no model call exceeds the budget")
                        .isLessThanOrEqualTo((long) batch.modelCalls() * variant.budget);
            }
            assertScoresAreProbabilities(bundle, results);
        }
    }

    /**
     * Each input classified on its own, once per bundle and max length (a single input is one model call whatever
     * the token budget, so the budget variants share these).
     */
    private static List<Classification> alone(String family, Variant variant, BatchClassifier classifier) {
        String key = family + "/" + variant.padToMultipleOf + "/" + variant.maxLength;
        return ALONE.computeIfAbsent(key, k -> {
            List<Classification> out = new ArrayList<>();
            for (TextInput input : inputs) {
                ClassifiedBatch one = classifier.classify(List.of(input));
                assertThat(one.modelCalls()).isEqualTo(1);
                if (variant.padToMultipleOf == 1) {
                    assertThat(one.paddedTokens()).as("one sequence, no buckets: no padding")
                            .isEqualTo(one.realTokens());
                }
                out.add(one.results().get(0));
            }
            return out;
        });
    }

    private static void assertScoresAreProbabilities(ModelBundle bundle, List<Classification> results) {
        int notSummingToOne = 0;
        for (Classification c : results) {
            assertThat(c.scores()).hasSize(bundle.labels().size());
            for (float s : c.scores()) {
                assertThat(s).isStrictlyBetween(0f, 1f);
            }
            if (bundle.multiLabel()) {
                if (Math.abs(sum(c.scores()) - 1) > 0.05) {
                    notSummingToOne++;
                }
            } else {
                assertThat(sum(c.scores())).as("softmax").isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            }
        }
        if (bundle.multiLabel()) {
            assertThat(notSummingToOne).as("independent sigmoids need not sum to 1").isGreaterThan(results.size() / 2);
        }
    }

    /** The same inputs, reversed: each result follows its input. */
    @Test
    void resultsFollowTheirInputsWhateverTheOrder() {
        try (BatchClassifier classifier = BatchClassifier.open(ModelBundle.load(PAD16.get("bert")),
                conf("inference.token-budget", "512"))) {
            List<Classification> forward = classifier.classify(inputs).results();
            List<TextInput> reversed = new ArrayList<>(inputs);
            java.util.Collections.reverse(reversed);
            List<Classification> backward = classifier.classify(reversed).results();
            for (int i = 0; i < inputs.size(); i++) {
                Classification a = forward.get(i);
                Classification b = backward.get(inputs.size() - 1 - i);
                assertThat(b.tokens()).isEqualTo(a.tokens());
                assertThat(maxAbsDiff(a.scores(), b.scores())).isLessThanOrEqualTo(TOLERANCE);
            }
            // and the scores are not all the same: order mistakes would show
            double spread = 0;
            for (Classification c : forward) {
                spread = Math.max(spread, Math.abs(c.scores()[0] - forward.get(0).scores()[0]));
            }
            assertThat(spread).isGreaterThan(0.05);
        }
    }

    @Test
    void emptyBatchMakesNoModelCall() {
        try (BatchClassifier classifier = BatchClassifier.open(ModelBundle.load(PAD16.get("bert")))) {
            ClassifiedBatch out = classifier.classify(List.of());
            assertThat(out.results()).isEmpty();
            assertThat(out.modelCalls()).isZero();
            assertThat(out.paddedTokens()).isZero();
        }
    }
}
