package dev.labelstream.drift;

import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.DriftStatistic;
import dev.labelstream.inference.ModelBundle;
import dev.labelstream.inference.ModelIdentity;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.metrics.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift monitor: tumbling windows of {@link DriftObservation}s keyed by model version, folded into one bounded
 * {@link DriftAccumulator} per window ({@link DriftAggregate}), turned at the end of each window into a {@link
 * DriftReport} against the reference profile, written to the drift topic and published as gauges.
 *
 * <p>Reference: the profile file ({@link DriftOptions#REFERENCE_PROFILE}, default the bundle's {@value
 * ReferenceProfile#FILE_NAME}) when it belongs to the window's model name and version; otherwise a warm-up
 * profile built from the first {@link DriftOptions#WARMUP_RECORDS} classified records (whole windows). The warm-up
 * profile is one accumulator in keyed state ({@code globalState}, per model version), so it is in every checkpoint
 * and survives failover and rescaling; windows of the warm-up are reported but not evaluated.
 *
 * <p>Metrics ({@code labelstream} group, {@code drift} subgroup, {@code model} = name@version; names and status
 * codes in {@link Metrics}): a gauge per statistic (its value), {@code <statistic>_status} and {@code status} (0 OK,
 * 1 WARN, 2 ALERT, -1 no data, -2 warming up, -3 too few records), {@code events}, {@code evaluated} (0/1), {@code
 * window_end}; see {@link DriftGauges}.
 */
public final class DriftMonitor extends ProcessWindowFunction<DriftAccumulator, OutboundRecord, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DriftMonitor.class);

    private final Configuration conf;
    private final DriftSettings settings;
    /** The model in force: its labels and bundle directory (for the default reference profile). */
    private final ModelIdentity model;

    private transient KafkaOptions.OutputFormat format;
    private transient ReferenceProfile fileProfile;
    private transient String profileLocation;
    private transient List<String> labels;
    private transient ValueStateDescriptor<DriftAccumulator> warmupDescriptor;
    private transient ValueStateDescriptor<Boolean> warmupDoneDescriptor;
    private transient Map<String, ReferenceProfile> warmupProfiles;
    private transient Set<String> mismatchLogged;
    /** Reference profiles of promoted models, by model key (a key with none is not cached: HashMap skips nulls). */
    private transient Map<String, ReferenceProfile> promotedProfiles;
    private transient MetricGroup metrics;
    private transient Map<String, DriftGauges> gauges;
    /** The task's processing-time clock (the test harness's in tests): when the gauges go stale. */
    private transient LongSupplier clock;

    public DriftMonitor(Configuration conf, DriftSettings settings, ModelIdentity model) {
        this.conf = conf;
        this.settings = settings;
        this.model = model;
    }

    /**
     * The drift reports of {@code observations}: keyed by model version, windowed by {@link
     * DriftOptions#WINDOW_TIME}, one {@link OutboundRecord} (destination DRIFT) per window and model version.
     */
    public static SingleOutputStreamOperator<OutboundRecord> reports(DataStream<DriftObservation> observations,
            Configuration conf, ModelIdentity model) {
        DriftSettings s = DriftSettings.of(conf);
        WindowAssigner<? super DriftObservation, TimeWindow> windows =
                s.windowTime == DriftOptions.WindowTime.PROCESSING
                        ? TumblingProcessingTimeWindows.of(s.window)
                        : ObservationTimeWindows.ofDrift(s.window.toMillis());
        TypeInformation<DriftAccumulator> acc = TypeInformation.of(DriftAccumulator.class);
        return observations
                .keyBy(DriftObservation::modelKey, Types.STRING)
                .window(windows)
                .aggregate(new DriftAggregate(s.sampleSize), new DriftMonitor(conf, s, model), acc, acc,
                        TypeInformation.of(OutboundRecord.class))
                .name("drift-monitor")
                .uid("drift-monitor");
    }

    @Override
    public void open(OpenContext ctx) {
        format = conf.get(KafkaOptions.OUTPUT_FORMAT);
        warmupDescriptor = new ValueStateDescriptor<>("drift-warmup", TypeInformation.of(DriftAccumulator.class));
        warmupDoneDescriptor = new ValueStateDescriptor<>("drift-warmup-done", Types.BOOLEAN);
        warmupProfiles = new HashMap<>();
        mismatchLogged = new HashSet<>();
        promotedProfiles = new HashMap<>();
        gauges = new HashMap<>();
        metrics = Metrics.group(getRuntimeContext().getMetricGroup()).addGroup(Metrics.DRIFT);
        clock = getRuntimeContext() instanceof StreamingRuntimeContext s
                ? s.getProcessingTimeService()::getCurrentProcessingTime : System::currentTimeMillis;
        labels = model.labels();
        Path file = settings.referenceProfile != null
                ? Path.of(settings.referenceProfile)
                : Path.of(model.dir()).resolve(ReferenceProfile.FILE_NAME);
        profileLocation = file.toString();
        if (Files.isRegularFile(file)) {
            fileProfile = ReferenceProfile.read(file);
            LOG.info("Drift: comparing windows of {} with the {}", model.key(), fileProfile);
        } else if (settings.referenceProfile != null) {
            throw new IllegalArgumentException(DriftOptions.REFERENCE_PROFILE.key() + ": " + file
                    + " does not exist. Compute it with 'labelstream profile --model DIR --input FILE'.");
        } else {
            LOG.info("Drift: {} has no {}; the reference will be built from the first {} classified records",
                    model.dir(), ReferenceProfile.FILE_NAME, settings.warmupRecords);
        }
    }

    @Override
    public void process(String key, Context ctx, Iterable<DriftAccumulator> elements, Collector<OutboundRecord> out)
            throws Exception {
        DriftAccumulator window = elements.iterator().next();
        int at = key.lastIndexOf('@');
        String name = key.substring(0, at);
        String version = key.substring(at + 1);
        DriftEvaluator.Reference reference = reference(key, name, version, window, ctx);
        DriftReport report = DriftEvaluator.evaluate(name, version, ctx.window().getStart(), ctx.window().getEnd(),
                settings.windowTime, window, reference,
                reference.profile() != null && !reference.profile().labels().isEmpty()
                        ? reference.profile().labels() : labels, settings);
        gauges.computeIfAbsent(key, k -> new DriftGauges(metrics.addGroup(Metrics.MODEL, k), settings.window.toMillis(),
                clock)).update(report, reference.profile() == null);
        if (report.getStatus() != dev.labelstream.avro.DriftStatus.OK) {
            LOG.warn("Drift report:\n{}", DriftReports.render(report, "  "));
        } else {
            LOG.info("Drift report: {}", DriftReports.headline(report));
        }
        out.collect(DriftReports.toRecord(report, format));
    }

    private DriftEvaluator.Reference reference(String key, String name, String version, DriftAccumulator window,
            Context ctx) throws Exception {
        ReferenceProfile promoted = promotedProfile(key, name, version, window.modelDir);
        if (promoted != null) {
            return new DriftEvaluator.Reference(promoted, ReferenceProfile.FILE_NAME + " of the promoted " + key + " ("
                    + promoted.records() + " records of " + promoted.source() + ")");
        }
        if (fileProfile != null) {
            if (fileProfile.matches(name, version)) {
                return new DriftEvaluator.Reference(fileProfile, Path.of(profileLocation).getFileName() + " ("
                        + fileProfile.records() + " records of " + fileProfile.source() + ")");
            }
            if (mismatchLogged.add(key)) {
                LOG.warn("Drift: {} belongs to {} {}, not to {} {}: using a warm-up reference for this model"
                        + " version instead", profileLocation, fileProfile.modelName(), fileProfile.modelVersion(),
                        name, version);
            }
        }
        ReferenceProfile cached = warmupProfiles.get(key);
        if (cached != null) {
            return new DriftEvaluator.Reference(cached, cached.source());
        }
        ValueState<DriftAccumulator> state = ctx.globalState().getState(warmupDescriptor);
        ValueState<Boolean> done = ctx.globalState().getState(warmupDoneDescriptor);
        DriftAccumulator warmup = state.value();
        if (Boolean.TRUE.equals(done.value())) {
            ReferenceProfile p = ReferenceProfile.of(name, version, labels, warmupSource(warmup), warmup);
            warmupProfiles.put(key, p);
            return new DriftEvaluator.Reference(p, p.source());
        }
        warmup = warmup == null ? window.copy() : warmup.merge(window);
        state.update(warmup);
        if (warmup.classified() < settings.warmupRecords) {
            return new DriftEvaluator.Reference(null, "warming up: " + warmup.classified() + " of "
                    + settings.warmupRecords + " records for the reference");
        }
        done.update(true);
        ReferenceProfile p = ReferenceProfile.of(name, version, labels, warmupSource(warmup), warmup);
        warmupProfiles.put(key, p);
        LOG.info("Drift: no reference profile for {} {} ({} not found or for another model); built one from the"
                + " first {} classified records of the stream. Later windows are compared with it. For a reference"
                + " from a known-good data set: labelstream profile --model DIR --input FILE", name, version,
                profileLocation, warmup.classified());
        return new DriftEvaluator.Reference(null, "reference built from this and earlier windows ("
                + warmup.classified() + " records)");
    }

    /**
     * The reference profile of a promoted model: its bundle's {@value ReferenceProfile#FILE_NAME} when it belongs to
     * that model (drift.reference-profile, when set, is the configured model's and wins for it). Read once per
     * model version; null when there is none (then the warm-up builds one).
     */
    private ReferenceProfile promotedProfile(String key, String name, String version, String dir) {
        if (dir == null || settings.referenceProfile != null && fileProfile != null && fileProfile.matches(name,
                version)) {
            return null;
        }
        return promotedProfiles.computeIfAbsent(key, k -> {
            Path file = Path.of(dir).resolve(ReferenceProfile.FILE_NAME);
            if (!Files.isRegularFile(file)) {
                return null;
            }
            ReferenceProfile p = ReferenceProfile.read(file);
            if (!p.matches(name, version)) {
                if (mismatchLogged.add(k)) {
                    LOG.warn("Drift: {} belongs to {} {}, not to the promoted {}: using a warm-up reference", file,
                            p.modelName(), p.modelVersion(), k);
                }
                return null;
            }
            LOG.info("Drift: comparing windows of the promoted {} with the {}", k, p);
            return p;
        });
    }

    private static String warmupSource(DriftAccumulator warmup) {
        return "warm-up: the first " + warmup.classified() + " records of the stream";
    }
}
