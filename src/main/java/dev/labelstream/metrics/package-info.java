/**
 * Metric names, thread-safe counters and histogram settings, in one place so that the operators, the Grafana
 * dashboard, the demo, the bench and the tests agree. Every labelstream metric lives in the {@code labelstream}
 * group of its operator.
 *
 * <p>Imports: Flink's metric API only; every other package may use it.
 */
package dev.labelstream.metrics;
