package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call given a deadline stops at it (between sub-batches, or inside ONNX Runtime through the run's terminate
 * flag), reports {@link ClassificationException#timedOut()}, and leaves the classifier and its shared session
 * working for the next call, including calls running at the same time.
 */
class DeadlineTest {
    @TempDir
    static Path tmp;

    static BatchClassifier tiny;
    static BatchClassifier minilm;
    static List<TextInput> manyShort;
    static List<TextInput> manyLong;

    @BeforeAll
    static void open() throws Exception {
        // one sequence per model call: hundreds of calls, the deadline is checked between them
        tiny = BatchClassifier.open(ModelBundle.load(TestBundles.bert(tmp.resolve("bert"))),
                conf("inference.max-sub-batch", "1"));
        minilm = BatchClassifier.open(ModelBundle.load(DefaultModel.directory(tmp)));
        manyShort = InferenceTestSupport.mixedInputs(5, 300, 40);
        List<TextInput> longs = new ArrayList<>();
        for (InferenceTestSupport.Message m : InferenceTestSupport.spamAssassinSample()) {
            if (m.text().length() > 2000 && longs.size() < 64) {
                longs.add(TextInput.of(m.text()));
            }
        }
        manyLong = List.copyOf(longs);
    }

    @AfterAll
    static void close() {
        if (tiny != null) {
            tiny.close();
        }
        if (minilm != null) {
            minilm.close();
        }
    }

    @Test
    void theTimerThreadEndsWithTheLastClassifierOfItsSession() throws Exception {
        // a model file of its own, so a session of its own (the others stay open for the class)
        long before = deadlineThreads();
        try (BatchClassifier own = BatchClassifier.open(ModelBundle.load(TestBundles.bert(tmp.resolve("own"))))) {
            own.classify(manyShort.subList(0, 2), Duration.ofMinutes(1));
            assertThat(deadlineThreads()).as("the session's timer, started by its first deadline")
                    .isEqualTo(before + 1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (deadlineThreads() > before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        // a static timer would have stayed: in a session cluster, one thread and class loader per submission
        assertThat(deadlineThreads()).as("after the last close").isEqualTo(before);
    }

    private static long deadlineThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(Deadline.THREAD_NAME)).count();
    }

    @Test
    void oneNanosecondTimesOutAndTheClassifierStillWorks() {
        ClassifiedBatch before = tiny.classify(manyShort);
        assertThat(before.modelCalls()).isEqualTo(manyShort.size());

        ClassificationException e = catchThrowableOfType(ClassificationException.class,
                () -> tiny.classify(manyShort, Duration.ofNanos(1)));
        assertThat(e).as("a 1 ns deadline on %d model calls", manyShort.size()).isNotNull();
        assertThat(e.timedOut()).isTrue();
        assertThat(e).hasMessageContaining("deadline");

        ClassifiedBatch after = tiny.classify(manyShort);
        ClassifiedBatch withTime = tiny.classify(manyShort, Duration.ofMinutes(5));
        for (int i = 0; i < manyShort.size(); i++) {
            assertThat(after.results().get(i).scores()).containsExactly(before.results().get(i).scores());
            assertThat(withTime.results().get(i).scores()).containsExactly(before.results().get(i).scores());
        }
    }

    @Test
    void aTinyTimeoutStopsTheRealModelMidRun() {
        assertThat(manyLong).hasSizeGreaterThanOrEqualTo(32);
        // 64 texts of 256 tokens, one model call each (the int8 graph runs unbatched): seconds of work on two
        // cores, nearly all of it inside ONNX Runtime's run, so a 200 ms deadline passes during a run, which the
        // terminate flag stops (were it ignored, the call would fail only before the next model call, with another
        // message). Tried up to 8 times, in case a deadline falls between two calls; when tokenization alone
        // outlasts the deadline (a loaded machine: "before sub-batch 1"), the next try doubles it, so the
        // deadline lands inside the model runs whatever the machine's speed.
        List<String> messages = new ArrayList<>();
        long deadlineMillis = 200;
        for (int attempt = 0; attempt < 8 && !messages.contains(STOPPED_IN_RUN); attempt++) {
            Duration deadline = Duration.ofMillis(deadlineMillis);
            ClassificationException e = catchThrowableOfType(ClassificationException.class,
                    () -> minilm.classify(manyLong, deadline));
            if (e == null) {
                deadlineMillis = Math.max(50, deadlineMillis / 2); // all 64 calls fit: aim earlier
                continue;
            }
            assertThat(e.timedOut()).isTrue();
            messages.add(e.getMessage());
            if (e.getMessage().equals("deadline passed before sub-batch 1")) {
                deadlineMillis *= 2;
            }
        }
        assertThat(messages).contains(STOPPED_IN_RUN);

        ClassifiedBatch after = minilm.classify(manyLong.subList(0, 4));
        assertThat(after.results()).hasSize(4).allSatisfy(c -> {
            assertThat(c.embedding()).hasSize(384);
            assertThat(c.truncated()).isTrue();
        });
    }

    static final String STOPPED_IN_RUN = "ONNX Runtime was stopped at the deadline";

    @Test
    void aTimedOutCallDoesNotStopAnotherCallOnTheSameSession() throws Exception {
        List<TextInput> small = manyLong.subList(0, 8);
        ClassifiedBatch reference = minilm.classify(small);
        CompletableFuture<ClassifiedBatch> other = CompletableFuture.supplyAsync(() -> minilm.classify(small));
        for (int i = 0; i < 3; i++) {
            ClassificationException e = catchThrowableOfType(ClassificationException.class,
                    () -> minilm.classify(manyLong, Duration.ofMillis(10)));
            assertThat(e).isNotNull();
            assertThat(e.timedOut()).isTrue();
        }
        ClassifiedBatch done = other.get(2, TimeUnit.MINUTES);
        for (int i = 0; i < small.size(); i++) {
            assertThat(done.results().get(i).embedding()).containsExactly(reference.results().get(i).embedding());
        }
    }

    @Test
    void aFailureThatIsNotTheDeadlineIsNotATimeout() {
        // an input the tokenizer cannot take is a plain failure
        ClassificationException e = catchThrowableOfType(ClassificationException.class,
                () -> tiny.classify(java.util.Arrays.asList(TextInput.of("fine"), null), Duration.ofMinutes(1)));
        assertThat(e).isNotNull();
        assertThat(e.timedOut()).isFalse();
        assertThat(e).hasMessageContaining("input 1");
    }
}
