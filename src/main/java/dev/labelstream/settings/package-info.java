/**
 * The job's options and the one validation pass before anything is submitted: {@code JobOptions} (checkpoints,
 * the async stage, the failure policy), {@code JobSettings} (every option of every package checked in one pass,
 * with messages naming the key and what it accepts; the model in force read once from the bundle; the per-job
 * defaults that must not be shared on a cluster: consumer group, transactional-id prefix, transaction timeout),
 * {@code AsyncBudget} (the async stage's time budget and Flink's timeout, derived from the options) and {@code
 * ThreadBudget} (CPU threads x intra-op threads = cores).
 *
 * <p>Every entry point needs these before a job exists ({@code run}, {@code demo}, {@code bench}, the SQL
 * provider), and the job graph builder builds from them: they sit below {@code job} and {@code sql}, above the
 * core packages whose options they check. Imports: core packages only.
 */
package dev.labelstream.settings;
