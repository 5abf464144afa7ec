package dev.labelstream.drift;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;

/**
 * Options of the drift monitor. Each statistic has a warn and an alert threshold ({@code drift.<statistic>.warn},
 * {@code .alert}); a statistic at or above a threshold has that status, and a report's status is its worst
 * statistic's.
 */
public final class DriftOptions {
    private DriftOptions() {}

    /** Which clock cuts the drift windows. */
    public enum WindowTime {
        /** When the records are classified (default): reports come every window whatever the input's timestamps. */
        PROCESSING,
        /**
         * The Kafka records' timestamps, with watermarks generated per partition at the source: windows hold what
         * happened in them, also when replaying a backlog. A window closes when the watermark passes its end, so
         * the last window of a stream that stops is reported only when later records arrive.
         */
        EVENT
    }

    public static final ConfigOption<Boolean> ENABLED = key("drift.enabled")
            .booleanType()
            .defaultValue(true)
            .withDescription("Compute drift reports (to kafka.drift-topic and as metrics).");

    public static final ConfigOption<Duration> WINDOW = key("drift.window")
            .durationType()
            .defaultValue(Duration.ofMinutes(1))
            .withDescription("Length of the tumbling drift windows; one report per window and model version.");

    public static final ConfigOption<WindowTime> WINDOW_TIME = key("drift.window-time")
            .enumType(WindowTime.class)
            .defaultValue(WindowTime.PROCESSING)
            .withDescription("PROCESSING: windows by the time records are classified. EVENT: by the Kafka records'"
                    + " timestamps, with per-partition watermarks (drift.max-out-of-orderness); records later than"
                    + " the watermark are left out of the drift statistics (never out of the output).");

    public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS = key("drift.max-out-of-orderness")
            .durationType()
            .defaultValue(Duration.ofSeconds(5))
            .withDescription("EVENT windows: how far behind the newest timestamp of a partition a record may be.");

    public static final ConfigOption<Duration> IDLE_TIMEOUT = key("drift.idle-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(1))
            .withDescription("EVENT windows: a partition without records for this long stops holding the watermark"
                    + " back.");

    public static final ConfigOption<String> REFERENCE_PROFILE = key("drift.reference-profile")
            .stringType()
            .noDefaultValue()
            .withDescription("Reference profile (JSON, written by 'labelstream profile'). Default: the model"
                    + " bundle's reference-profile.json. Without one, the monitor builds the reference from the"
                    + " first drift.warmup-records records and logs that it did.");

    public static final ConfigOption<Integer> WARMUP_RECORDS = key("drift.warmup-records")
            .intType()
            .defaultValue(500)
            .withDescription("Without a reference profile: classified records (whole windows) that make the"
                    + " reference. Kept in keyed state, so it survives failover.");

    public static final ConfigOption<Integer> MIN_WINDOW_RECORDS = key("drift.min-window-records")
            .intType()
            .defaultValue(100)
            .withDescription("A window with fewer classified records is reported but not evaluated (all OK): on"
                    + " small samples PSI and MMD are biased upwards (PSI by about (bins - 1) / n).");

    public static final ConfigOption<Double> LOW_CONFIDENCE = key("drift.low-confidence")
            .doubleType()
            .defaultValue(0.6)
            .withDescription("A prediction with confidence (top score) below this is low-confidence; a multiple of"
                    + " 0.01.");

    public static final ConfigOption<Boolean> EMBEDDINGS = key("drift.embeddings")
            .booleanType()
            .defaultValue(true)
            .withDescription("Embedding drift for head-less bundles: each record's pooled embedding travels to the"
                    + " drift operator (4 bytes per dimension per record). Off: no embedding statistics.");

    public static final ConfigOption<Integer> EMBEDDING_SAMPLE_SIZE = key("drift.embedding-sample-size")
            .intType()
            .defaultValue(128)
            .withDescription("Embeddings kept per window (reservoir sample, seeded) for MMD; the reference keeps"
                    + " as many. Memory: size x dimension x 4 bytes per window.");

    public static final ConfigOption<Double> MMD_BANDWIDTH = key("drift.mmd-bandwidth")
            .doubleType()
            .noDefaultValue()
            .withDescription("RBF kernel bandwidth (sigma) of MMD. Default: the profile's, the median distance"
                    + " between its sample's embeddings (median heuristic), fixed so windows are comparable.");

    // ---- thresholds: defaults from Statistic, reasons here ----

    public static final ConfigOption<Double> LABEL_PSI_WARN = warn(Statistic.LABEL_PSI,
            "PSI < 0.1 is the usual 'no significant change' band (Evidently's default PSI threshold is 0.1).");
    public static final ConfigOption<Double> LABEL_PSI_ALERT = alert(Statistic.LABEL_PSI,
            "PSI >= 0.25 is the conventional 'significant shift' level (credit-scoring practice, as in NannyML and"
                    + " Evidently docs).");
    public static final ConfigOption<Double> LABEL_JS_DISTANCE_WARN = warn(Statistic.LABEL_JS_DISTANCE,
            "Evidently's default threshold for Jensen-Shannon distance (natural log, as scipy) is 0.1; for a 30%"
                    + " label it matches PSI 0.1.");
    public static final ConfigOption<Double> LABEL_JS_DISTANCE_ALERT = alert(Statistic.LABEL_JS_DISTANCE,
            "Twice the warn level; for a 30% label, near PSI 0.25 (JS 0.18).");
    public static final ConfigOption<Double> MEAN_CONFIDENCE_DROP_WARN = warn(Statistic.MEAN_CONFIDENCE_DROP,
            "Reference mean confidence minus the window's: 5 points lower is worth a look.");
    public static final ConfigOption<Double> MEAN_CONFIDENCE_DROP_ALERT = alert(Statistic.MEAN_CONFIDENCE_DROP,
            "10 points lower: the model is unsure of much of the traffic.");
    public static final ConfigOption<Double> LOW_CONFIDENCE_SHARE_INCREASE_WARN = warn(
            Statistic.LOW_CONFIDENCE_SHARE_INCREASE,
            "5 more percentage points of predictions below drift.low-confidence than in the reference.");
    public static final ConfigOption<Double> LOW_CONFIDENCE_SHARE_INCREASE_ALERT = alert(
            Statistic.LOW_CONFIDENCE_SHARE_INCREASE, "15 more percentage points.");
    public static final ConfigOption<Double> TOKEN_LENGTH_PSI_WARN = warn(Statistic.TOKEN_LENGTH_PSI,
            "Same PSI convention as labels (0.1 / 0.25).");
    public static final ConfigOption<Double> TOKEN_LENGTH_PSI_ALERT = alert(Statistic.TOKEN_LENGTH_PSI,
            "Same PSI convention as labels (0.1 / 0.25).");
    public static final ConfigOption<Double> TRUNCATION_RATE_INCREASE_WARN = warn(Statistic.TRUNCATION_RATE_INCREASE,
            "15 more percentage points of inputs cut at max length: the model sees less of them. The standard"
                    + " error of a 60% rate on 100 records is 5 points; this is three of them.");
    public static final ConfigOption<Double> TRUNCATION_RATE_INCREASE_ALERT = alert(
            Statistic.TRUNCATION_RATE_INCREASE, "30 more percentage points.");
    public static final ConfigOption<Double> UNKNOWN_TOKEN_RATE_INCREASE_WARN = warn(
            Statistic.UNKNOWN_TOKEN_RATE_INCREASE,
            "1 more unknown token per 100: new script, emoji or encoding problems the vocabulary does not cover.");
    public static final ConfigOption<Double> UNKNOWN_TOKEN_RATE_INCREASE_ALERT = alert(
            Statistic.UNKNOWN_TOKEN_RATE_INCREASE, "5 more per 100.");
    public static final ConfigOption<Double> EMBEDDING_COSINE_DISTANCE_WARN = warn(
            Statistic.EMBEDDING_COSINE_DISTANCE,
            "Evidently's distance method flags mean embeddings 0.2 apart; for the default model, windows of 100"
                    + " records from the reference distribution stay below 0.08 (the mean of a small sample is"
                    + " noisy), another domain is at 0.7.");
    public static final ConfigOption<Double> EMBEDDING_COSINE_DISTANCE_ALERT = alert(
            Statistic.EMBEDDING_COSINE_DISTANCE, "0.2, Evidently's default distance threshold.");
    public static final ConfigOption<Double> EMBEDDING_MMD_WARN = warn(Statistic.EMBEDDING_MMD,
            "Evidently's default MMD threshold for embeddings is 0.015; with the median-heuristic bandwidth the"
                    + " default model's MMD between samples of the reference distribution stays below 0.005, so"
                    + " 0.01 warns a little earlier.");
    public static final ConfigOption<Double> EMBEDDING_MMD_ALERT = alert(Statistic.EMBEDDING_MMD,
            "0.05: another domain (chat messages instead of e-mail) reaches 0.09.");
    public static final ConfigOption<Double> DEAD_LETTER_RATE_WARN = warn(Statistic.DEAD_LETTER_RATE,
            "2% of inputs not classified (the reference has none).");
    public static final ConfigOption<Double> DEAD_LETTER_RATE_ALERT = alert(Statistic.DEAD_LETTER_RATE,
            "5% of inputs not classified.");

    private static ConfigOption<Double> warn(Statistic s, String why) {
        return key("drift." + s.key + ".warn")
                .doubleType()
                .defaultValue(s.defaultWarn)
                .withDescription("WARN threshold of " + s.id + " (" + s.description + "). " + why);
    }

    private static ConfigOption<Double> alert(Statistic s, String why) {
        return key("drift." + s.key + ".alert")
                .doubleType()
                .defaultValue(s.defaultAlert)
                .withDescription("ALERT threshold of " + s.id + ". " + why);
    }

    static ConfigOption<Double> warnOption(Statistic s) {
        return option(s, ".warn");
    }

    static ConfigOption<Double> alertOption(Statistic s) {
        return option(s, ".alert");
    }

    @SuppressWarnings("unchecked")
    private static ConfigOption<Double> option(Statistic s, String suffix) {
        String k = "drift." + s.key + suffix;
        for (java.lang.reflect.Field f : DriftOptions.class.getFields()) {
            try {
                if (f.get(null) instanceof ConfigOption<?> o && o.key().equals(k)) {
                    return (ConfigOption<Double>) o;
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no option " + k);
    }
}
