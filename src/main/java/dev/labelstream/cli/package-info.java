/**
 * The {@code labelstream} command line: {@code Main} registers every command ({@code run}, {@code classify},
 * {@code profile}, {@code train-head}, {@code loadgen}, and {@code demo} and {@code bench} from their own
 * packages). It sits above everything; nothing imports it.
 */
package dev.labelstream.cli;
