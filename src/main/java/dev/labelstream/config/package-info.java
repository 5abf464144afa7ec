/**
 * Reading a labelstream configuration: YAML (nested or flat) and {@code --set key=value} overrides, environment
 * references, rejecting misspelt keys, the options table of {@code run --help}, the one validation pass that
 * runs before anything is submitted, and the model arguments shared by the commands that load a model.
 *
 * <p>Imports: the packages whose options it reads, and {@code job}; it sits below every entry point.
 */
package dev.labelstream.config;
