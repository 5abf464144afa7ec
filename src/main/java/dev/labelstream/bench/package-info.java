/**
 * The benchmark command: the raw engine, the full pipeline on an in-JVM broker, the naive job, an independent
 * peer, latency at a fixed load and padding efficiency, measured in one run and reported as ratios. It never
 * lives on the serving path: nothing below {@code cli} imports it.
 */
package dev.labelstream.bench;
