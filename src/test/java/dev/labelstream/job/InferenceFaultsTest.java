package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.FaultBundles;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults inside inference, with a model bundle that has a poison word (ONNX Runtime's Gather fails) and a slow
 * word (a Loop that runs until stopped): see {@link FaultBundles}. The job must keep running without a restart,
 * send only the faulty records to dead letters, and classify everything else. Both runs also capture the JVM's
 * log at INFO and check that no text content reached it, although every text carries a marker.
 */
class InferenceFaultsTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1, FaultTestSupport.clusterConf());

    /** Words with token ids below the faulty embedding's size, and a marker no log line would contain. */
    static final String[] WORDS = {"hello", "world", "lunch", "meeting", "today", "free", "offer", "please",
        "call", "thanks"};
    static final String MARKER = "purple elephant umbrella";

    static String text(int i) {
        return WORDS[i % WORDS.length] + " " + WORDS[(i * 7 + 3) % WORDS.length] + " " + MARKER;
    }

    static Configuration conf(TestKafka.Topics t) throws Exception {
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(InferenceOptions.MODEL_DIR, FaultTestSupport.faultyModel().toString());
        conf.set(BatchingOptions.MAX_RECORDS, 8);
        conf.set(BatchingOptions.LINGER, Duration.ofMillis(50));
        conf.set(JobOptions.ASYNC_MAX_RETRIES, 2);
        conf.set(JobOptions.ASYNC_RETRY_BACKOFF, Duration.ofMillis(100));
        return conf;
    }

    @Test
    void aPoisonRecordEndsInDeadLettersAndItsBatchMatesAreClassifiedWithoutARestart(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        int n = 60;
        Set<String> poison = Set.of("p-10", "p-30", "p-50");
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "p-" + i;
            String text = poison.contains(id) ? "hello " + FaultBundles.POISON_WORD + " " + MARKER : text(i);
            in.add(TestKafka.Input.of(id, FaultTestSupport.json(id, text)));
        }
        InProcessMetrics.clear();
        FaultTestSupport.Outputs out;
        JobClient job;
        try (FaultTestSupport.LogCapture log = FaultTestSupport.LogCapture.start(Level.INFO)) {
            FaultTestSupport.produce(client, t.input(), in);
            job = JobTestSupport.start(conf(t));
            try {
                out = FaultTestSupport.read(client, t, n, Duration.ofSeconds(120));
                assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).as("job restarted").isFalse();
                assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
                Counters.assertAddUp(job, n);
            } finally {
                JobTestSupport.cancel(job);
            }
            assertThat(log.containing(MARKER, Level.INFO)).as("log events quoting text content").isEmpty();
            assertThat(log.containing("ONNX Runtime failed", Level.WARN)).as("the failure is logged").isNotEmpty();
        }

        assertThat(out.copiesById()).hasSize(n).allSatisfy((id, copies) -> assertThat(copies).isEqualTo(1));
        assertThat(out.deadLetters()).extracting(DeadLetter::getInputId).containsExactlyInAnyOrderElementsOf(poison);
        for (DeadLetter d : out.deadLetters()) {
            assertThat(d.getErrorKind()).isEqualTo("INFERENCE_FAILED");
            assertThat(d.getErrorMessage()).contains("Gather");
            int i = Integer.parseInt(d.getInputId().substring(2));
            assertThat(JobEndToEndTest.toBytes(d.getOriginalValue())).isEqualTo(in.get(i).value());
            assertThat(d.getSourceOffset()).isEqualTo(i);
        }
        assertThat(out.classified()).extracting(ClassifiedEvent::getInputId).doesNotContainAnyElementsOf(poison);
        long retries = InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.BATCH_RETRIES));
        long failures = InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.BATCH_FAILURES));
        // every batch holding a poison record was retried max-retries times, then split record by record
        assertThat(failures).isEqualTo(poison.size());
        assertThat(retries).isEqualTo(2L * poison.size());
        FaultTestSupport.figures("poison record", "in=" + n + " classified=" + out.classified().size()
                + " deadLetters=" + out.deadLettersByKind() + " duplicates=" + out.duplicates()
                + " batchRetries=" + retries + " batchFailures=" + failures + " restarts=0");
    }

    @Test
    void aRecordThatLoopsInTheMiddleOfABatchTimesOutAloneAndItsBatchMatesAreClassified(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        Configuration conf = conf(t);
        conf.set(JobOptions.ASYNC_TIMEOUT, Duration.ofSeconds(1));
        conf.set(JobOptions.ASYNC_MAX_RETRIES, 1);
        InProcessMetrics.clear();
        List<TestKafka.Input> before = inputs("f-", 0, 10);
        // one batch of 8 (batching.max-records) with the looping record in the middle
        List<TestKafka.Input> middle = new ArrayList<>(inputs("f-", 10, 14));
        TestKafka.Input slowRecord = TestKafka.Input.of("s-0",
                FaultTestSupport.json("s-0", "hello " + FaultBundles.SLOW_WORD + " " + MARKER));
        middle.add(slowRecord);
        middle.addAll(inputs("f-", 14, 17));
        List<TestKafka.Input> after = inputs("f-", 17, 50);
        FaultTestSupport.Outputs out;
        try (FaultTestSupport.LogCapture log = FaultTestSupport.LogCapture.start(Level.INFO)) {
            JobClient job = JobTestSupport.start(conf);
            try {
                FaultTestSupport.produce(client, t.input(), before);
                assertThat(FaultTestSupport.read(client, t, 10, Duration.ofSeconds(120)).count()).isEqualTo(10);
                FaultTestSupport.produce(client, t.input(), middle);
                assertThat(FaultTestSupport.read(client, t, 18, Duration.ofSeconds(120)).count()).isEqualTo(18);
                FaultTestSupport.produce(client, t.input(), after);
                out = FaultTestSupport.read(client, t, 51, Duration.ofSeconds(120));
                assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).as("job restarted").isFalse();
                Counters.assertAddUp(job, 51);
            } finally {
                JobTestSupport.cancel(job);
            }
            assertThat(log.containing(MARKER, Level.INFO)).as("log events quoting text content").isEmpty();
        }
        assertThat(out.copiesById()).hasSize(51).allSatisfy((id, copies) -> assertThat(copies).isEqualTo(1));
        assertThat(out.deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.getInputId()).isEqualTo("s-0");
            assertThat(d.getErrorKind()).isEqualTo("INFERENCE_TIMEOUT");
            assertThat(d.getErrorMessage()).contains("timed out 2 times alone");
            assertThat(JobEndToEndTest.toBytes(d.getOriginalValue())).isEqualTo(slowRecord.value());
        });
        Set<String> classified = new TreeSet<>();
        out.classified().forEach(e -> classified.add(e.getInputId()));
        assertThat(classified).hasSize(50).allMatch(id -> id.startsWith("f-"));
        long timeouts = InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.BATCH_TIMEOUTS));
        long retries = InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.BATCH_RETRIES));
        // the parts holding it were halved (not retried) until it was alone; alone it had its one retry
        assertThat(timeouts).isBetween(2L, 2L + 3);
        assertThat(retries).isEqualTo(1);
        FaultTestSupport.figures("looping record in a batch of 8", "in=51 classified=" + out.classified().size()
                + " deadLetters=" + out.deadLettersByKind() + " duplicates=" + out.duplicates()
                + " batchRetries=" + retries + " batchTimeouts=" + timeouts + " restarts=0"
                + " (its 7 batch-mates and the 33 records after it classified)");
    }

    static List<TestKafka.Input> inputs(String prefix, int from, int to) {
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = from; i < to; i++) {
            in.add(TestKafka.Input.of(prefix + i, FaultTestSupport.json(prefix + i, text(i))));
        }
        return in;
    }

}
