package dev.labelstream.sql;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/**
 * Both runtime providers of a labelstream model: the planner takes the async one unless ML_PREDICT's config says
 * {@code 'async' = 'false'}. Creating a function is still planning: the runtime config given to ML_PREDICT
 * (its MAP argument) is checked here, and so is the model's time budget against ML_PREDICT's timeout.
 */
final class LabelstreamModelProvider implements AsyncPredictRuntimeProvider, PredictRuntimeProvider {
    /** The model as planned. */
    private final ModelSpec spec;
    /** The model's name in the catalog, for messages. */
    private final String model;
    /** table.exec.async-ml-predict.timeout of the session, when ML_PREDICT's config has no 'timeout'. */
    private final Duration sessionTimeout;
    /** table.exec.async-ml-predict.max-concurrent-operations, when the config has none. */
    private final int sessionMaxConcurrent;

    LabelstreamModelProvider(ModelSpec spec, String model, Duration sessionTimeout, int sessionMaxConcurrent) {
        this.spec = spec;
        this.model = model;
        this.sessionTimeout = sessionTimeout;
        this.sessionMaxConcurrent = sessionMaxConcurrent;
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
        ReadableConfig runtime = checkRuntimeKeys(context.runtimeConfig());
        int maxConcurrent = runtime.getOptional(MLPredictRuntimeConfigOptions.ASYNC_MAX_CONCURRENT_OPERATIONS)
                .orElse(sessionMaxConcurrent);
        Duration timeout = runtime.getOptional(MLPredictRuntimeConfigOptions.ASYNC_TIMEOUT).orElse(sessionTimeout);
        Duration budget = spec.budget(maxConcurrent);
        if (budget.compareTo(timeout) >= 0) {
            throw new ValidationException("Model " + model + " may take up to " + budget.toMillis() + " ms for a row ("
                    + spec.budgetExplained(maxConcurrent) + "), but ML_PREDICT's timeout is " + timeout.toMillis()
                    + " ms, and Flink fails the job when a row times out. Raise 'timeout' in ML_PREDICT's config (or "
                    + "table.exec.async-ml-predict.timeout), or lower the model's async.timeout, async.max-retries or"
                    + " batching.linger.");
        }
        return new BatchingPredictFunction(spec, spec.batchSize(maxConcurrent), timeout);
    }

    @Override
    public PredictFunction createPredictFunction(ModelProvider.Context context) {
        checkRuntimeKeys(context.runtimeConfig());
        return new SinglePredictFunction(spec);
    }

    /** Flink accepts any key in ML_PREDICT's MAP and ignores misspelt ones: name them here instead. */
    private ReadableConfig checkRuntimeKeys(ReadableConfig runtime) {
        Set<String> known = new TreeSet<>();
        for (ConfigOption<?> o : MLPredictRuntimeConfigOptions.getSupportedOptions()) {
            known.add(o.key());
        }
        Set<String> unknown = new TreeSet<>(runtime.toMap().keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new ValidationException("ML_PREDICT with model " + model + ": unknown config key(s) " + unknown
                    + " in its MAP argument. Supported keys: " + known + ". Model options go in the model's WITH"
                    + " clause.");
        }
        return runtime;
    }

    @Override
    public ModelProvider copy() {
        return new LabelstreamModelProvider(spec, model, sessionTimeout, sessionMaxConcurrent);
    }
}
