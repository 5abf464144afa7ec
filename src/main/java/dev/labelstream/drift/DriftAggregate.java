package dev.labelstream.drift;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * The incremental part of a drift window: each observation is folded into the window's {@link DriftAccumulator}
 * as it arrives, so the window's state is one bounded accumulator, never its records.
 */
public final class DriftAggregate implements AggregateFunction<DriftObservation, DriftAccumulator, DriftAccumulator> {
    private static final long serialVersionUID = 1L;

    private final int sampleSize;

    public DriftAggregate(int sampleSize) {
        this.sampleSize = sampleSize;
    }

    @Override
    public DriftAccumulator createAccumulator() {
        return new DriftAccumulator(sampleSize, DriftSettings.SEED);
    }

    @Override
    public DriftAccumulator add(DriftObservation value, DriftAccumulator acc) {
        return acc.add(value);
    }

    @Override
    public DriftAccumulator getResult(DriftAccumulator acc) {
        return acc;
    }

    @Override
    public DriftAccumulator merge(DriftAccumulator a, DriftAccumulator b) {
        return a.merge(b);
    }
}
