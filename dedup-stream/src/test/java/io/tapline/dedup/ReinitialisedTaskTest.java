package io.tapline.dedup;

import static io.tapline.dedup.testing.ProcessorStores.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.noise.RouteNoise;
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
 * A task whose transaction was aborted (a commit that timed out, a corrupted task under exactly-once) is closed and
 * initialised again on the same processors, with its stores back at the last commit: nothing it remembers in memory
 * from the aborted records may decide what it does next, or the outcome depends on whether the transaction failed.
 */
class ReinitialisedTaskTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final DedupConfig CONFIG = DedupConfig.defaults()
            .withSampling(3, Duration.ofHours(24), Duration.ofHours(2), Duration.ofSeconds(10));

    @Test
    void shouldMeasureRetirementAgainstTheCommittedStateAfterAnAbortedTransaction() {
        MockProcessorContext<String, Emitted> context = new MockProcessorContext<>();
        KeyValueStore<String, SignatureState> signatures = store(context, DedupTopology.SIGNATURES_STORE,
                new SignatureStateSerde());
        store(context, DedupTopology.SAMPLES_STORE, CaseSchemas.serde());
        store(context, DedupTopology.BASELINES_STORE, ResponseFields.serde());
        SignatureState committed = SignatureState.first(T0.toEpochMilli());
        committed.hit(T0.toEpochMilli());
        committed.published();
        signatures.put("s", committed);

        DedupProcessor processor = new DedupProcessor(CONFIG, DedupMetrics.detached(),
                OutputEncoder.cases(CaseSchemas.serde().serializer(), CONFIG, DedupMetrics.detached()));
        processor.init(context);
        // A hit 3 h later (over the 2 h retention) on another signature, in a transaction that is then aborted.
        processor.process(new Record<>("x", Hit.counted(T0.plus(Duration.ofHours(3)).toEpochMilli(), 1L),
                T0.toEpochMilli()));
        processor.close();
        signatures.delete("x"); // the store is back at the last commit
        context.resetForwards();

        processor.init(context);
        processor.publish(T0.toEpochMilli());
        assertEquals(List.of(), context.forwarded(), "s was seen last at the newest event time committed: not retired");
        assertNotNull(signatures.get("s"));
    }

    @Test
    void shouldMeasureNoiseRetirementAgainstTheCommittedStateAfterAnAbortedTransaction() {
        MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
        KeyValueStore<String, RouteNoise> noise = store(context, DedupTopology.NOISE_STORE, RouteNoise.serde());
        NoiseProcessor processor = new NoiseProcessor(CONFIG.withSampling(3, Duration.ofHours(1), Duration.ofHours(2),
                Duration.ofSeconds(10)), DedupMetrics.detached(), StoredFutureEventTimeTest.profiles());
        processor.init(context);
        NoiseObservation pair = new NoiseObservation("shop", "GET /a", List.of("$.x"), List.of());
        processor.process(new Record<>("shop GET /a", pair, T0.toEpochMilli()));
        processor.publish(T0.toEpochMilli());
        RouteNoise committed = noise.get("shop GET /a");
        context.resetForwards();

        // Another route's pair 3 h later, in a transaction that is then aborted.
        NoiseObservation later = new NoiseObservation("shop", "GET /b", List.of("$.x"), List.of());
        processor.process(new Record<>("shop GET /b", later, T0.plus(Duration.ofHours(3)).toEpochMilli()));
        processor.close();
        noise.delete("shop GET /b");
        noise.put("shop GET /a", committed);

        processor.init(context);
        processor.publish(T0.toEpochMilli());
        assertEquals(List.of(), context.forwarded(), "GET /a was paired at the newest event time committed");
        assertNotNull(noise.get("shop GET /a"));
    }
}
