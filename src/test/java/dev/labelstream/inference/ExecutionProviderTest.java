package dev.labelstream.inference;

import static dev.labelstream.inference.InferenceTestSupport.conf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider choice and session sharing. This machine has no GPU: asking for CUDA falls back to CPU with a WARN
 * line that says so, unless inference.require-gpu is set. (On a machine where CUDA starts, the CUDA tests are
 * skipped.)
 */
class ExecutionProviderTest {
    @TempDir
    static Path tmp;

    static Path bert;
    static final List<TextInput> INPUTS = List.of(TextInput.of("hello world"),
            TextInput.of("you are a terrible idiot"), new TextInput("is this spam?", "win a free cruise now"));

    @BeforeAll
    static void bundle() throws Exception {
        bert = TestBundles.bert(tmp.resolve("bert"));
    }

    /**
     * Collects the events of one logger, attached to log4j-core programmatically. The logger is set to INFO while
     * attached: the log4j2-test.properties of Flink's test jars turn the root logger OFF in tests.
     */
    static final class Capture extends AbstractAppender implements AutoCloseable {
        final List<LogEvent> events = new CopyOnWriteArrayList<>();
        private final Logger logger;
        private final Level level;

        Capture(Class<?> source) {
            super("capture-" + source.getSimpleName(), null, null, true, Property.EMPTY_ARRAY);
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            logger = context.getLogger(source.getName());
            level = logger.getLevel();
            start();
            logger.addAppender(this);
            Configurator.setLevel(source.getName(), Level.INFO);
        }

        @Override
        public void append(LogEvent event) {
            events.add(event.toImmutable());
        }

        List<String> messages(Level level) {
            return events.stream().filter(e -> e.getLevel() == level)
                    .map(e -> e.getMessage().getFormattedMessage()).toList();
        }

        @Override
        public void close() {
            logger.removeAppender(this);
            Configurator.setLevel(logger.getName(), level);
            stop();
        }
    }

    @Test
    void cudaWithoutAGpuFallsBackToCpuAndSaysSo() {
        int before = OnnxSessions.openSessions();
        try (Capture log = new Capture(OnnxSessions.class);
             BatchClassifier classifier = BatchClassifier.open(ModelBundle.load(bert),
                     conf("inference.provider", "CUDA"))) {
            Assumptions.assumeFalse(classifier.provider().equals("CUDA"), "CUDA started: this machine has a GPU");
            assertThat(classifier.provider()).isEqualTo("CPU");
            ClassifiedBatch batch = classifier.classify(INPUTS);
            assertThat(batch.provider()).isEqualTo("CPU");
            assertThat(batch.results()).hasSize(INPUTS.size())
                    .allSatisfy(c -> assertThat(c.provider()).isEqualTo("CPU"));

            List<String> warnings = log.messages(Level.WARN);
            assertThat(warnings).as("WARN lines of OnnxSessions").hasSize(1);
            assertThat(warnings.get(0)).contains("CUDA", "unavailable", "falling back to CPU",
                    "inference.require-gpu");
            assertThat(log.messages(Level.INFO)).anySatisfy(m -> assertThat(m).contains("runs on CPU"));

            // a second classifier with the same settings shares the fallen-back session: no second attempt
            try (BatchClassifier again = BatchClassifier.open(ModelBundle.load(bert),
                    conf("inference.provider", "CUDA"))) {
                assertThat(again.provider()).isEqualTo("CPU");
                assertThat(OnnxSessions.openSessions()).isEqualTo(before + 1);
            }
            assertThat(log.messages(Level.WARN)).hasSize(1);
        }
        assertThat(OnnxSessions.openSessions()).isEqualTo(before);
    }

    @Test
    void requireGpuFailsInsteadOfFallingBack() {
        int before = OnnxSessions.openSessions();
        try (Capture log = new Capture(OnnxSessions.class)) {
            Throwable thrown = null;
            try {
                BatchClassifier.open(ModelBundle.load(bert),
                        conf("inference.provider", "CUDA", "inference.require-gpu", "true")).close();
            } catch (IllegalStateException e) {
                thrown = e;
            }
            Assumptions.assumeTrue(thrown != null, "CUDA started: this machine has a GPU");
            assertThat(thrown).hasMessageContainingAll("inference.require-gpu", "CUDA", "could not start",
                    "inference.provider=cpu").hasCauseInstanceOf(Throwable.class);
            assertThat(log.messages(Level.WARN)).as("no fallback").isEmpty();
        }
        assertThat(OnnxSessions.openSessions()).as("nothing left open").isEqualTo(before);
        assertThatThrownBy(() -> BatchClassifier.open(ModelBundle.load(bert),
                conf("inference.provider", "CUDA", "inference.require-gpu", "true")))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void classifiersOfOneModelShareOneSession() {
        int before = OnnxSessions.openSessions();
        BatchClassifier a = BatchClassifier.open(ModelBundle.load(bert));
        BatchClassifier b = BatchClassifier.open(ModelBundle.load(bert));
        try {
            assertThat(OnnxSessions.openSessions()).as("one session for both").isEqualTo(before + 1);
            ClassifiedBatch fromA = a.classify(INPUTS);
            a.close();
            a.close(); // idempotent: must not release b's share
            assertThat(OnnxSessions.openSessions()).as("b still holds it").isEqualTo(before + 1);
            ClassifiedBatch fromB = b.classify(INPUTS);
            for (int i = 0; i < INPUTS.size(); i++) {
                assertThat(fromB.results().get(i).scores()).containsExactly(fromA.results().get(i).scores());
            }
            assertThatThrownBy(() -> a.classify(INPUTS)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        } finally {
            a.close();
            b.close();
        }
        assertThat(OnnxSessions.openSessions()).as("closing both releases it").isEqualTo(before);
        // and a new classifier opens a new one
        try (BatchClassifier c = BatchClassifier.open(ModelBundle.load(bert))) {
            assertThat(OnnxSessions.openSessions()).isEqualTo(before + 1);
            assertThat(c.classify(INPUTS).results()).hasSize(INPUTS.size());
        }
        assertThat(OnnxSessions.openSessions()).isEqualTo(before);
    }

    @Test
    void dynamicQuantizationIsFoundByTheOperatorName() throws Exception {
        assertThat(OnnxSessions.quantizesDynamically(bert.resolve("model.onnx"))).as("float graph").isFalse();
        // the name straddles the 1 MiB read buffer
        byte[] bytes = new byte[(1 << 20) + 64];
        java.util.Arrays.fill(bytes, (byte) 'x');
        byte[] name = "DynamicQuantizeLinear".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, bytes, (1 << 20) - 7, name.length);
        Path file = java.nio.file.Files.write(tmp.resolve("straddling.onnx"), bytes);
        assertThat(OnnxSessions.quantizesDynamically(file)).isTrue();
        bytes[(1 << 20) - 7 + 3] = 'x';
        java.nio.file.Files.write(file, bytes);
        assertThat(OnnxSessions.quantizesDynamically(file)).isFalse();
        assertThat(OnnxSessions.quantizesDynamically(tmp.resolve("missing.onnx"))).isFalse();
    }

    @Test
    void differentSettingsGetDifferentSessions() {
        int before = OnnxSessions.openSessions();
        try (BatchClassifier a = BatchClassifier.open(ModelBundle.load(bert));
             BatchClassifier b = BatchClassifier.open(ModelBundle.load(bert), conf("inference.intra-op-threads", "1"))) {
            assertThat(OnnxSessions.openSessions()).isEqualTo(before + 2);
            assertThat(b.classify(INPUTS).results()).hasSize(INPUTS.size());
            assertThat(a.provider()).isEqualTo("CPU");
        }
        assertThat(OnnxSessions.openSessions()).isEqualTo(before);
    }
}
