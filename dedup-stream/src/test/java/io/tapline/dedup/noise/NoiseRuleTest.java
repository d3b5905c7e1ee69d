package io.tapline.dedup.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.NoisyField;
import io.tapline.dedup.testing.LegacyFormats;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NoiseRuleTest {

    private final NoiseRule rule = new NoiseRule(0.2, 0.05, 2);

    @Test
    void shouldNeedEnoughPairsBeforeCallingAFieldNoisy() {
        assertFalse(rule.isNoisy(1, 1, 1), "one pair is not evidence");
        assertTrue(rule.isNoisy(2, 2, 2));
    }

    @Test
    void shouldApplyRelativeShareOfPairsWhereTheFieldIsPresent() {
        assertFalse(rule.isNoisy(1, 10, 10), "10% < 20%");
        assertTrue(rule.isNoisy(2, 10, 10), "20%");
    }

    @Test
    void shouldApplyAbsoluteShareOfTheRoutesPairs() {
        assertFalse(rule.isNoisy(4, 4, 100), "a rare variant's field: 4% of the route's pairs < 5%");
        assertTrue(rule.isNoisy(5, 5, 100));
    }

    @Test
    void shouldRejectSharesOutsideZeroToOne() {
        assertThrows(IllegalArgumentException.class, () -> new NoiseRule(1.5, 0.1, 2));
    }

    @Test
    void shouldBuildProfileOfNoisyFieldsOnlyAndBoundTrackedFields() {
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        for (int i = 0; i < 4; i++) {
            noise.add(new NoiseObservation("shop", "GET /a", List.of("$.id", "$.at", "$.x"), List.of("$.at")), 2, 0, 1000 + i);
        }
        assertEquals(2, noise.trackedFields());
        var profile = noise.profile(rule, Instant.EPOCH);
        assertEquals(4, profile.getComparedPairs());
        assertEquals("shop", profile.getService());
        assertEquals("GET /a", profile.getRoute());
        assertEquals(List.of("$.at"), profile.getFields().stream().map(NoisyField::getPath).collect(Collectors.toList()));
        RouteNoise back = RouteNoise.decode(RouteNoise.encode(noise));
        assertEquals(profile, back.profile(rule, Instant.EPOCH));
        assertEquals(1003, back.lastPairAt(), "the event time of the newest pair");
        RouteNoise retiring = RouteNoise.decode(RouteNoise.encode(RouteNoise.retiring(42)));
        assertTrue(retiring.legacy());
        assertEquals(42, retiring.retireAt());
    }

    private static NoiseObservation pair(boolean versionDiffers, String... also) {
        List<String> compared = new java.util.ArrayList<>(List.of("$.version", "$.at"));
        compared.addAll(List.of(also));
        return new NoiseObservation("shop", "GET /a", compared, versionDiffers ? List.of("$.version", "$.at") : List.of("$.at"));
    }

    private static List<String> noisy(RouteNoise noise, NoiseRule rule) {
        return noise.profile(rule, Instant.EPOCH).getFields().stream().map(NoisyField::getPath).toList();
    }

    @Test
    void shouldJudgeAFieldOnTheRecentPairsOnceTheRouteHasAHistory() {
        // $.version was equal in 10,000 pairs, then a release makes it differ in every pair.
        RouteNoise windowed = RouteNoise.empty("shop", "GET /a");
        RouteNoise forever = RouteNoise.empty("shop", "GET /a");
        for (int i = 0; i < 10_000; i++) {
            windowed.add(pair(false), 512, 100, i);
            forever.add(pair(false), 512, 0, i);
        }
        assertTrue(windowed.pairs() >= 100 && windowed.pairs() < 200, "pairs stay within one to two windows");
        for (int i = 0; i < 100; i++) {
            windowed.add(pair(true), 512, 100, 10_000 + i);
            forever.add(pair(true), 512, 0, 10_000 + i);
        }
        assertEquals(List.of("$.at", "$.version"), noisy(windowed, rule), "learned within a window of pairs");
        assertEquals(List.of("$.at"), noisy(forever, rule), "without halving, 100 of 10,100 pairs are under 20 %");
        // ... and it stops differing: unlearned within a few windows, not after 4 times the history.
        for (int i = 0; i < 400; i++) {
            windowed.add(pair(false), 512, 100, 20_000 + i);
        }
        assertEquals(List.of("$.at"), noisy(windowed, rule));
    }

    @Test
    void shouldForgetPathsNoLongerSeenAndFreeTheirPlaces() {
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        noise.add(pair(false, "$.old1", "$.old2"), 4, 10, 1);
        assertEquals(4, noise.trackedFields());
        for (int i = 0; i < 60; i++) {
            noise.add(pair(false), 4, 10, 2 + i);
        }
        noise.add(pair(false, "$.new"), 4, 10, 100);
        assertEquals(3, noise.trackedFields(), "$.old1 and $.old2 halved away; $.new took a freed place");
    }

    @Test
    void shouldReadCountersOfThePreviousVersionAndWriteWhatItCanRead() throws java.io.IOException {
        java.util.TreeMap<String, long[]> fields = new java.util.TreeMap<>();
        fields.put("$.at", new long[] {4, 4});
        fields.put("$.bySku.1017.qty", new long[] {4, 0});
        fields.put("call:POST payments /charges $.items[*].sku", new long[] {4, 0});
        RouteNoise old = RouteNoise.decode(LegacyFormats.routeNoise("shop", "GET /a", 4, fields));
        assertEquals(0, old.lastPairAt(), "unknown");
        assertEquals(3, old.trackedFields(), "a path per id of a map stays until the halving frees it");
        assertEquals(List.of("$.at"), noisy(old, rule));
        old.assumeLastPairAt(7000);
        assertEquals(7000, old.lastPairAt());
        old.assumeLastPairAt(9000);
        assertEquals(7000, old.lastPairAt(), "only an unknown time is assumed");

        // What this version writes, the previous version's reader reads (a rollback, a task moving to an instance
        // not yet upgraded): format 2, the last pair's time after what it reads.
        RouteNoise current = RouteNoise.decode(RouteNoise.encode(old));
        assertEquals(7000, current.lastPairAt());
        try (java.io.DataInputStream in = new java.io.DataInputStream(
                new java.io.ByteArrayInputStream(RouteNoise.encode(current)))) {
            assertEquals(2, in.readByte());
            assertFalse(in.readBoolean());
            assertEquals("shop", in.readUTF());
            assertEquals("GET /a", in.readUTF());
            assertEquals(4, in.readLong());
            in.readBoolean();
            assertEquals(3, in.readInt());
            for (int i = 0; i < 3; i++) {
                in.readUTF();
                in.readLong();
                in.readLong();
            }
            assertEquals(7000, in.readLong(), "then the last pair's time, which it does not read");
        }
    }

    @Test
    void shouldReadCountersAndObservationsWrittenBeforeNoiseWasLearnedPerService() throws java.io.IOException {
        RouteNoise legacy = RouteNoise.decode(LegacyFormats.routeNoise("$.at", 3, 3));
        assertTrue(legacy.legacy(), "format 1: keyed by the route alone, every service merged");
        assertEquals(0, legacy.retireAt(), "not scheduled for retirement yet");
        assertEquals(3, legacy.pairs());
        assertThrows(IllegalStateException.class, () -> legacy.profile(rule, Instant.EPOCH));

        NoiseObservation old = NoiseObservation.decode(
                LegacyFormats.observation("GET /a", List.of("$.at", "$.id"), List.of("$.at")));
        assertEquals(new NoiseObservation(null, "GET /a", List.of("$.at", "$.id"), List.of("$.at")), old);
        NoiseObservation current = new NoiseObservation("shop", "GET /a", List.of("$.at"), List.of());
        assertEquals(current, NoiseObservation.decode(NoiseObservation.encode(current)));
        assertTrue(old.pair() && current.pair(), "observations written before 'route seen' existed are pairs");
        NoiseObservation seen = NoiseObservation.routeSeen("shop", "GET /a");
        assertEquals(new NoiseObservation(null, "GET /a", List.of(), List.of(), false),
                NoiseObservation.decode(NoiseObservation.encode(seen)), "the record's key names the service");
        assertFalse(seen.pair());
        // The previous version reads it as an observation without a service, which it skips, not as a pair.
        try (java.io.DataInputStream in = new java.io.DataInputStream(
                new java.io.ByteArrayInputStream(NoiseObservation.encode(seen)))) {
            in.readUTF();
            assertEquals(0, in.readInt());
            assertEquals(0, in.readInt());
            assertEquals(0, in.available(), "no service after the lists");
        }

        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        noise.add(current, 512, 0, 1000);
        noise.add(seen, 512, 0, 9000);
        assertEquals(1, noise.pairs(), "a sample taken is no pair");
        assertEquals(9000, noise.lastPairAt(), "but keeps the route's noise alive");
    }

    @Test
    void shouldPublishWhetherAFieldIsNoisyWithArrayOrderIgnored() throws java.io.IOException {
        // $.items[*].qty only differed because the items came in another order; $.items[*].at was generated per answer
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        List<String> compared = List.of("$.items[*].at", "$.items[*].qty");
        for (int i = 0; i < 4; i++) {
            noise.add(new NoiseObservation("shop", "GET /a", compared, compared, true, List.of("$.items[*].at")), 512, 0,
                    1000 + i);
        }
        List<NoisyField> fields = noise.profile(rule, Instant.EPOCH).getFields();
        assertEquals(List.of("$.items[*].at", "$.items[*].qty"), fields.stream().map(NoisyField::getPath).toList());
        assertEquals(List.of(true, false), fields.stream().map(NoisyField::getNoisyInAnyOrder).toList());
        assertEquals(List.of(4L, 0L), fields.stream().map(NoisyField::getAnyOrderDifferingPairs).toList());
        assertEquals(noise.profile(rule, Instant.EPOCH),
                RouteNoise.decode(RouteNoise.encode(noise)).profile(rule, Instant.EPOCH), "kept in the store");

        // The observation crosses the repartition topic with its differences in any order ...
        NoiseObservation pair = new NoiseObservation("shop", "GET /a", compared, compared, true, List.of("$.items[*].at"));
        assertEquals(pair, NoiseObservation.decode(NoiseObservation.encode(pair)));
        // ... and one written by the previous version, without them, counts every difference as one in any order.
        NoiseObservation old = NoiseObservation.decode(NoiseObservation.encode(
                new NoiseObservation("shop", "GET /a", compared, compared)));
        assertEquals(null, old.differingInAnyOrder());
        assertEquals(compared, old.differingWhateverTheOrder());

        // Counters stored by the previous version (no count in any order) keep each field noisy in every order, as
        // it was applied: what that version wrote is what encode writes up to the last pair's time (before the two
        // fields' pairs in any order and their numeric spreads).
        byte[] current = RouteNoise.encode(noise);
        byte[] previous = java.util.Arrays.copyOf(current,
                current.length - 2 * Long.BYTES - 2 * (Long.BYTES + 2 * Double.BYTES));
        assertEquals(List.of(true, true), RouteNoise.decode(previous).profile(rule, Instant.EPOCH).getFields().stream()
                .map(NoisyField::getNoisyInAnyOrder).toList());
    }

    private static NoiseObservation numeric(List<String> differing, java.util.Map<String, Double> spreads) {
        return new NoiseObservation("shop", "GET /a", List.of("$.at", "$.total"), differing, true, differing, spreads);
    }

    private List<Double> spreads(RouteNoise noise) {
        return noise.profile(rule, Instant.EPOCH).getFields().stream().map(NoisyField::getNumericSpread).toList();
    }

    @Test
    void shouldPublishTheLargestNumericSpreadOfAFieldWhoseEveryDifferenceWasNumeric() {
        // $.total varied by a little in every pair, once by more; $.at is a stamp (text)
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        List<String> both = List.of("$.at", "$.total");
        noise.add(numeric(both, java.util.Map.of("$.total", 1.0E-6)), 512, 0, 1000);
        noise.add(numeric(both, java.util.Map.of("$.total", 3.0E-6)), 512, 0, 1001);
        noise.add(numeric(both, java.util.Map.of("$.total", 2.0E-6)), 512, 0, 1002);
        assertEquals(java.util.Arrays.asList(null, 3.0E-6), spreads(noise));
        assertEquals(noise.profile(rule, Instant.EPOCH),
                RouteNoise.decode(RouteNoise.encode(noise)).profile(rule, Instant.EPOCH), "kept in the store");
        // One difference that is not a number's (a value become null, an element more) and no tolerance absorbs it.
        noise.add(numeric(both, java.util.Map.of()), 512, 0, 1003);
        assertEquals(java.util.Arrays.asList(null, null), spreads(noise));
    }

    @Test
    void shouldFollowProductionWithTheSpreadAsWithTheCounters() {
        // A window of 4 pairs: the counters halve when the route's pairs reach 8.
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        List<String> total = List.of("$.total");
        noise.add(numeric(total, java.util.Map.of()), 512, 4, 0); // once not numeric (an answer without it, say)
        noise.add(numeric(total, java.util.Map.of("$.total", 5.0)), 512, 4, 1); // once by 5
        for (int i = 2; i < 7; i++) {
            noise.add(numeric(total, java.util.Map.of("$.total", 1.0E-6)), 512, 4, i);
        }
        assertEquals(java.util.Collections.singletonList(null), spreads(noise));
        for (int i = 7; i < 11; i++) { // the first halving: the pair not numeric is dropped (1 / 2 = 0)
            noise.add(numeric(total, java.util.Map.of("$.total", 1.0E-6)), 512, 4, i);
        }
        assertEquals(List.of(5.0), spreads(noise), "the largest of the window before");
        for (int i = 11; i < 30; i++) { // two more windows with small variations only
            noise.add(numeric(total, java.util.Map.of("$.total", 1.0E-6)), 512, 4, i);
        }
        assertEquals(List.of(1.0E-6), spreads(noise));
    }

    @Test
    void shouldReadSpreadsWrittenByEitherVersionAndWriteWhatThePreviousReads() throws java.io.IOException {
        RouteNoise noise = RouteNoise.empty("shop", "GET /a");
        List<String> both = List.of("$.at", "$.total");
        for (int i = 0; i < 4; i++) {
            noise.add(numeric(both, java.util.Map.of("$.total", 1.0E-6)), 512, 0, 1000 + i);
        }
        // Counters stored by the previous version (written up to the pairs in any order) count every difference as
        // not numeric: noise whatever the tolerance, as it was applied.
        byte[] current = RouteNoise.encode(noise);
        byte[] previous = java.util.Arrays.copyOf(current, current.length - 2 * (Long.BYTES + 2 * Double.BYTES));
        assertEquals(java.util.Arrays.asList(null, null), spreads(RouteNoise.decode(previous)));
        // What this version writes, the previous reads: everything it reads comes first.
        assertEquals(noise.profile(rule, Instant.EPOCH).getFields().stream().map(NoisyField::getAnyOrderDifferingPairs)
                        .toList(),
                RouteNoise.decode(previous).profile(rule, Instant.EPOCH).getFields().stream()
                        .map(NoisyField::getAnyOrderDifferingPairs).toList());

        // An observation crosses the repartition topic with its spreads ...
        NoiseObservation pair = new NoiseObservation("shop", "GET /a", both, both, true, List.of("$.at"),
                java.util.Map.of("$.total", 1.0E-6));
        assertEquals(pair, NoiseObservation.decode(NoiseObservation.encode(pair)));
        // ... after what the previous version reads, which reads it without them: every difference not numeric
        byte[] written = NoiseObservation.encode(pair);
        NoiseObservation old = NoiseObservation.decode(java.util.Arrays.copyOf(written,
                written.length - Integer.BYTES - (Integer.BYTES + Double.BYTES)));
        assertEquals(new NoiseObservation("shop", "GET /a", both, both, true, List.of("$.at")), old);
        assertEquals(java.util.Map.of(), old.numericSpreads());
        // Spreads without differences in any order known: those go as all of differing, as not known reads.
        NoiseObservation unordered = new NoiseObservation("shop", "GET /a", both, both, true, null,
                java.util.Map.of("$.total", 1.0E-6));
        assertEquals(new NoiseObservation("shop", "GET /a", both, both, true, both, java.util.Map.of("$.total", 1.0E-6)),
                NoiseObservation.decode(NoiseObservation.encode(unordered)));
    }
}
