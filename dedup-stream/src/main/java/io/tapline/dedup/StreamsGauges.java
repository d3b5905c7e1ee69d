package io.tapline.dedup;

import io.tapline.ops.Metrics;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Kafka Streams' own health as gauges, read from the {@link KafkaStreams} when {@code /metrics} is scraped, never on a
 * stream thread: {@code tapline_dedup_stream_state{state}}, {@code tapline_dedup_input_lag_records} and {@code
 * tapline_dedup_broker_silence_seconds} ({@link BrokerSilence}).
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
     * Registers the gauges; {@code streams} gives the job's {@link KafkaStreams}, or null before it is made (then the
     * state is {@code CREATED}, the lag 0 and the broker silence 0). Returns the {@link BrokerSilence} the gauge reads,
     * for {@link #ready}: past {@code maxSilence} (zero: never) the job is not ready.
     */
    static BrokerSilence register(Metrics registry, String inputTopic, Supplier<KafkaStreams> streams,
                                  Duration maxSilence) {
        String stateHelp = "State of this instance's Kafka Streams client: 1 for the current state, 0 for the others "
                + "(/ready answers 200 in RUNNING only, and only while the brokers answer: "
                + "tapline_dedup_broker_silence_seconds)";
        for (KafkaStreams.State state : KafkaStreams.State.values()) {
            registry.gauge(STATE, stateHelp, () -> state(streams.get()) == state ? 1 : 0, "state", state.name());
        }
        registry.gauge(INPUT_LAG, "Records of the input topic this instance has not fetched yet: the sum over its "
                + "assigned input partitions of each one's lag at its consumer's last fetch (0 with none assigned)",
                () -> {
                    KafkaStreams s = streams.get();
                    return s == null ? 0 : inputLag(s.metrics(), inputTopic);
                });
        BrokerSilence silence = BrokerSilence.of(streams, System::nanoTime, maxSilence);
        registry.gauge(BrokerSilence.SILENCE, "Seconds since this instance's Kafka clients last received an answer "
                + "from any broker (counted from the start while none has; 0 before Kafka Streams starts). A connected "
                + "job hears from its brokers at least every few seconds, with or without input; Kafka Streams stays "
                + "RUNNING while they do not answer. /ready answers 503 past dedup.ready.max.broker.silence",
                silence::seconds);
        return silence;
    }

    /**
     * What {@code /ready} answers: Kafka Streams {@code RUNNING} (so a rolling update waits for restoration and
     * rebalances) and its brokers heard from within {@code dedup.ready.max.broker.silence}.
     */
    static boolean ready(KafkaStreams streams, BrokerSilence silence) {
        return ready(state(streams), silence);
    }

    static boolean ready(KafkaStreams.State state, BrokerSilence silence) {
        return state == KafkaStreams.State.RUNNING && !silence.tooLong();
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
