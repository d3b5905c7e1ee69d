package io.tapline.dedup;

import static io.tapline.dedup.testing.ProcessorStores.store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.dedup.state.CaseSchemas;
import io.tapline.dedup.state.SignatureState;
import io.tapline.dedup.state.SignatureStateSerde;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.LegacyFormats;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * All a publication writes goes in one transaction, which the broker aborts past its timeout (and a task closed that
 * way under exactly-once restores its stores, only to find more to publish): a publication writes at most
 * {@code dedup.publish.max.cases}, and the next goes on from where it stopped, so that signatures dirty at every
 * publication cannot keep the others waiting.
 */
class PublishBudgetTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");

    @Test
    void shouldWriteAtMostTheBudgetPerPublicationAndReachEverySignatureInTurn() {
        DedupConfig config = DedupConfig.defaults()
                .withSampling(1, Duration.ofHours(24), Duration.ofDays(7), Duration.ofSeconds(10))
                .withPublishMaxCases(4);
        MockProcessorContext<String, Emitted> context = new MockProcessorContext<>();
        store(context, DedupTopology.SIGNATURES_STORE, new SignatureStateSerde());
        store(context, DedupTopology.SAMPLES_STORE, CaseSchemas.serde());
        store(context, DedupTopology.BASELINES_STORE, ResponseFields.serde());
        DedupMetrics metrics = DedupMetrics.detached();
        DedupProcessor processor = new DedupProcessor(config, metrics,
                OutputEncoder.cases(CaseSchemas.serde().serializer(), config, metrics));
        processor.init(context);
        long at = NOW.toEpochMilli();
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            io.tapline.avro.Case draft = LegacyFormats.draftCase(Interactions.get("/r" + i).at(NOW).build(), NOW);
            ids.add(draft.getSignatureId());
            processor.process(new Record<>(draft.getSignatureId(), new Hit(at, 1L, draft), at));
        }
        assertEquals(10, keys(context).size(), "the new samples, written as they were taken");
        for (String id : ids) {
            processor.process(new Record<>(id, Hit.counted(at + 1, 1L), at));
        }

        processor.publish(at + 10_000);
        Set<String> first = keys(context);
        assertEquals(4, first.size(), "the budget: " + first);
        // the signatures published first are dirty again at once; the next publication goes on with the others
        for (String key : first) {
            processor.process(new Record<>(key.substring(0, key.lastIndexOf('-')), Hit.counted(at + 2, 1L), at));
        }
        processor.publish(at + 20_000);
        Set<String> second = keys(context);
        assertEquals(4, second.size(), second::toString);
        assertTrue(second.stream().noneMatch(first::contains), "not the same again: " + first + " then " + second);
        processor.publish(at + 30_000);
        Set<String> third = keys(context);
        assertEquals(4, third.size(), "the last two, then round to the first ones again: " + third);
        Set<String> all = new HashSet<>(first);
        all.addAll(second);
        all.addAll(third);
        assertEquals(10, all.size(), "every signature reached within three publications: " + all);
        processor.publish(at + 40_000);
        assertEquals(2, keys(context).size(), "the rest of the re-dirtied ones");
        processor.publish(at + 50_000);
        assertEquals(Set.of(), keys(context), "nothing left");
        assertTrue(metrics.publicationsCut.value() >= 2);
    }

    private static Set<String> keys(MockProcessorContext<String, Emitted> context) {
        List<String> cases = context.forwarded().stream().filter(f -> f.record().value() instanceof Emitted.CaseOut)
                .map(f -> (String) f.record().key()).toList();
        Set<String> keys = new HashSet<>(cases);
        assertEquals(keys.size(), cases.size(), "one write per case");
        context.resetForwards();
        return keys;
    }
}
