package dev.labelstream.sql;

import dev.labelstream.moderation.ModerationOptions;
import dev.labelstream.batching.BatchingOptions;
import dev.labelstream.batching.BatchingSettings;
import dev.labelstream.inference.InferenceOptions;
import dev.labelstream.inference.InvalidModelBundleException;
import dev.labelstream.settings.JobOptions;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * The {@code labelstream} model provider for Flink SQL: a transformer classifier inside the TaskManager, with the
 * micro-batching and the moderation decisions of the DataStream job.
 *
 * <pre>{@code
 * CREATE MODEL spam
 *   INPUT (text STRING)
 *   OUTPUT (top_label STRING, top_score DOUBLE, scores MAP<STRING, DOUBLE>, action STRING, classified BOOLEAN)
 *   WITH ('provider' = 'labelstream', 'inference.provider' = 'cuda', 'batching.max-records' = '64');
 * SELECT id, top_label, action FROM ML_PREDICT(TABLE comments, MODEL spam, DESCRIPTOR(text),
 *   MAP['max-concurrent-operations', '64']);
 * }</pre>
 *
 * <p>Flink calls this factory each time it translates a query that uses the model (not at {@code CREATE
 * MODEL}), so everything a configuration can get wrong fails there, before a job exists: unknown or misspelt
 * options and values (named, with Flink's factory helper), the bundle in {@code model.dir} (its files, unless
 * {@code model.check-on-client} is false), thresholds, the input and output columns, and (in the provider) the
 * time budget against ML_PREDICT's timeout. It is cheap: it reads the bundle's JSON files but never starts
 * ONNX Runtime, which the functions open on the TaskManagers.
 */
public final class LabelstreamModelProviderFactory implements ModelProviderFactory {
    public static final String IDENTIFIER = "labelstream";

    /** The job's options a model takes, with the job's meanings and defaults. */
    private static final List<ConfigOption<?>> OPTIONS = List.of(
            InferenceOptions.MODEL_DIR, InferenceOptions.MODEL_BUILTIN, SqlOptions.MODEL_CHECK_ON_CLIENT,
            InferenceOptions.PROVIDER, InferenceOptions.REQUIRE_GPU, InferenceOptions.CUDA_DEVICE,
            InferenceOptions.CUDA_MEMORY_LIMIT, InferenceOptions.INTRA_OP_THREADS, InferenceOptions.TOKEN_BUDGET,
            InferenceOptions.MIN_PADDING_EFFICIENCY, InferenceOptions.MAX_SUB_BATCH, InferenceOptions.MAX_LENGTH,
            InferenceOptions.LONG_TEXT, InferenceOptions.WINDOW_AGGREGATE,
            BatchingOptions.MAX_RECORDS, BatchingOptions.MAX_TOKENS, BatchingOptions.LINGER,
            ModerationOptions.THRESHOLDS, ModerationOptions.POLICY_VERSION, JobOptions.FAILURE_POLICY,
            JobOptions.ASYNC_THREADS, JobOptions.ASYNC_TIMEOUT, JobOptions.ASYNC_MAX_RETRIES,
            JobOptions.ASYNC_RETRY_BACKOFF);

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return new LinkedHashSet<>(OPTIONS);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        String model = context.getObjectIdentifier().asSummaryString();
        // Unknown and misspelt keys, named (with Flink's list of the supported ones).
        FactoryUtil.createModelProviderFactoryHelper(this, context).validate();
        Map<String, String> options = new HashMap<>(context.getCatalogModel().getOptions());
        options.remove(FactoryUtil.PROVIDER.key());
        Configuration conf = Configuration.fromMap(options);
        for (ConfigOption<?> o : OPTIONS) {
            try {
                conf.getOptional(o);
            } catch (IllegalArgumentException e) {
                throw invalid(model, "option '" + o.key() + "' has an invalid value '" + options.get(o.key()) + "': "
                        + e.getMessage() + ". " + o.description(), e);
            }
        }
        int maxLength;
        try {
            BatchingSettings.fromConfig(conf);
            require(conf.get(JobOptions.ASYNC_THREADS) >= 1, JobOptions.ASYNC_THREADS.key() + " must be >= 1");
            require(conf.get(JobOptions.ASYNC_MAX_RETRIES) >= 0, JobOptions.ASYNC_MAX_RETRIES.key() + " must be >= 0");
            require(!conf.get(JobOptions.ASYNC_TIMEOUT).isNegative() && !conf.get(JobOptions.ASYNC_TIMEOUT).isZero(),
                    JobOptions.ASYNC_TIMEOUT.key() + " must be more than 0 ms");
            if (conf.get(SqlOptions.MODEL_CHECK_ON_CLIENT)) {
                maxLength = SqlClassifier.check(conf).maxLength();
                int budget = conf.get(InferenceOptions.TOKEN_BUDGET);
                require(budget >= maxLength, InferenceOptions.TOKEN_BUDGET.key() + " is " + budget + " tokens, less"
                        + " than one sequence of the model's max length (" + maxLength + "): raise it or lower "
                        + InferenceOptions.MAX_LENGTH.key());
            } else {
                maxLength = conf.getOptional(InferenceOptions.MAX_LENGTH).orElse(512);
            }
        } catch (InvalidModelBundleException | IllegalArgumentException | UncheckedIOException e) {
            throw invalid(model, e.getMessage(), e);
        }
        checkInput(model, context.getCatalogModel().getResolvedInputSchema());
        List<OutputColumn> outputs = checkOutput(model, context.getCatalogModel().getResolvedOutputSchema());
        return new LabelstreamModelProvider(new ModelSpec(options, outputs, maxLength), model,
                context.getConfiguration().get(ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_TIMEOUT),
                context.getConfiguration().get(ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_MAX_CONCURRENT_OPERATIONS));
    }

    /** INPUT (text STRING) or, for pair classifiers, INPUT (text STRING, text_pair STRING). */
    private static void checkInput(String model, ResolvedSchema in) {
        boolean strings = in.getColumns().stream()
                .allMatch(c -> c.getDataType().getLogicalType().getTypeRoot() == LogicalTypeRoot.VARCHAR);
        if (in.getColumnCount() < 1 || in.getColumnCount() > 2 || !strings) {
            throw new ValidationException("Model " + model + " declares INPUT " + in.getColumns() + "; a labelstream"
                    + " model takes INPUT (text STRING), or INPUT (text STRING, text_pair STRING) for a model"
                    + " fine-tuned on pairs (then DESCRIPTOR(text, text_pair) in ML_PREDICT).");
        }
    }

    private static List<OutputColumn> checkOutput(String model, ResolvedSchema out) {
        List<OutputColumn> columns = new ArrayList<>();
        for (Column c : out.getColumns()) {
            OutputColumn known = OutputColumn.named(c.getName());
            if (known == null) {
                OutputColumn alias = OutputColumn.ALIASES.get(c.getName());
                throw new ValidationException("Model " + model + " declares output column '" + c.getName() + "',"
                        + " which a labelstream model does not produce"
                        + (alias == null ? "" : " (did you mean '" + alias.columnName + "'?)")
                        + ". Output columns (any subset, names as in the ClassifiedEvent schema): "
                        + OutputColumn.all() + ".");
            }
            if (!known.accepts(c.getDataType().getLogicalType())) {
                throw new ValidationException("Model " + model + ": output column '" + c.getName() + "' must be "
                        + known.sqlType + ", not " + c.getDataType() + ".");
            }
            columns.add(known);
        }
        return columns;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    private static ValidationException invalid(String model, String problem, Throwable cause) {
        return new ValidationException("Model " + model + " (provider '" + IDENTIFIER + "'): " + problem, cause);
    }
}
