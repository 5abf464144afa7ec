/**
 * Moderation policies: per-label thresholds, the action a classification's scores lead to and why, and {@link
 * dev.labelstream.moderation.PolicySettings} (the moderation options checked before submit, then against the
 * model's labels).
 *
 * <p>Imports: {@code inference} (a bundle's labels and shipped thresholds) and the generated Avro enums only.
 */
package dev.labelstream.moderation;
