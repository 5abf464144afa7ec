/**
 * The Flink SQL entry point: labelstream as a model provider for {@code CREATE MODEL ... WITH ('provider' =
 * 'labelstream')} and {@code ML_PREDICT}.
 *
 * <p>Owns the provider factory ({@link dev.labelstream.sql.LabelstreamModelProviderFactory}, registered through
 * {@code META-INF/services/org.apache.flink.table.factories.Factory}), its planning-time checks (options, model
 * bundle, output columns, the time budget against ML_PREDICT's timeout), the async function that coalesces the
 * rows Flink has in flight into micro-batches, the synchronous function and the SQL output columns. (The bench's SQL part,
 * {@code bench.SqlBenchmark}, drives it from above.)
 *
 * <p>It sits above the classification core ({@code classify}) and the job's settings ({@code settings}): every call
 * into the core goes through one adapter, {@code SqlClassifier}, so the SQL path classifies exactly as the
 * DataStream job does. It may import the core and the option classes of other packages; nothing imports it.
 * Public API: the factory (for the service loader), and {@link dev.labelstream.sql.SqlOptions}; the two predict functions are public only because the planner's generated
 * code must reach them.
 */
package dev.labelstream.sql;
