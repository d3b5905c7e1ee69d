package io.tapline.dedup;

import static io.tapline.dedup.testing.ProcessorStores.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.RouteNoise;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * Every noise publication read and decoded the task's whole noise store, whatever had changed: measured in a
 * {@code TopologyTestDriver}, 0.45–1.5 s for 100,000 routes of 20 fields and 1.1 s for 10,000 of 512, with one route
 * changed or none, on the stream thread every {@code dedup.publish.interval}. A publication reads the routes changed
 * since the last one, and the whole store only when another route may have something to write (retirement due,
 * legacy counters, too many changed routes to keep in mind) and for the first publication after the task is
 * initialised; the counters' decodes are counted here.
 */
class NoisePublishReadsTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
    private static final DedupConfig CONFIG = DedupConfig.defaults()
            .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(10));
    private static final long RETENTION = Duration.ofDays(7).toMillis();

    private final MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
    private int decodes;
    private final KeyValueStore<String, RouteNoise> store = store(context, DedupTopology.NOISE_STORE, counting());

    private Serde<RouteNoise> counting() {
        Serde<RouteNoise> serde = RouteNoise.serde();
        return Serdes.serdeFrom(serde.serializer(), (topic, bytes) -> {
            decodes++;
            return serde.deserializer().deserialize(topic, bytes);
        });
    }

    private NoiseProcessor processor(DedupConfig config) {
        NoiseProcessor processor = new NoiseProcessor(config, DedupMetrics.detached(), StoredFutureEventTimeTest.profiles());
        processor.init(context);
        return processor;
    }

    private static NoiseObservation pair(String route) {
        return new NoiseObservation("shop", route, List.of("$.at", "$.id"), List.of("$.at"));
    }

    private static String key(int route) {
        return String.format("shop GET /r%04d", route);
    }

    /** {@code routes} routes of {@code shop} restored with one pair each at {@code at}, published. */
    private void restore(int routes, long at) {
        for (int i = 0; i < routes; i++) {
            RouteNoise noise = RouteNoise.empty("shop", "GET /r" + i);
            noise.add(pair("GET /r" + i), 512, 1000, at);
            noise.published();
            store.put(key(i), noise);
        }
    }

    @Test
    void shouldReadNoCountersWhenNoRouteChangedAndOnlyTheChangedOnesOtherwise() {
        restore(1_000, NOW.toEpochMilli());
        NoiseProcessor processor = processor(CONFIG);
        decodes = 0;
        processor.publish(NOW.toEpochMilli() + 10_000);
        assertEquals(1_000, decodes, "the first publication after init reads every route, as before");
        assertEquals(List.of(), written());

        decodes = 0;
        processor.publish(NOW.toEpochMilli() + 20_000);
        assertEquals(0, decodes, "counters decoded by a publication with nothing to write");
        assertEquals(List.of(), written());

        processor.process(new Record<>(key(7), pair("GET /r7"), NOW.toEpochMilli() + 1));
        processor.process(new Record<>(key(500), pair("GET /r500"), NOW.toEpochMilli() + 2));
        decodes = 0;
        processor.publish(NOW.toEpochMilli() + 30_000);
        assertEquals(2, decodes, "counters decoded by a publication with two changed routes");
        assertEquals(List.of(key(7), key(500)), written());
        assertEquals(2, store.get(key(7)).pairs());

        decodes = 0;
        processor.publish(NOW.toEpochMilli() + 40_000);
        assertEquals(0, decodes, "both published: nothing changed since");
        assertEquals(List.of(), written());
    }

    /** The routes not paired for the retention are still retired, when the newest pair makes the earliest due. */
    @Test
    void shouldStillRetireRoutesWhenTheirRetentionHasPassed() {
        long at = NOW.toEpochMilli();
        restore(100, at);
        NoiseProcessor processor = processor(CONFIG);
        processor.process(new Record<>(key(1), pair("GET /r1"), at + RETENTION)); // not yet: exactly the retention
        processor.publish(at + RETENTION + 10_000);
        assertEquals(List.of(key(1)), written());

        processor.process(new Record<>(key(1), pair("GET /r1"), at + RETENTION + 1));
        decodes = 0;
        processor.publish(at + RETENTION + 20_000);
        List<String> retired = new ArrayList<>();
        List<String> profiles = new ArrayList<>();
        context.forwarded().forEach(f -> (f.record().value() == null ? retired : profiles).add(f.record().key()));
        context.resetForwards();
        assertEquals(List.of(key(1)), profiles);
        assertEquals(99, retired.size(), "every route but the one paired: " + retired);
        retired.forEach(key -> assertNull(store.get(key), key));
        assertNotNull(store.get(key(1)));

        decodes = 0;
        processor.publish(at + RETENTION + 30_000);
        assertEquals(0, decodes, "retired, and none due before the retention after GET /r1's pair");
        assertEquals(List.of(), written());
    }

    /** Past ten publications' budget of changed routes, a publication reads the store again: none is left out. */
    @Test
    void shouldPublishEveryChangedRouteWhenMoreChangedThanAreKeptInMind() {
        long at = NOW.toEpochMilli();
        restore(50, at);
        NoiseProcessor processor = processor(CONFIG.withPublishMaxNoiseProfiles(2)); // 20 changed routes kept at most
        for (int i = 0; i < 50; i += 2) {
            processor.process(new Record<>(key(i), pair("GET /r" + i), at + 1));
        }
        Map<String, Integer> published = new HashMap<>();
        for (int publication = 1; publication <= 14; publication++) {
            processor.publish(at + publication * 10_000L);
            List<String> written = written();
            assertEquals(publication <= 12 ? 2 : publication == 13 ? 1 : 0, written.size(),
                    "publication " + publication + ": " + written);
            written.forEach(key -> published.merge(key, 1, Integer::sum));
        }
        assertEquals(25, published.size(), published::toString);
        published.forEach((key, times) -> assertEquals(1, times, key));
    }

    /**
     * A route published in a transaction that is then aborted is changed again in the store restored to the last
     * commit: the task initialised again publishes it, whatever the aborted publication left in memory.
     */
    @Test
    void shouldPublishAgainARoutePublishedInAnAbortedTransaction() {
        long at = NOW.toEpochMilli();
        restore(10, at);
        NoiseProcessor processor = processor(CONFIG);
        processor.process(new Record<>(key(3), pair("GET /r3"), at + 1));
        RouteNoise committed = store.get(key(3)); // changed, not published: committed so
        processor.publish(at + 10_000);
        assertEquals(List.of(key(3)), written());
        processor.close(); // the transaction of that publication aborted
        store.put(key(3), committed);

        processor.init(context);
        processor.publish(at + 20_000);
        assertEquals(List.of(key(3)), written());
    }

    /** The keys forwarded since the last call, in order. */
    private List<String> written() {
        List<String> keys = new ArrayList<>();
        context.forwarded().forEach(f -> keys.add(f.record().key()));
        context.resetForwards();
        return keys;
    }
}
