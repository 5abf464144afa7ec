package dev.labelstream.sql;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.MapType;

/**
 * The columns a labelstream model may declare in {@code OUTPUT (...)}, any subset in any order. Names follow the
 * ClassifiedEvent schema (schemas/ClassifiedEvent.avsc); {@code error_kind} and {@code error_message} stand in
 * for the dead-letter topic SQL does not have. Each column reads one field of {@link SqlClassifier.Decision} and
 * gives Flink's internal data type of its SQL type.
 */
enum OutputColumn {
    DECISION_ID("decision_id", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.decisionId())),
    TOP_LABEL("top_label", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.topLabel())),
    TOP_SCORE("top_score", "DOUBLE", LogicalTypeRoot.DOUBLE, d -> d.topScore() == null ? null
            : (double) d.topScore()),
    SCORES("scores", "MAP<STRING, DOUBLE>", LogicalTypeRoot.MAP, OutputColumn::scores),
    ACTION("action", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.action())),
    ACTION_REASON("action_reason", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.actionReason())),
    CLASSIFIED("classified", "BOOLEAN", LogicalTypeRoot.BOOLEAN, SqlClassifier.Decision::classified),
    POLICY_VERSION("policy_version", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.policyVersion())),
    MODEL_NAME("model_name", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.modelName())),
    MODEL_VERSION("model_version", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.modelVersion())),
    EXECUTION_PROVIDER("execution_provider", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.provider())),
    TRUNCATED("truncated", "BOOLEAN", LogicalTypeRoot.BOOLEAN, SqlClassifier.Decision::truncated),
    TOKEN_COUNT("token_count", "INT", LogicalTypeRoot.INTEGER, SqlClassifier.Decision::tokenCount),
    INFERENCE_LATENCY_MS("inference_latency_ms", "DOUBLE", LogicalTypeRoot.DOUBLE,
            d -> (double) d.inferenceLatencyMs()),
    DECISION_TIME("decision_time", "TIMESTAMP_LTZ(3)", LogicalTypeRoot.TIMESTAMP_WITH_LOCAL_TIME_ZONE,
            d -> TimestampData.fromEpochMillis(d.decisionTime())),
    ERROR_KIND("error_kind", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.errorKind())),
    ERROR_MESSAGE("error_message", "STRING", LogicalTypeRoot.VARCHAR, d -> str(d.errorMessage()));

    /** Column names users reach for first (the example used them), for a hint in the error message. */
    static final Map<String, OutputColumn> ALIASES = Map.of("label", TOP_LABEL, "score", TOP_SCORE,
            "provider", EXECUTION_PROVIDER, "reason", ACTION_REASON);

    private static final Map<String, OutputColumn> BY_NAME = Arrays.stream(values())
            .collect(Collectors.toMap(c -> c.columnName, Function.identity()));

    final String columnName;
    /** The SQL type to declare, for messages and docs. */
    final String sqlType;
    private final LogicalTypeRoot root;
    private final Function<SqlClassifier.Decision, Object> value;

    OutputColumn(String columnName, String sqlType, LogicalTypeRoot root, Function<SqlClassifier.Decision, Object> value) {
        this.columnName = columnName;
        this.sqlType = sqlType;
        this.root = root;
        this.value = value;
    }

    /** The column named {@code name}, or null. */
    static OutputColumn named(String name) {
        return BY_NAME.get(name);
    }

    /** Whether a column declared with {@code type} can hold this column's values. */
    boolean accepts(LogicalType type) {
        if (type.getTypeRoot() != root) {
            return false;
        }
        if (type instanceof MapType m) {
            return m.getKeyType().getTypeRoot() == LogicalTypeRoot.VARCHAR
                    && m.getValueType().getTypeRoot() == LogicalTypeRoot.DOUBLE;
        }
        return true;
    }

    /** This column's value for {@code d}, in Flink's internal representation (StringData, GenericMapData...). */
    Object valueOf(SqlClassifier.Decision d) {
        return value.apply(d);
    }

    /** "decision_id STRING, top_label STRING, ...": every column, for messages. */
    static String all() {
        return Arrays.stream(values()).map(c -> c.columnName + " " + c.sqlType).collect(Collectors.joining(", "));
    }

    static List<OutputColumn> list(List<String> names) {
        return names.stream().map(OutputColumn::named).toList();
    }

    private static StringData str(String s) {
        return s == null ? null : StringData.fromString(s);
    }

    private static Object scores(SqlClassifier.Decision d) {
        if (d.scores() == null) {
            return null;
        }
        Map<Object, Object> m = new HashMap<>();
        for (int i = 0; i < d.scores().length; i++) {
            m.put(StringData.fromString(d.labels().get(i)), (double) d.scores()[i]);
        }
        return new GenericMapData(m);
    }
}
