package io.tapline.dedup;

import io.tapline.config.TaplineConfig;
import io.tapline.ops.Metrics;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dedup stream's series, registered as {@code DedupMain} registers them: {@link DedupMetrics}, the
 * {@link StreamsGauges} of a job whose Kafka Streams is not made yet (every state's series, the input lag), and the
 * {@link TopicWatch} of a start-up check that read every topic's settings (its gauges' series for each topic). In
 * this package for the package-private gauges and watch; used by {@code MonitoringNamesTest}.
 */
public final class DedupSeries {

    private DedupSeries() {
    }

    public static void register(Metrics registry) {
        new DedupMetrics(registry);
        TaplineConfig config = DedupOptions.load(new String[0], Map.of());
        StreamsGauges.register(registry, config.get(DedupOptions.INPUT_TOPIC), () -> null,
                DedupOptions.readyMaxBrokerSilence(config));
        Set<String> topics = TopicCheck.topics(config);
        TopicCheck.Result atStart = new TopicCheck.Result(null, Map.of(), Set.of(), Map.of(), List.of(), topics,
                Instant.now());
        new TopicWatch(config, asked -> {
            throw new AssertionError("no re-check here");
        }, registry, atStart, () -> { });
    }
}
