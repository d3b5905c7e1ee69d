package io.tapline.replay;

import io.tapline.ops.Metrics;

/**
 * The replay worker's series, registered by {@link ReplayCommand#registerMetrics} as a run registers them. In this
 * package for that package-private method; used by {@code MonitoringNamesTest}.
 */
public final class ReplaySeries {

    private ReplaySeries() {
    }

    public static void register(Metrics registry) {
        ReplayCommand.registerMetrics(registry, () -> 0, () -> 0, () -> 0, () -> 0, () -> 0, () -> false);
    }
}
