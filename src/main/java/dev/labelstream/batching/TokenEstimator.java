package dev.labelstream.batching;

import java.io.Serializable;

/**
 * Estimates how many model tokens a record will cost, so that {@link MicroBatcher} can bound a batch by its token
 * total. It runs once per record on the task thread, before tokenization: make it cheap (for text, a multiple of
 * the UTF-8 byte length is close enough), deterministic, and never negative.
 *
 * @param <T> the record type
 */
@FunctionalInterface
public interface TokenEstimator<T> extends Serializable {

    /** The estimated token count of {@code record}; must be {@code >= 0}. */
    int estimate(T record);
}
