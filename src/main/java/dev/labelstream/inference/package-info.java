/**
 * Model bundles and the batch classifier: reading a bundle directory (Optimum layout: model.onnx,
 * tokenizer.json, config.json, labelstream.json), family-aware tokenization, length-sorted sub-batches padded
 * under a token budget, one ONNX Runtime session per JVM and model (CUDA with a logged CPU fallback), scores.
 *
 * <p>Guarantees: a padded batch gives the same scores as one record at a time (except graphs that are not
 * batch-invariant, which run one sequence per call); every startup error names the file or option and what to
 * do; every call is bounded by a deadline through ONNX Runtime's terminate flag.
 *
 * <p>Imports: no other labelstream package except {@code metrics}; it knows nothing of Flink's operators or
 * Kafka.
 */
package dev.labelstream.inference;
