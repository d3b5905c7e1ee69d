package io.tapline.dedup.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.NoisyField;
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
        RouteNoise noise = RouteNoise.empty();
        for (int i = 0; i < 4; i++) {
            noise.add(new NoiseObservation("GET /a", List.of("$.id", "$.at", "$.x"), List.of("$.at")), 2);
        }
        assertEquals(2, noise.trackedFields());
        var profile = noise.profile("GET /a", rule, Instant.EPOCH);
        assertEquals(4, profile.getComparedPairs());
        assertEquals(List.of("$.at"), profile.getFields().stream().map(NoisyField::getPath).collect(Collectors.toList()));
        RouteNoise back = RouteNoise.decode(RouteNoise.encode(noise));
        assertEquals(profile.getFields(), back.profile("GET /a", rule, Instant.EPOCH).getFields());
    }
}
