/**
 * Moderation policy: thresholds per label mapped to actions ({@code ALLOW}, {@code REVIEW}, {@code BLOCK}) with
 * the reason and the threshold that decided, and the policy version every decision names.
 *
 * <p>Imports: the generated Avro types only. The policy is data, not code.
 */
package dev.labelstream.moderation;
