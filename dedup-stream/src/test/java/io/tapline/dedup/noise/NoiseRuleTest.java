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
            noise.add(new NoiseObservation("shop", "GET /a", List.of("$.id", "$.at", "$.x"), List.of("$.at")), 2);
        }
        assertEquals(2, noise.trackedFields());
        var profile = noise.profile(rule, Instant.EPOCH);
        assertEquals(4, profile.getComparedPairs());
        assertEquals("shop", profile.getService());
        assertEquals("GET /a", profile.getRoute());
        assertEquals(List.of("$.at"), profile.getFields().stream().map(NoisyField::getPath).collect(Collectors.toList()));
        RouteNoise back = RouteNoise.decode(RouteNoise.encode(noise));
        assertEquals(profile, back.profile(rule, Instant.EPOCH));
        RouteNoise retiring = RouteNoise.decode(RouteNoise.encode(RouteNoise.retiring(42)));
        assertTrue(retiring.legacy());
        assertEquals(42, retiring.retireAt());
    }

    @Test
    void shouldReadCountersAndObservationsWrittenBeforeNoiseWasLearnedPerService() {
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
    }
}
