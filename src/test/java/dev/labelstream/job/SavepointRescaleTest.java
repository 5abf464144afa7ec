package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.demo.DemoData;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.io.InputFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stop with a savepoint mid-stream at parallelism 1, restore at parallelism 2 (the input topic has 2
 * partitions) with {@code execution.state-recovery.path}: every input id comes out exactly once over the two
 * runs, so no batch was lost or half-processed across the stop (the batcher flushes before the savepoint
 * barrier, the async operator keeps its in-flight batches in the savepoint, the sink commits its transaction
 * with it). The second run starts from EARLIEST when it has no state, so a restore that did not happen would
 * show as duplicates.
 */
@Tag("slow")
class SavepointRescaleTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(2);

    @Test
    void stopWithSavepointAndRestoreAtAnotherParallelismKeepsExactlyOnce(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        TestKafka.Topics t = TestKafka.Topics.create(2);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        FaultTestSupport.produce(client, t.input(), inputs(0, 300));
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(BatchingOptions.MAX_RECORDS, 8);

        JobClient first = JobTestSupport.start(conf);
        int beforeStop;
        String savepoint;
        try {
            // mid-stream: the real model needs seconds for the rest, so batches are in flight at the stop
            FaultTestSupport.read(client, t, 60, Duration.ofSeconds(120));
            Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "savepoints-");
            savepoint = first.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get();
            beforeStop = FaultTestSupport.read(client, t, Integer.MAX_VALUE, Duration.ofSeconds(3)).count();
        } finally {
            JobTestSupport.cancel(first);
        }
        assertThat(beforeStop).isLessThan(300);
        FaultTestSupport.produce(client, t.input(), inputs(300, 450));

        Configuration restored = new Configuration(conf);
        restored.set(JobOptions.PARALLELISM, 2);
        restored.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        JobClient second = JobTestSupport.start(restored);
        FaultTestSupport.Outputs out;
        int parallelism;
        try {
            out = FaultTestSupport.read(client, t, 450, Duration.ofSeconds(180));
            assertThat(out.copiesById()).hasSize(450);
            Thread.sleep(1500);
            out = FaultTestSupport.read(client, t, Integer.MAX_VALUE, Duration.ofSeconds(5));
            parallelism = 0;
            for (AccessExecutionJobVertex v : cluster.getExecutionGraph(second.getJobID()).get().getAllVertices()
                    .values()) {
                parallelism = Math.max(parallelism, v.getParallelism());
            }
        } finally {
            JobTestSupport.cancel(second);
        }
        assertThat(parallelism).isEqualTo(2);
        assertThat(out.copiesById()).hasSize(450).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
        assertThat(out.deadLetters()).isEmpty();
        FaultTestSupport.figures("stop with savepoint, restore 1 -> 2", "in=450 outBeforeStop=" + beforeStop
                + " outAfterRestore=" + (out.count() - beforeStop) + " classified=" + out.classified().size()
                + " deadLetters=0 duplicates=" + out.duplicates());
    }

    static List<TestKafka.Input> inputs(int from, int to) {
        List<DemoData.Message> messages = DemoData.messages();
        List<TestKafka.Input> in = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String text = messages.get(i % messages.size()).text();
            String id = "r-" + i;
            in.add(TestKafka.Input.of(id, FaultTestSupport.json(id, text.substring(0, Math.min(200, text.length())))));
        }
        return in;
    }
}
