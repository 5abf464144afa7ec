/**
 * A candidate model in the stream: which records the shadow scores (a deterministic sample by key), what the
 * primary hands the shadow stage ({@link dev.labelstream.shadow.ShadowInput}), one comparison per record ({@link
 * dev.labelstream.shadow.AgreementObservation}), and the agreement report per window ({@link
 * dev.labelstream.shadow.AgreementMonitor}): records compared, top-label agreement, confusion matrix, action
 * changes, label-mix PSI, mean absolute score difference per label, the largest disagreements (ids only).
 *
 * <p>Guarantees: window state is bounded (counts, one matrix, a fixed number of examples); nothing here can
 * dead-letter or change a primary decision.
 *
 * <p>Imports: core packages only ({@code drift} for the windows' clock, {@code io}, {@code metrics}, Avro types).
 */
package dev.labelstream.shadow;
