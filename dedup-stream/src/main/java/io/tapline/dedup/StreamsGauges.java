package io.tapline.dedup;

import io.tapline.ops.Metrics;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Kafka Streams' own health as gauges, read from the {@link KafkaStreams} when {@code /metrics} is scraped, never on a
 * stream thread: {@code tapline_dedup_stream_state{state}} and {@code tapline_dedup_input_lag_records}.
 *
 * <p>The state is read with {@link KafkaStreams#state()}, as {@code /ready} reads it, rather than kept from the state
 * listener: Kafka Streams calls its listener outside its state lock, so two transitions made together (a stream
 * thread's and a close's) may reach a listener in the other order, and a value kept from it could stay wrong.
 */
final class StreamsGauges {

    static final String STATE = "tapline_dedup_stream_state";
    static final String INPUT_LAG = "tapline_dedup_input_lag_records";
    /** The consumers' per-partition lag: the fetch position's distance to the end (read_committed: the last stable offset). */
    static final String FETCH_GROUP = "consumer-fetch-manager-metrics";
    static final String RECORDS_LAG = "records-lag";
    /** The restore consumer's client id ends so; the main consumer's in {@code -consumer}. */
    static final String RESTORE_CONSUMER = "-restore-consumer";

    private StreamsGauges() {
    }

    /**
     * Registers both gauges; {@code streams} gives the job's {@link KafkaStreams}, or null before it is made (then the
     * state is {@code CREATED} and the lag 0).
     */
    static void register(Metrics registry, String inputTopic, Supplier<KafkaStreams> streams) {
        String stateHelp = "State of this instance's Kafka Streams client: 1 for the current state, 0 for the others "
                + "(/ready answers 200 in RUNNING only)";
        for (KafkaStreams.State state : KafkaStreams.State.values()) {
            registry.gauge(STATE, stateHelp, () -> state(streams.get()) == state ? 1 : 0, "state", state.name());
        }
        registry.gauge(INPUT_LAG, "Records of the input topic this instance has not fetched yet: the sum over its "
                + "assigned input partitions of each one's lag at its consumer's last fetch (0 with none assigned)",
                () -> {
                    KafkaStreams s = streams.get();
                    return s == null ? 0 : inputLag(s.metrics(), inputTopic);
                });
    }

    static KafkaStreams.State state(KafkaStreams streams) {
        return streams == null ? KafkaStreams.State.CREATED : streams.state();
    }

    /**
     * The sum of {@code records-lag} over the main consumers' partitions of {@code inputTopic}. Only the metric tagged
     * with the topic's own name counts: for a name holding dots the consumer also reports each partition under the
     * name with underscores (deprecated), which would count it twice.
     */
    static long inputLag(Map<MetricName, ? extends Metric> metrics, String inputTopic) {
        long lag = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals(RECORDS_LAG) && name.group().equals(FETCH_GROUP)
                    && inputTopic.equals(name.tags().get("topic"))
                    && !name.tags().getOrDefault("client-id", "").endsWith(RESTORE_CONSUMER)
                    && e.getValue().metricValue() instanceof Number n && n.doubleValue() > 0) {
                lag += n.longValue(); // NaN and negatives (none recorded yet) add nothing
            }
        }
        return lag;
    }
}
