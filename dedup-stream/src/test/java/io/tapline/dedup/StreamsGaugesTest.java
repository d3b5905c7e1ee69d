package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.ops.ExpositionCheck;
import io.tapline.ops.Metrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tapline_dedup_stream_state} and {@code tapline_dedup_input_lag_records} as a scrape reads them. The lag's
 * value over time needs a consumer fetching from a broker ({@code DedupStreamIT}); here, which of Kafka's metrics it
 * adds up.
 */
class StreamsGaugesTest {

    private static final String INPUT = "tapline.interactions";

    @Test
    void shouldExportEveryStateWithOnlyTheCurrentOneAtOneFromTheStart(@TempDir Path dir) {
        Metrics registry = new Metrics();
        AtomicReference<KafkaStreams> running = new AtomicReference<>();
        StreamsGauges.register(registry, INPUT, running::get, BrokerSilence.DEFAULT_MAX);
        // before the KafkaStreams is made (topic check, schema registration): CREATED, as Kafka Streams starts
        assertStates(registry, KafkaStreams.State.CREATED);
        assertEquals(0, ExpositionCheck.check(registry.scrape()).value(StreamsGauges.INPUT_LAG));

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(INPUT).to("out");
        KafkaStreams streams = new KafkaStreams(builder.build(), DedupTopology.streamsConfig("gauges-test",
                "127.0.0.1:1", 1, 1, dir.toString(), Map.of()));
        running.set(streams);
        assertStates(registry, KafkaStreams.State.CREATED);
        streams.close(Duration.ofSeconds(10));
        assertStates(registry, KafkaStreams.State.NOT_RUNNING);
        // the metrics of a closed client are still read, without failing the scrape
        assertEquals(0, ExpositionCheck.check(registry.scrape()).value(StreamsGauges.INPUT_LAG));
    }

    /**
     * A started job whose brokers do not answer (here none listens at all) stays out of {@code RUNNING}'s way in
     * Kafka Streams' eyes, but its broker silence grows from the start; before it is started the silence is 0. Before
     * {@code tapline_dedup_broker_silence_seconds}, nothing the job exported said so.
     */
    @Test
    void shouldExportTheBrokerSilenceOfAStartedJobWhoseBrokersDoNotAnswer(@TempDir Path dir) throws Exception {
        Metrics registry = new Metrics();
        AtomicReference<KafkaStreams> running = new AtomicReference<>();
        StreamsGauges.register(registry, INPUT, running::get, BrokerSilence.DEFAULT_MAX);
        assertEquals(0, ExpositionCheck.check(registry.scrape()).value(BrokerSilence.SILENCE), "no KafkaStreams yet");

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(INPUT).to("out");
        KafkaStreams streams = new KafkaStreams(builder.build(), DedupTopology.streamsConfig("silence-test",
                "127.0.0.1:1", 1, 1, dir.toString(), Map.of()));
        running.set(streams);
        try {
            assertEquals(0, ExpositionCheck.check(registry.scrape()).value(BrokerSilence.SILENCE), "not started");
            streams.start();
            assertEquals(0, ExpositionCheck.check(registry.scrape()).value(BrokerSilence.SILENCE), "just started");
            Thread.sleep(2_500);
            ExpositionCheck scrape = ExpositionCheck.check(registry.scrape());
            double silent = scrape.value(BrokerSilence.SILENCE);
            assertTrue(silent >= 2.4 && silent < 30, "silent for " + silent + " s");
            assertEquals("gauge", scrape.type(BrokerSilence.SILENCE));
        } finally {
            streams.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void shouldBeReadyOnlyWhileRunningAndHeardFromTheBrokersWithinTheBound() {
        AtomicLong clock = new AtomicLong();
        Map<MetricName, Metric> metrics = new LinkedHashMap<>();
        BrokerSilence silence = new BrokerSilence(() -> metrics, clock::get, Duration.ofSeconds(60));
        metrics.put(new MetricName("response-total", "consumer-metrics", "", Map.of("client-id", "c")), metric(1));
        assertFalse(StreamsGauges.ready((KafkaStreams) null, silence), "no KafkaStreams yet: CREATED");
        assertTrue(StreamsGauges.ready(KafkaStreams.State.RUNNING, silence));
        assertFalse(StreamsGauges.ready(KafkaStreams.State.REBALANCING, silence), "restoring or rebalancing");
        clock.addAndGet(Duration.ofSeconds(60).toNanos());
        assertTrue(StreamsGauges.ready(KafkaStreams.State.RUNNING, silence), "60 s without an answer: within the bound");
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        assertFalse(StreamsGauges.ready(KafkaStreams.State.RUNNING, silence), "61 s: RUNNING, but not ready");
        metrics.put(new MetricName("response-total", "consumer-metrics", "", Map.of("client-id", "c")), metric(2));
        assertTrue(StreamsGauges.ready(KafkaStreams.State.RUNNING, silence), "answered again");

        BrokerSilence never = new BrokerSilence(() -> metrics, clock::get, Duration.ZERO);
        never.seconds();
        clock.addAndGet(Duration.ofHours(1).toNanos());
        assertTrue(StreamsGauges.ready(KafkaStreams.State.RUNNING, never), "dedup.ready.max.broker.silence=0");
    }

    @Test
    void shouldAddUpTheMainConsumersLagOnTheInputTopicOnly() {
        Map<MetricName, Metric> metrics = new LinkedHashMap<>();
        // two stream threads' main consumers, one input partition each
        lag(metrics, "app-StreamThread-1-consumer", INPUT, 0, "records-lag", 120);
        lag(metrics, "app-StreamThread-2-consumer", INPUT, 1, "records-lag", 30);
        // the deprecated copy of each, under the topic's name with underscores
        lag(metrics, "app-StreamThread-1-consumer", "tapline_interactions", 0, "records-lag", 120);
        lag(metrics, "app-StreamThread-2-consumer", "tapline_interactions", 1, "records-lag", 30);
        // the same partitions' windowed maximum and average, not their latest lag
        lag(metrics, "app-StreamThread-1-consumer", INPUT, 0, "records-lag-max", 500);
        lag(metrics, "app-StreamThread-1-consumer", INPUT, 0, "records-lag-avg", 200);
        // a repartition topic the main consumer reads too, and a changelog the restore consumer reads
        lag(metrics, "app-StreamThread-1-consumer", "app-dedup-hits-repartition", 0, "records-lag", 7);
        lag(metrics, "app-StateUpdater-1-restore-consumer", "app-dedup-signatures-changelog", 0, "records-lag", 9);
        // a partition not fetched yet in this window
        lag(metrics, "app-StreamThread-2-consumer", INPUT, 2, "records-lag", Double.NaN);
        // the client-level maximum over every partition
        metrics.put(new MetricName("records-lag-max", StreamsGauges.FETCH_GROUP, "",
                Map.of("client-id", "app-StreamThread-1-consumer")), metric(500));

        assertEquals(150, StreamsGauges.inputLag(metrics, INPUT));
        assertEquals(0, StreamsGauges.inputLag(metrics, "other"));
    }

    private static void assertStates(Metrics registry, KafkaStreams.State current) {
        ExpositionCheck scrape = ExpositionCheck.check(registry.scrape());
        List<String> states = Arrays.stream(KafkaStreams.State.values()).map(Enum::name).sorted().toList();
        assertEquals(states, scrape.samples().stream().filter(s -> s.name().equals(StreamsGauges.STATE))
                .map(s -> s.labels().get("state")).sorted().toList(), "one series per state");
        for (KafkaStreams.State state : KafkaStreams.State.values()) {
            assertEquals(state == current ? 1 : 0, scrape.value(StreamsGauges.STATE, "state", state.name()),
                    state + " while " + current);
        }
        assertEquals("gauge", scrape.type(StreamsGauges.STATE));
    }

    private static void lag(Map<MetricName, Metric> metrics, String client, String topic, int partition, String name,
                            double value) {
        metrics.put(new MetricName(name, StreamsGauges.FETCH_GROUP, "", Map.of("client-id", client, "topic", topic,
                "partition", Integer.toString(partition))), metric(value));
    }

    /** A Kafka metric that only reads {@code value}. */
    static Metric metric(double value) {
        return new Metric() {
            @Override
            public MetricName metricName() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Object metricValue() {
                return value;
            }
        };
    }
}
