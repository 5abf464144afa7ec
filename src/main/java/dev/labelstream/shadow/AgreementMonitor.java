package dev.labelstream.shadow;

import dev.labelstream.avro.ActionPair;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.Disagreement;
import dev.labelstream.avro.LabelPair;
import dev.labelstream.avro.LabelValue;
import dev.labelstream.drift.DriftOptions;
import dev.labelstream.drift.DriftSettings;
import dev.labelstream.drift.ObservationTimeWindows;
import dev.labelstream.io.KafkaOptions;
import dev.labelstream.io.OutboundRecord;
import dev.labelstream.io.Reports;
import dev.labelstream.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
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
 * The agreement report: tumbling windows of {@link AgreementObservation}s keyed by model pair, on the drift
 * windows' clock (drift.window, drift.window-time), folded into one {@link AgreementAccumulator} per window and
 * turned at its end into an {@link AgreementReport}, written to the report topic (kind {@value
 * Reports#AGREEMENT_REPORT}) and published as gauges.
 *
 * <p>Status: OK, WARN below {@link ShadowOptions#AGREEMENT_WARN}, ALERT below {@link ShadowOptions#AGREEMENT_ALERT},
 * TOO_FEW under {@link ShadowOptions#MIN_RECORDS} compared records (not judged: a shadow that sheds everything, or
 * a quiet window, is not an ALERT).
 *
 * <p>Metrics ({@code labelstream} group, {@code shadow} subgroup, {@code model} = the shadow's name@version):
 * {@code agreement}, {@code compared}, {@code shed}, {@code failed}, {@code actionsChanged}, {@code status} (the
 * drift codes: 0 OK, 1 WARN, 2 ALERT, -3 too few, -1 no data once no window has closed for two window lengths),
 * {@code window_end}.
 */
public final class AgreementMonitor
        extends ProcessWindowFunction<AgreementAccumulator, OutboundRecord, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AgreementMonitor.class);
    /** The report's status words. */
    public static final String OK = "OK";
    public static final String WARN = "WARN";
    public static final String ALERT = "ALERT";
    public static final String TOO_FEW = "TOO_FEW";

    private final Configuration conf;

    private transient KafkaOptions.OutputFormat format;
    private transient MetricGroup metrics;
    private transient Map<String, Gauges> gauges;
    private transient LongSupplier clock;
    /** The windows' length, ms: gauges read "no data" after two of them without a report. */
    private transient long windowMillis;

    AgreementMonitor(Configuration conf) {
        this.conf = conf;
    }

    /** The agreement reports of {@code observations}, one report-topic record per window and model pair. */
    public static SingleOutputStreamOperator<OutboundRecord> reports(DataStream<AgreementObservation> observations,
            Configuration conf) {
        DriftSettings drift = DriftSettings.of(conf);
        WindowAssigner<? super AgreementObservation, TimeWindow> windows =
                drift.windowTime() == DriftOptions.WindowTime.PROCESSING
                        ? TumblingProcessingTimeWindows.of(drift.window())
                        : ObservationTimeWindows.of(drift.window().toMillis(), AgreementObservation::eventTime);
        TypeInformation<AgreementAccumulator> acc = TypeInformation.of(AgreementAccumulator.class);
        return observations
                .keyBy(AgreementObservation::pair, Types.STRING)
                .window(windows)
                .aggregate(new Aggregate(conf.get(ShadowOptions.EXAMPLES)), new AgreementMonitor(conf), acc, acc,
                        TypeInformation.of(OutboundRecord.class))
                .name("agreement-monitor")
                .uid("agreement-monitor");
    }

    /** Folds a window's observations into its accumulator. */
    static final class Aggregate
            implements AggregateFunction<AgreementObservation, AgreementAccumulator, AgreementAccumulator> {
        private static final long serialVersionUID = 1L;
        private final int examples;

        Aggregate(int examples) {
            this.examples = examples;
        }

        @Override
        public AgreementAccumulator createAccumulator() {
            return new AgreementAccumulator(examples);
        }

        @Override
        public AgreementAccumulator add(AgreementObservation o, AgreementAccumulator acc) {
            acc.add(o);
            return acc;
        }

        @Override
        public AgreementAccumulator getResult(AgreementAccumulator acc) {
            return acc;
        }

        @Override
        public AgreementAccumulator merge(AgreementAccumulator a, AgreementAccumulator b) {
            return a.merge(b);
        }
    }

    @Override
    public void open(OpenContext ctx) {
        format = conf.get(KafkaOptions.OUTPUT_FORMAT);
        metrics = Metrics.group(getRuntimeContext().getMetricGroup()).addGroup(Metrics.SHADOW);
        gauges = new HashMap<>();
        windowMillis = DriftSettings.of(conf).window().toMillis();
        clock = getRuntimeContext() instanceof StreamingRuntimeContext s
                ? s.getProcessingTimeService()::getCurrentProcessingTime : System::currentTimeMillis;
    }

    @Override
    public void process(String pair, Context ctx, Iterable<AgreementAccumulator> elements,
            Collector<OutboundRecord> out) {
        AgreementAccumulator acc = elements.iterator().next();
        AgreementReport report = report(pair, ctx.window().getStart(), ctx.window().getEnd(), acc, conf);
        String shadowKey = pair.substring(pair.indexOf('>') + 1);
        gauges.computeIfAbsent(shadowKey, k -> new Gauges(metrics.addGroup(Metrics.MODEL, k), 2 * windowMillis, clock))
                .update(report);
        String line = headline(report);
        if (WARN.equals(report.getStatus()) || ALERT.equals(report.getStatus())) {
            LOG.warn("Agreement report: {}", line);
        } else {
            LOG.info("Agreement report: {}", line);
        }
        byte[] key = pair.getBytes(StandardCharsets.UTF_8);
        out.collect(Reports.toRecord(Reports.AGREEMENT_REPORT, 1, report.getWindowEnd().toEpochMilli(), report, key,
                List.of(), format));
    }

    /** The report of one window's accumulator. */
    static AgreementReport report(String pair, long start, long end, AgreementAccumulator acc, Configuration conf) {
        int split = pair.indexOf('>');
        String primary = pair.substring(0, split);
        String shadow = pair.substring(split + 1);
        double warn = conf.get(ShadowOptions.AGREEMENT_WARN);
        double alert = conf.get(ShadowOptions.AGREEMENT_ALERT);
        double agreement = acc.agreement();
        String status = acc.compared() < conf.get(ShadowOptions.MIN_RECORDS) ? TOO_FEW
                : agreement < alert ? ALERT : agreement < warn ? WARN : OK;
        List<LabelPair> confusion = new ArrayList<>();
        for (String p : acc.primaryLabels()) {
            for (String s : acc.shadowLabels()) {
                long n = acc.confusion(p, s);
                if (n > 0) {
                    confusion.add(new LabelPair(p, s, n));
                }
            }
        }
        List<ActionPair> actions = new ArrayList<>();
        for (String from : AgreementAccumulator.ACTIONS) {
            for (String to : AgreementAccumulator.ACTIONS) {
                long n = acc.actions(from, to);
                if (n > 0) {
                    actions.add(new ActionPair(from, to, n));
                }
            }
        }
        List<LabelValue> diffs = new ArrayList<>();
        for (String l : acc.primaryLabels()) {
            double d = acc.meanAbsScoreDifference(l);
            if (!Double.isNaN(d)) {
                diffs.add(new LabelValue(l, d));
            }
        }
        List<Disagreement> examples = new ArrayList<>();
        for (AgreementAccumulator.Example e : acc.examples()) {
            examples.add(new Disagreement(String.valueOf(e.inputId()), e.primaryDecisionId(), e.primaryLabel(),
                    e.shadowLabel(), e.distance()));
        }
        double psi = acc.labelMixPsi();
        return AgreementReport.newBuilder()
                .setPrimaryModelName(name(primary))
                .setPrimaryModelVersion(version(primary))
                .setShadowModelName(name(shadow))
                .setShadowModelVersion(version(shadow))
                .setWindowStart(Instant.ofEpochMilli(start))
                .setWindowEnd(Instant.ofEpochMilli(end))
                .setWindowTime(conf.get(DriftOptions.WINDOW_TIME).name())
                .setSampleRate(conf.get(ShadowOptions.SAMPLE_RATE))
                .setSampled(acc.compared() + acc.shed() + acc.failed())
                .setCompared(acc.compared())
                .setShed(acc.shed())
                .setFailed(acc.failed())
                .setAgreement(Double.isNaN(agreement) ? null : agreement)
                .setStatus(status)
                .setAgreementWarn(warn)
                .setAgreementAlert(alert)
                .setPrimaryLabels(acc.primaryLabels())
                .setShadowLabels(acc.shadowLabels())
                .setConfusion(confusion)
                .setActions(actions)
                .setActionsChanged(acc.actionsChanged())
                .setLabelMixPsi(Double.isNaN(psi) ? null : psi)
                .setMeanAbsScoreDifference(diffs)
                .setLargestDisagreements(examples)
                .build();
    }

    /** One line for the log and the demo. */
    public static String headline(AgreementReport r) {
        StringBuilder b = new StringBuilder();
        b.append(r.getStatus()).append(": ").append(r.getShadowModelName()).append('@')
                .append(r.getShadowModelVersion()).append(" vs ").append(r.getPrimaryModelName()).append('@')
                .append(r.getPrimaryModelVersion()).append(", ").append(r.getCompared()).append(" compared of ")
                .append(r.getSampled()).append(" sampled (").append(r.getShed()).append(" shed, ")
                .append(r.getFailed()).append(" failed)");
        if (r.getAgreement() != null) {
            b.append(String.format(", agreement %.3f, %d action%s changed", r.getAgreement(), r.getActionsChanged(),
                    r.getActionsChanged() == 1 ? "" : "s"));
            StringBuilder moves = new StringBuilder();
            for (ActionPair a : r.getActions()) {
                if (!a.getPrimary().equals(a.getShadow())) {
                    moves.append(moves.length() == 0 ? " (" : ", ").append(a.getPrimary()).append("->")
                            .append(a.getShadow()).append(' ').append(a.getCount());
                }
            }
            b.append(moves.length() == 0 ? "" : moves.append(')'));
            if (r.getLabelMixPsi() != null) {
                b.append(String.format(", label-mix PSI %.4f", r.getLabelMixPsi()));
            }
        }
        return b.toString();
    }

    private static String name(String key) {
        return key.substring(0, key.lastIndexOf('@'));
    }

    private static String version(String key) {
        return key.substring(key.lastIndexOf('@') + 1);
    }

    /** The gauges of one shadow model: the latest window's figures, "no data" once they are two windows old. */
    static final class Gauges {
        private final LongSupplier clock;
        private final long staleAfter;
        private volatile double agreement = Double.NaN;
        private volatile long compared;
        private volatile long shed;
        private volatile long failed;
        private volatile long actionsChanged;
        private volatile int status = Metrics.DRIFT_NO_DATA;
        private volatile long windowEnd;
        private volatile long updatedAt;

        Gauges(MetricGroup g, long staleAfter, LongSupplier clock) {
            this.clock = clock;
            this.staleAfter = staleAfter;
            this.updatedAt = clock.getAsLong();
            g.gauge(Metrics.SHADOW_AGREEMENT, () -> stale() ? Double.NaN : agreement);
            g.gauge(Metrics.SHADOW_COMPARED, () -> compared);
            g.gauge(Metrics.SHADOW_SHED, () -> shed);
            g.gauge(Metrics.SHADOW_FAILED, () -> failed);
            g.gauge(Metrics.SHADOW_ACTIONS_CHANGED, () -> actionsChanged);
            g.gauge(Metrics.DRIFT_STATUS, () -> stale() ? Metrics.DRIFT_NO_DATA : status);
            g.gauge(Metrics.DRIFT_WINDOW_END, () -> windowEnd);
        }

        void update(AgreementReport r) {
            agreement = r.getAgreement() == null ? Double.NaN : r.getAgreement();
            compared = r.getCompared();
            shed = r.getShed();
            failed = r.getFailed();
            actionsChanged = r.getActionsChanged();
            status = switch (r.getStatus()) {
                case OK -> Metrics.DRIFT_OK;
                case WARN -> Metrics.DRIFT_WARN;
                case ALERT -> Metrics.DRIFT_ALERT;
                default -> Metrics.DRIFT_TOO_FEW_RECORDS;
            };
            windowEnd = r.getWindowEnd().toEpochMilli();
            updatedAt = clock.getAsLong();
        }

        private boolean stale() {
            return clock.getAsLong() - updatedAt > staleAfter;
        }
    }
}
