/**
 * Every labelstream metric name, label, histogram setting and drift status code ({@link
 * dev.labelstream.metrics.Metrics}), and the registration helpers every operator uses (thread-safe counters, one
 * histogram type). Imports nothing of labelstream: every other package may import it.
 */
package dev.labelstream.metrics;
