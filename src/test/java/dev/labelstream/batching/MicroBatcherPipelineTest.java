package dev.labelstream.batching;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;

/** {@link MicroBatcher#apply} in a real job graph and on a MiniCluster. */
@SuppressWarnings("try") // harnesses and iterators declare close() throws InterruptedException
class MicroBatcherPipelineTest {
    private static final TokenEstimator<String> UTF8_BYTES = s -> s.getBytes(StandardCharsets.UTF_8).length;

    @Test
    void appliesAsAnAlwaysChainedOperatorThatChainsWithItsNeighbours() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        SingleOutputStreamOperator<List<String>> batches =
                MicroBatcher.apply(env.fromData("a", "b"), new BatchingSettings(4, 100, Duration.ofMillis(5)), UTF8_BYTES);
        batches.map(List::size).returns(Types.INT).print();

        OneInputTransformation<?, ?> transformation = (OneInputTransformation<?, ?>) batches.getTransformation();
        assertThat(transformation.getName()).isEqualTo("micro-batch");
        assertThat(transformation.getOperatorFactory().getChainingStrategy()).isEqualTo(ChainingStrategy.ALWAYS);
        assertThat(batches.getType()).isEqualTo(new ListTypeInfo<>(Types.STRING));
        JobGraph graph = env.getStreamGraph().getJobGraph();
        List<JobVertex> vertices = new ArrayList<>();
        graph.getVertices().forEach(vertices::add);
        assertThat(vertices).singleElement().extracting(JobVertex::getName).asString().contains("micro-batch");
    }

    @Test
    void batchesEveryRecordOnceOnAMiniCluster() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.getConfig().enableObjectReuse();
        List<String> texts = IntStream.range(0, 100).mapToObj(i -> "text-" + i).toList();
        DataStream<List<String>> batches =
                MicroBatcher.apply(env.fromData(texts), new BatchingSettings(8, 1000, Duration.ofMillis(50)), UTF8_BYTES);
        List<List<String>> out = new ArrayList<>();
        try (CloseableIterator<List<String>> it = batches.executeAndCollect("micro-batch-test")) {
            it.forEachRemaining(out::add);
        }
        assertThat(out).allSatisfy(batch -> assertThat(batch).hasSizeBetween(1, 8));
        assertThat(out.stream().flatMap(List::stream)).containsExactlyElementsOf(texts);
    }
}
