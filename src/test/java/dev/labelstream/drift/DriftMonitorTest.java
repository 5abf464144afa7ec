package dev.labelstream.drift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatus;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.TestModels;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.triggers.ProcessingTimeTrigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.operators.windowing.WindowOperatorBuilder;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift window operator as the job builds it (processing-time tumbling window, {@link DriftAggregate}, {@link
 * DriftMonitor}) in Flink's operator test harness: bounded state, warm-up reference in keyed state across a
 * restore, statuses.
 */
class DriftMonitorTest {
    static final long MINUTE = 60_000;
    static final int DIM = 32;

    @TempDir
    static Path tmp;

    static Configuration conf;

    @BeforeAll
    static void bundle() throws Exception {
        conf = new Configuration();
        conf.set(InferenceOptions.MODEL_DIR, TestModels.encoderOnly(tmp.resolve("model")).toString());
        conf.set(KafkaOptions.OUTPUT_FORMAT, KafkaOptions.OutputFormat.AVRO);
        conf.set(DriftOptions.WARMUP_RECORDS, 500);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, DriftObservation, OutboundRecord> harness()
            throws Exception {
        DriftSettings s = DriftSettings.of(conf);
        WindowOperatorBuilder<DriftObservation, String, TimeWindow> b = new WindowOperatorBuilder<>(
                TumblingProcessingTimeWindows.of(Duration.ofMinutes(1)), ProcessingTimeTrigger.create(),
                new ExecutionConfig(), TypeInformation.of(DriftObservation.class), DriftObservation::modelKey,
                Types.STRING);
        OneInputStreamOperator<DriftObservation, OutboundRecord> op = b.aggregate(new DriftAggregate(s.sampleSize),
                new DriftMonitor(conf, s, dev.labelstream.inference.ModelBundle.load(conf).identity()), TypeInformation.of(DriftAccumulator.class));
        return new KeyedOneInputStreamOperatorTestHarness<>(op, DriftObservation::modelKey, Types.STRING);
    }

    /** Traffic of one shape: the share of label 1, token counts around {@code tokens}, embeddings near a mean. */
    static DriftObservation observation(Random r, double spamShare, int tokens, float shift) {
        int top = r.nextDouble() < spamShare ? 1 : 0;
        float conf = 0.7f + 0.3f * r.nextFloat();
        float[] scores = top == 1 ? new float[] {1 - conf, conf} : new float[] {conf, 1 - conf};
        float[] e = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            e[i] = (float) (r.nextGaussian() * 0.3 + (i == 0 ? 1 : 0) + (i == 1 ? shift : 0));
        }
        int t = Math.max(3, (int) (tokens * (0.5 + r.nextDouble())));
        return new DriftObservation("tiny", "1", false, scores, top, conf, t, false, 0, e, 0L, 0L);
    }

    static List<DriftReport> reports(ConcurrentLinkedQueue<Object> output) {
        return output.stream().filter(o -> o instanceof StreamRecord<?>)
                .map(o -> (OutboundRecord) ((StreamRecord<?>) o).getValue())
                .map(r -> DriftReports.decode(r.value(), KafkaOptions.OutputFormat.AVRO))
                .toList();
    }

    @Test
    void aMillionEventsInAWindowKeepTheOperatorsStateBounded() throws Exception {
        var h = harness();
        h.open();
        h.setProcessingTime(0);
        Random r = new Random(1);
        DriftObservation[] shapes = new DriftObservation[256];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = observation(r, 0.3, 100, 0);
        }
        int n = 0;
        for (; n < 1_000; n++) {
            h.processElement(new StreamRecord<>(shapes[n % shapes.length]));
        }
        long after1k = h.snapshot(1, 1).getStateSize();
        for (; n < 1_000_000; n++) {
            h.processElement(new StreamRecord<>(shapes[n % shapes.length]));
        }
        long after1m = h.snapshot(2, 2).getStateSize();
        // the window's state is one accumulator (128 x 32 floats of sample here) and one timer, whatever the count
        assertThat(after1m).isEqualTo(after1k);
        assertThat(after1m).isLessThan(128 * DIM * 4 + 16 * 1024);

        h.setProcessingTime(MINUTE);
        List<DriftReport> out = reports(h.getOutput());
        assertThat(out).hasSize(1);
        assertThat(out.get(0).getEvents()).isEqualTo(1_000_000);
        // the window became the warm-up reference: one accumulator in keyed state, bounded as well
        long afterFire = h.snapshot(3, 3).getStateSize();
        assertThat(afterFire).isLessThan(128 * DIM * 4 + 16 * 1024);
        h.close();
    }

    @Test
    void theWarmUpReferenceSurvivesARestoreAndLaterWindowsAreComparedWithIt() throws Exception {
        var h = harness();
        h.open();
        h.setProcessingTime(0);
        Random r = new Random(2);
        // window 1: 300 records, still warming up (500 needed)
        for (int i = 0; i < 300; i++) {
            h.processElement(new StreamRecord<>(observation(r, 0.3, 100, 0)));
        }
        h.setProcessingTime(MINUTE);
        // window 2: 300 more; the reference is complete at its end
        for (int i = 0; i < 300; i++) {
            h.processElement(new StreamRecord<>(observation(r, 0.3, 100, 0)));
        }
        h.setProcessingTime(2 * MINUTE);
        List<DriftReport> warm = reports(h.getOutput());
        assertThat(warm).hasSize(2);
        assertThat(warm).allSatisfy(rep -> assertThat(rep.getEvaluated()).isFalse());
        assertThat(warm.get(0).getReference()).contains("warming up: 300 of 500");
        assertThat(warm.get(1).getReference()).contains("600 records");
        OperatorSubtaskState snapshot = h.snapshot(1, 2 * MINUTE);
        h.close();

        // a new operator instance (failover) restored from the checkpoint
        var restored = harness();
        restored.initializeState(snapshot);
        restored.open();
        restored.setProcessingTime(2 * MINUTE);
        // window 3: same traffic -> OK, compared with the warm-up reference
        for (int i = 0; i < 300; i++) {
            restored.processElement(new StreamRecord<>(observation(r, 0.3, 100, 0)));
        }
        restored.setProcessingTime(3 * MINUTE);
        // window 4: the share of label 1 goes from 30% to 80%
        for (int i = 0; i < 300; i++) {
            restored.processElement(new StreamRecord<>(observation(r, 0.8, 100, 0)));
        }
        restored.setProcessingTime(4 * MINUTE);
        // window 5: texts three times as long, embeddings moved
        for (int i = 0; i < 300; i++) {
            restored.processElement(new StreamRecord<>(observation(r, 0.3, 300, 1.5f)));
        }
        restored.setProcessingTime(5 * MINUTE);
        List<DriftReport> out = reports(restored.getOutput());
        assertThat(out).hasSize(3);
        DriftReport same = out.get(0);
        assertThat(same.getEvaluated()).isTrue();
        assertThat(same.getReference()).startsWith("warm-up: the first 600 records");
        assertThat(same.getStatus()).as(DriftReports.render(same, "")).isEqualTo(DriftStatus.OK);

        DriftReport labels = out.get(1);
        assertThat(labels.getStatus()).isEqualTo(DriftStatus.ALERT);
        assertThat(labels.getTripped()).contains("label_psi", "label_js_distance");
        assertThat(labels.getTripped()).doesNotContain("token_length_psi", "embedding_cosine_distance");

        DriftReport lengthAndMeaning = out.get(2);
        assertThat(lengthAndMeaning.getTripped()).contains("token_length_psi", "embedding_cosine_distance",
                "embedding_mmd");
        assertThat(lengthAndMeaning.getTripped()).doesNotContain("label_psi");
        restored.close();
    }

    /** {@code o} as an observation of another model version, made by the promoted bundle at {@code dir}. */
    static DriftObservation promoted(DriftObservation o, String version, String dir) {
        return new DriftObservation(o.modelName(), version, o.deadLetter(), o.scores(), o.top(), o.confidence(),
                o.tokens(), o.truncated(), o.unknownTokens(), o.embedding(), o.eventTime(), o.processedAt(), dir);
    }

    @Test
    void aPromotedModelsWindowsAreComparedWithItsOwnBundlesProfileFromTheFirstWindow() throws Exception {
        Random r = new Random(7);
        // The promoted bundle's profile: its own traffic, 30% label 1, as reference-profile.json of its directory.
        DriftAccumulator reference = new DriftAccumulator(DriftSettings.of(conf).sampleSize, DriftSettings.SEED);
        for (int i = 0; i < 600; i++) {
            reference.add(observation(r, 0.3, 100, 0));
        }
        Path dir = Files.createDirectories(tmp.resolve("promoted-" + System.nanoTime()));
        ReferenceProfile.of("tiny", "2", List.of("neg", "pos"), "the promoted bundle's reference set", reference)
                .write(dir.resolve(ReferenceProfile.FILE_NAME));
        Path noProfile = Files.createDirectories(tmp.resolve("promoted-without-" + System.nanoTime()));

        var h = harness();
        h.open();
        h.setProcessingTime(0);
        for (int i = 0; i < 300; i++) {
            h.processElement(new StreamRecord<>(promoted(observation(r, 0.3, 100, 0), "2", dir.toString())));
            h.processElement(new StreamRecord<>(promoted(observation(r, 0.3, 100, 0), "3", noProfile.toString())));
        }
        h.setProcessingTime(MINUTE);
        List<DriftReport> out = reports(h.getOutput());
        h.close();
        DriftReport withProfile = out.stream().filter(d -> d.getModelVersion().equals("2")).findFirst().orElseThrow();
        DriftReport without = out.stream().filter(d -> d.getModelVersion().equals("3")).findFirst().orElseThrow();
        // No warm-up for the one whose bundle has a profile: its first window is judged against that profile.
        assertThat(withProfile.getEvaluated()).isTrue();
        assertThat(withProfile.getReference()).contains("promoted").contains("600 records");
        assertThat(without.getEvaluated()).isFalse();
        assertThat(without.getReference()).contains("warming up");
    }
}
