package dev.labelstream.bench;

import dev.labelstream.demo.InProcessMetrics;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.runtime.minicluster.RpcServiceSharing;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * The one Flink MiniCluster the bench's job runs share, as jobs share a standing cluster in production: started
 * with the first run, kept until the bench ends ({@link #closeShared}).
 *
 * <p>Why: a local environment starts a MiniCluster for every job, and each loads its RPC system (Pekko, Scala,
 * their configuration library) into a class loader of its own: new classes to load, and for the JIT to compile,
 * in every run, and seconds of startup (a feed run's 3.4 s fell to 0.9-1.7 s). The jobs carry their own options
 * (checkpoint interval and directory, object reuse, buffer timeout) in their job graphs; only the slots and the
 * in-process metric reporter are the cluster's.
 */
final class BenchCluster {
    private static MiniCluster shared;
    private static int sharedSlots;

    private BenchCluster() {}

    /** Submits the job {@code env} holds to the shared cluster (started, or restarted with more slots, as needed). */
    static synchronized JobClient execute(StreamExecutionEnvironment env, String jobName, int slots) throws Exception {
        MiniCluster cluster = cluster(slots);
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(jobName);
        JobGraph job = graph.getJobGraph(Thread.currentThread().getContextClassLoader(), null);
        JobID id = cluster.submitJob(job).get().getJobID();
        return new MiniClusterJobClient(id, cluster, Thread.currentThread().getContextClassLoader(),
                MiniClusterJobClient.JobFinalizationBehavior.NOTHING);
    }

    private static MiniCluster cluster(int slots) throws Exception {
        if (shared != null && sharedSlots >= slots) {
            return shared;
        }
        closeShared();
        Configuration conf = new Configuration();
        conf.set(RestOptions.PORT, 0);
        InProcessMetrics.configure(conf);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .setRpcServiceSharing(RpcServiceSharing.SHARED)
                .build());
        cluster.start();
        shared = cluster;
        sharedSlots = slots;
        return cluster;
    }

    /** Stops the shared cluster, if one runs. */
    static synchronized void closeShared() throws Exception {
        if (shared != null) {
            MiniCluster c = shared;
            shared = null;
            c.close();
        }
    }
}
