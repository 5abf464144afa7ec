/**
 * Model bundles and the engine that runs them: reading a bundle ({@link dev.labelstream.inference.ModelBundle},
 * one reader), the model in force ({@link dev.labelstream.inference.ModelIdentity}), tokenization per family,
 * shared ONNX Runtime sessions (one per JVM, model and options; CUDA with CPU fallback) and {@link
 * dev.labelstream.inference.BatchClassifier} (sort, split under a token budget, pad, run, score).
 *
 * <p>Public API: ModelBundle, ModelIdentity, ModelFamily, BatchClassifier, InferenceOptions and {@link
 * dev.labelstream.inference.InferenceSettings} (the options checked before submit), and the result types
 * (Classification, ClassifiedBatch, TextInput, the exceptions).
 *
 * <p>Imports: ONNX Runtime, DJL tokenizers, Jackson and Flink's configuration only; never {@code moderation} (a
 * bundle's thresholds are carried raw and parsed there) nor anything above.
 */
package dev.labelstream.inference;
