package io.tapline.dedup;

import static io.tapline.dedup.testing.ProcessorStores.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.RouteNoise;
import io.tapline.dedup.state.AvroBinarySerde;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * A noise publication wrote every changed route's profile and every stale route's tombstone in one punctuation, one
 * transaction: a deploy that changes thousands of routes, or the first publication after a long outage, put them all
 * in a transaction the broker aborts past its timeout (measured in a TopologyTestDriver: 100,000 routes of 20 fields
 * were 200,000 records, 195 MB with their changelog, in one punctuation of 9.5 s; Kafka Streams' transaction timeout
 * under exactly-once is 10 s). A publication writes at most {@code dedup.publish.max.noise.profiles} routes' noise,
 * and the next goes on from where it stopped, as the cases' budget does.
 */
class NoisePublishBudgetTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
    private static final DedupConfig CONFIG = DedupConfig.defaults()
            .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(10));

    private final MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
    private final KeyValueStore<String, RouteNoise> store = store(context, DedupTopology.NOISE_STORE, RouteNoise.serde());
    private final DedupMetrics metrics = DedupMetrics.detached();

    private NoiseProcessor processor(DedupConfig config) {
        NoiseProcessor processor = new NoiseProcessor(config, metrics, OutputEncoder.noiseProfiles(
                new AvroBinarySerde<>(NoiseProfile.getEncoder(), NoiseProfile.getDecoder()).serializer(), config, metrics));
        processor.init(context);
        return processor;
    }

    private static NoiseObservation pair(String route) {
        return new NoiseObservation("shop", route, List.of("$.at", "$.id"), List.of("$.at"));
    }

    @Test
    void shouldWriteAtMostTheBudgetPerPublicationAndReachEveryRouteInTurn() {
        NoiseProcessor processor = processor(CONFIG.withPublishMaxNoiseProfiles(4));
        long at = NOW.toEpochMilli();
        for (int i = 0; i < 10; i++) {
            processor.process(new Record<>("shop GET /r" + i, pair("GET /r" + i), at));
        }

        processor.publish(at + 10_000);
        Set<String> first = keys(false);
        assertEquals(4, first.size(), "the budget: " + first);
        // the routes published first have a new pair at once; the next publication goes on with the others
        for (String key : first) {
            processor.process(new Record<>(key, pair(key.substring("shop ".length())), at + 1));
        }
        processor.publish(at + 20_000);
        Set<String> second = keys(false);
        assertEquals(4, second.size(), second::toString);
        assertTrue(second.stream().noneMatch(first::contains), "not the same again: " + first + " then " + second);
        processor.publish(at + 30_000);
        Set<String> third = keys(false);
        assertEquals(4, third.size(), "the last two, then round to the first ones again: " + third);
        Set<String> all = new HashSet<>(first);
        all.addAll(second);
        all.addAll(third);
        assertEquals(10, all.size(), "every route reached within three publications: " + all);
        processor.publish(at + 40_000);
        assertEquals(2, keys(false).size(), "the rest of the ones paired again");
        processor.publish(at + 50_000);
        assertEquals(Set.of(), keys(false), "nothing left");
        assertTrue(metrics.noisePublicationsCut.value() >= 2);
    }

    /**
     * The first publication after a long outage (or after a deploy that retired many routes): every route without a
     * pair for the retention is retired, each a tombstone and its counters deleted, within the budget.
     */
    @Test
    void shouldRetireStaleRoutesWithinTheBudgetGoingOnWhereItStopped() {
        int routes = 5_000;
        long stale = NOW.minus(Duration.ofDays(30)).toEpochMilli();
        for (int i = 0; i < routes; i++) {
            store.put(String.format("shop GET /r%05d", i), published("GET /r" + i, stale));
        }
        store.put("shop GET /alive", published("GET /alive", NOW.toEpochMilli())); // the newest event time
        NoiseProcessor processor = processor(CONFIG); // the default budget
        int budget = DedupConfig.DEFAULT_PUBLISH_MAX_NOISE_PROFILES;

        Set<String> retired = new HashSet<>();
        int publications = 0;
        while (retired.size() < routes) {
            processor.publish(NOW.toEpochMilli() + ++publications * 10_000L);
            Set<String> written = keys(true);
            assertTrue(written.size() <= budget, "publication " + publications + " wrote " + written.size()
                    + " tombstones, past the budget of " + budget);
            assertTrue(written.size() > 0, "publication " + publications + " retired nothing");
            assertTrue(written.stream().noneMatch(retired::contains), "a route retired twice");
            retired.addAll(written);
            written.forEach(key -> assertNull(store.get(key), "counters deleted with the tombstone: " + key));
        }
        assertEquals((routes + budget - 1) / budget, publications);
        assertEquals(routes, metrics.noiseProfilesRetired.value(), 0.0);
        processor.publish(NOW.toEpochMilli() + ++publications * 10_000L);
        assertEquals(Set.of(), keys(true), "nothing left to retire");
        assertEquals(1, store.approximateNumEntries(), "the route still served stays");
    }

    /** Counters of {@code route} with one pair at {@code at}, published. */
    private static RouteNoise published(String route, long at) {
        RouteNoise noise = RouteNoise.empty("shop", route);
        noise.add(pair(route), 512, 1000, at);
        noise.published();
        return noise;
    }

    /** The keys written since the last call, each once, all profiles ({@code tombstones} false) or all tombstones. */
    private Set<String> keys(boolean tombstones) {
        List<String> written = new ArrayList<>();
        for (MockProcessorContext.CapturedForward<? extends String, ? extends byte[]> f : context.forwarded()) {
            assertEquals(tombstones, f.record().value() == null, f.record().key());
            written.add(f.record().key());
        }
        context.resetForwards();
        Set<String> keys = new HashSet<>(written);
        assertEquals(keys.size(), written.size(), "one write per route");
        return keys;
    }
}
