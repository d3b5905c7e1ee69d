package io.tapline.dedup;

import static io.tapline.dedup.testing.ProcessorStores.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.noise.RouteNoise;
import io.tapline.dedup.state.AvroBinarySerde;
import io.tapline.dedup.state.CaseSchemas;
import io.tapline.dedup.state.SignatureState;
import io.tapline.dedup.state.SignatureStateSerde;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * Stores written before event time was bounded by the job's own clock can hold a {@code lastSeen} (or a route's last
 * pair) a year ahead, from a sidecar whose clock ran that far ahead. Restored as the task's newest event time, it made
 * every other signature and route a year old: all retired at every publish, for as long as that entry stayed the
 * newest. Retirement measures against the newest event time, but never one further ahead of the job's clock than
 * the allowed skew.
 */
class StoredFutureEventTimeTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");
    private static final Instant NEXT_YEAR = NOW.plus(Duration.ofDays(365));
    private static final DedupConfig CONFIG = DedupConfig.defaults()
            .withSampling(3, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(10));

    @Test
    void shouldNotRetireSignaturesAgainstAStoredLastSeenFarAheadOfTheClock() {
        MockProcessorContext<String, Emitted> context = new MockProcessorContext<>();
        KeyValueStore<String, SignatureState> signatures = store(context, DedupTopology.SIGNATURES_STORE,
                new SignatureStateSerde());
        store(context, DedupTopology.SAMPLES_STORE, CaseSchemas.serde());
        store(context, DedupTopology.BASELINES_STORE, ResponseFields.serde());
        signatures.put("ahead", published(NEXT_YEAR));
        signatures.put("today", published(NOW));

        DedupProcessor processor = new DedupProcessor(CONFIG, DedupMetrics.detached(),
                OutputEncoder.cases(CaseSchemas.serde().serializer(), CONFIG, DedupMetrics.detached()));
        processor.init(context);
        processor.publish(NOW.toEpochMilli());
        assertEquals(List.of(), context.forwarded(), "nothing was last seen a retention before the job's clock");
        assertNotNull(signatures.get("today"));

        processor.process(new Record<>("today", Hit.counted(NOW.plusSeconds(5).toEpochMilli(), 1L), NOW.toEpochMilli()));
        processor.publish(NOW.plusSeconds(10).toEpochMilli());
        assertEquals(0, context.forwarded().stream().filter(r -> ((Emitted.CaseOut) r.record().value()).value() == null)
                .count(), "no tombstone");
    }

    @Test
    void shouldNotRetireRoutesAgainstAStoredPairFarAheadOfTheClock() {
        MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
        KeyValueStore<String, RouteNoise> noise = store(context, DedupTopology.NOISE_STORE, RouteNoise.serde());
        noise.put("shop GET /a", paired("GET /a", NEXT_YEAR));
        noise.put("shop GET /b", paired("GET /b", NOW));

        NoiseProcessor processor = new NoiseProcessor(CONFIG, DedupMetrics.detached(), profiles());
        processor.init(context);
        processor.publish(NOW.toEpochMilli());
        assertEquals(List.of(), context.forwarded(), "GET /b was paired now: its profile stays");
        assertNotNull(noise.get("shop GET /b"));
    }

    /** Noise profiles encoded as Avro (single-object encoding), without a registry. */
    static OutputEncoder<NoiseProfile> profiles() {
        return OutputEncoder.noiseProfiles(new AvroBinarySerde<>(NoiseProfile.getEncoder(), NoiseProfile.getDecoder())
                .serializer(), CONFIG, DedupMetrics.detached());
    }

    /** Counters of a route of {@code shop} with one pair at {@code at}, published. */
    private static RouteNoise paired(String route, Instant at) {
        RouteNoise noise = RouteNoise.empty("shop", route);
        noise.add(new NoiseObservation("shop", route, List.of("$.x"), List.of()), 512, 1000, at.toEpochMilli());
        noise.published();
        return noise;
    }

    /** A signature last seen at {@code at}, with a sample in slot 0, published. */
    private static SignatureState published(Instant at) {
        SignatureState state = SignatureState.first(at.toEpochMilli());
        state.hit(at.toEpochMilli());
        state.sample(0, at.toEpochMilli(), 1L);
        state.published();
        return state;
    }
}
