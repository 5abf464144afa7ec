/**
 * The demo: the real pipeline on an in-JVM Kafka broker ({@code EmbeddedKafka}) and a Flink MiniCluster with
 * the real default model and real messages, live progress read from in-process metrics, and a summary. Tests
 * and the bench reuse its broker and its data; the bench its candidate model ({@code CandidateModel}) too.
 */
package dev.labelstream.demo;
