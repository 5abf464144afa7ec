package dev.labelstream.job;

import dev.labelstream.settings.JobOptions;
import dev.labelstream.metrics.Metrics;
import dev.labelstream.demo.DemoData;
import dev.labelstream.demo.InProcessMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.io.InputFormat;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Overload: ten times the rate the job sustains, for {@value #DEFAULT_SECONDS} s (system property
 * labelstream.overload.seconds; the minute is 60: the drain afterwards takes nine times the flood, so
 * the default keeps the test near four minutes), with 8 KiB records (a short text and a padding attribute),
 * async.capacity 2, batching.max-records 8 and one inference thread, on the real default model. The sustainable rate is measured first, in the same run,
 * on a warm-up backlog. While the flood lasts, every few seconds: a full GC and the heap used after it, the
 * batcher's bufferedRecords and the async stage's inFlightBatches gauges, the consumer lag (end offset minus
 * the source's current offset), and the source task's back-pressure and busy times.
 *
 * <p>Asserted: backpressure reaches the Kafka source (the source's current offset stays within batcher plus
 * async capacity, 8 + 2 x 8 records, of what was classified, and the lag at the end of the flood is most of
 * what the flood produced: the backlog waits in Kafka, not in the job), the heap used after GC stays within
 * {@value #HEAP_ALLOWANCE_MB} MiB of the value before the flood while the flood is several times that size,
 * bufferedRecords <= batching.max-records and inFlightBatches <= async.capacity at every sample, and
 * afterwards the backlog drains with every id present. Nothing about time is asserted.
 *
 * <p>The heap allowance: what may legitimately be buffered in this JVM during the flood is the source's fetch
 * buffers (one partition: max.partition.fetch.bytes 1 MiB per fetch, two fetches queued: ~3 MiB), at most
 * 8 + 2 x 8 records in batcher and async stage (0.2 MiB), the job's transactional producer (buffer.memory
 * 32 MiB, outputs carry the 8 KiB attribute), the test's own flooding producer in the same JVM (buffer.memory
 * 8 MiB) and the in-JVM broker's request buffers (a few MiB): about 50 MiB. 96 MiB is that with room for GC
 * noise. Without backpressure the backlog (the consumer lag, up to the whole flood) would be on the heap.
 */
@Tag("slow")
class OverloadTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = JobTestSupport.miniCluster(1, FaultTestSupport.clusterConf());

    static final int DEFAULT_SECONDS = 20;
    static final long HEAP_ALLOWANCE_MB = 96;
    static final int RECORD_BYTES = 8 * 1024;
    static final int MAX_RECORD_BYTES = RECORD_BYTES;
    static final int MAX_RECORDS = 8;
    static final int CAPACITY = 2;
    static final int WARM_UP = 200;

    @Test
    void tenTimesTheSustainableRateIsHeldBackInKafkaWithBoundedHeapAndDrainsAfterwards(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        int seconds = Integer.getInteger("labelstream.overload.seconds", DEFAULT_SECONDS);
        TestKafka.Topics t = TestKafka.Topics.create(1);
        Properties client = FaultTestSupport.clientProps(TestKafka.broker().bootstrapServers());
        Configuration conf = JobTestSupport.jobConf(t, InputFormat.JSON);
        conf.set(BatchingOptions.MAX_RECORDS, MAX_RECORDS);
        conf.set(JobOptions.ASYNC_CAPACITY, CAPACITY);
        conf.set(InferenceOptions.MAX_LENGTH, 64);
        // one inference thread: a modest sustainable rate, so that ten times it is within what the in-JVM
        // producer and broker can offer on a small machine
        conf.set(JobOptions.ASYNC_THREADS, 1);
        conf.set(InferenceOptions.INTRA_OP_THREADS, 1);
        InProcessMetrics.clear();

        List<String> texts = texts();
        AtomicInteger next = new AtomicInteger();
        List<TestKafka.Input> warmUp = new ArrayList<>();
        for (int i = 0; i < WARM_UP; i++) {
            warmUp.add(record(next.getAndIncrement(), texts, RECORD_BYTES));
        }
        FaultTestSupport.produce(client, t.input(), warmUp);
        JobClient job = JobTestSupport.start(conf);
        List<String> samples = new ArrayList<>();
        long baselineHeap;
        long maxHeap = 0;
        long lagAtEnd = 0;
        long maxLag = 0;
        double maxBuffered = 0;
        double maxInFlight = 0;
        double maxBackPressured = 0;
        long maxAhead = 0;
        double sustainable;
        int recordBytes;
        int flood;
        FaultTestSupport.Outputs out;
        try {
            // the sustainable rate, measured on the warm-up backlog once the model is warm
            awaitRecordsOut(100);
            long t0 = System.nanoTime();
            long n0 = recordsOut();
            awaitRecordsOut(WARM_UP - 20);
            sustainable = (recordsOut() - n0) / ((System.nanoTime() - t0) / 1e9);
            awaitRecordsOut(WARM_UP);
            baselineHeap = heapAfterGc();
            int rate = (int) Math.ceil(10 * sustainable);
            recordBytes = RECORD_BYTES;

            Flood producer = new Flood(client, t.input(), rate, seconds, next, texts, recordBytes);
            try (Admin admin = Admin.create(client)) {
                while (producer.isAlive()) {
                    Thread.sleep(5000);
                    long heap = heapAfterGc();
                    long lag = lag(admin, t.input());
                    double buffered = FaultTestSupport.maxGauge("", InProcessMetrics.suffix(Metrics.BUFFERED_RECORDS));
                    double inFlight = FaultTestSupport.maxGauge("", InProcessMetrics.suffix(Metrics.IN_FLIGHT_BATCHES));
                    double backPressured = FaultTestSupport.maxGauge("kafka-source", ".backPressuredTimeMsPerSecond");
                    double busy = FaultTestSupport.maxGauge("kafka-source", ".busyTimeMsPerSecond");
                    double position = FaultTestSupport.maxGauge(".KafkaSourceReader.topic." + t.input() + ".", ".currentOffset");
                    long ahead = (long) position - recordsOut();
                    maxAhead = Math.max(maxAhead, ahead);
                    maxHeap = Math.max(maxHeap, heap);
                    maxLag = Math.max(maxLag, lag);
                    maxBuffered = Math.max(maxBuffered, buffered);
                    maxInFlight = Math.max(maxInFlight, inFlight);
                    maxBackPressured = Math.max(maxBackPressured, backPressured);
                    lagAtEnd = lag;
                    samples.add(String.format(Locale.ROOT, "produced=%d lag=%d sourceAheadOfOutput=%d heapAfterGcMiB=%d"
                            + " buffered=%.0f inFlight=%.0f sourceBackPressuredMs/s=%.0f sourceBusyMs/s=%.0f",
                            producer.produced(), lag, ahead, heap >> 20, buffered, inFlight, backPressured, busy));
                    assertThat(buffered).as(Metrics.BUFFERED_RECORDS).isLessThanOrEqualTo(MAX_RECORDS);
                    assertThat(inFlight).as(Metrics.IN_FLIGHT_BATCHES).isLessThanOrEqualTo(CAPACITY);
                }
            }
            flood = producer.finish();
            int total = WARM_UP + flood;
            out = FaultTestSupport.readDistinct(client, t, total, Duration.ofSeconds(30L * seconds + 300));
            assertThat(out.copiesById()).hasSize(total);
            assertThat(FaultTestSupport.restarted(cluster, job.getJobID())).isFalse();
            Counters.assertAddUp(job, total);
        } finally {
            JobTestSupport.cancel(job);
        }
        samples.forEach(s -> System.out.println("OVERLOAD SAMPLE " + s));
        long floodMiB = (long) flood * recordBytes >> 20;
        assertThat(lagAtEnd).as("consumer lag at the end of the flood").isGreaterThan(flood / 2);
        // backpressure reaches the source: it emits no more than batcher and async stage hold (8 + 2 x 8)
        assertThat(maxAhead).as("records emitted by the source but not yet classified")
                .isLessThanOrEqualTo((long) MAX_RECORDS * (CAPACITY + 1) + MAX_RECORDS);
        assertThat((maxHeap - baselineHeap) >> 20).as("heap growth after GC, MiB").isLessThan(HEAP_ALLOWANCE_MB);
        FaultTestSupport.figures("overload 10x for " + seconds + " s", String.format(Locale.ROOT,
                "sustainable=%.0f rec/s offered=%.0f rec/s achieved=%.0f rec/s recordBytes=%d in=%d (%d MiB) out=%d duplicates=%d deadLetters=%d"
                        + " maxLag=%d lagAtFloodEnd=%d maxSourceAheadOfOutput=%d heapAfterGc baseline=%d MiB max=%d MiB (growth %d MiB,"
                        + " bound %d) maxBuffered=%.0f/%d maxInFlight=%.0f/%d maxSourceBackPressured=%.0f ms/s",
                sustainable, 10 * sustainable, (double) flood / seconds, recordBytes, WARM_UP + flood, floodMiB, out.count(), out.duplicates(),
                out.deadLetters().size(), maxLag, lagAtEnd, maxAhead, baselineHeap >> 20, maxHeap >> 20,
                (maxHeap - baselineHeap) >> 20, HEAP_ALLOWANCE_MB, maxBuffered, MAX_RECORDS, maxInFlight, CAPACITY,
                maxBackPressured));
    }

    static long recordsOut() {
        return InProcessMetrics.counter(InProcessMetrics.suffix(Metrics.RECORDS_OUT));
    }

    static void awaitRecordsOut(long n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (recordsOut() < n) {
            assertThat(System.nanoTime()).as("records out reached %d", n).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Records in the topic that the job's source has not read yet: the end offset minus the source's current
     * offset (its metric). Not the group's committed offsets: the source commits those from its fetcher thread
     * between fetches, which can leave them far behind.
     */
    static long lag(Admin admin, String topic) throws Exception {
        TopicPartition p0 = new TopicPartition(topic, 0);
        long end = admin.listOffsets(Map.of(p0, OffsetSpec.latest())).all().get().get(p0).offset();
        double position = FaultTestSupport.maxGauge(".KafkaSourceReader.topic." + topic + ".", ".currentOffset");
        return end - (Double.isNaN(position) ? 0 : (long) position);
    }

    /** Short texts: the model's cost per record is small and the same for every record. */
    static List<String> texts() {
        List<String> out = new ArrayList<>();
        for (DemoData.Message m : DemoData.messages().subList(0, 50)) {
            out.add(m.text().substring(0, Math.min(120, m.text().length())));
        }
        return out;
    }

    /**
     * A record of {@code bytes} bytes: a short text and a padding attribute. The attribute is passed through,
     * not tokenized, so the job's rate in records stays that of a short text while each record is large: a flood
     * of them is hundreds of MiB, which a job that buffered it would show on the heap.
     */
    static TestKafka.Input record(int i, List<String> texts, int bytes) {
        String id = "o-" + i;
        String head = "{\"id\":" + JobTestSupport.quote(id) + ",\"text\":"
                + JobTestSupport.quote(texts.get(i % texts.size())) + ",\"attributes\":{\"padding\":\"";
        String tail = "\"}}";
        int pad = Math.max(0, bytes - head.length() - tail.length());
        return TestKafka.Input.of(id, (head + PADDING.substring(0, Math.min(pad, PADDING.length())) + tail)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static final String PADDING = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(MAX_RECORD_BYTES / 36 + 1);

    /** Produces at a fixed rate for a fixed time on a thread of its own. */
    static final class Flood extends Thread {
        private final Properties client;
        private final String topic;
        private final int rate;
        private final int seconds;
        private final AtomicInteger next;
        private final List<String> texts;
        private final int bytes;
        private final AtomicInteger produced = new AtomicInteger();
        private volatile Exception failure;

        Flood(Properties client, String topic, int rate, int seconds, AtomicInteger next, List<String> texts,
                int bytes) {
            super("overload-producer");
            this.client = client;
            this.topic = topic;
            this.rate = rate;
            this.seconds = seconds;
            this.next = next;
            this.texts = texts;
            this.bytes = bytes;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            Properties p = new Properties();
            p.putAll(client);
            p.put("linger.ms", "20");
            p.put("buffer.memory", Integer.toString(8 << 20));
            p.put("batch.size", Integer.toString(256 << 10));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                long start = System.nanoTime();
                long end = start + seconds * 1_000_000_000L;
                int sent = 0;
                while (System.nanoTime() < end) {
                    TestKafka.Input r = record(next.getAndIncrement(), texts, bytes);
                    producer.send(new ProducerRecord<>(topic, r.key(), r.value()), (md, e) -> {
                        if (e != null) {
                            failure = e;
                        }
                    });
                    sent++;
                    produced.set(sent);
                    long wait = start + sent * 1_000_000_000L / rate - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                producer.flush();
            } catch (Exception e) {
                failure = e;
            }
        }

        int produced() {
            return produced.get();
        }

        int finish() throws InterruptedException {
            join();
            assertThat(failure).as("flood producer failed").isNull();
            return produced.get();
        }
    }

}
