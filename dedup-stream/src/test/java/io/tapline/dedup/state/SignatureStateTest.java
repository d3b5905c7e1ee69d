package io.tapline.dedup.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SignatureStateTest {

    @Test
    void shouldFillFreeSlotsThenOnlyReplaceExpiredOnes() {
        SignatureState s = SignatureState.first(1000);
        assertEquals(0, s.slotFor(1000, 2, 100));
        s.sample(0, 1000, 1);
        assertEquals(1, s.slotFor(1050, 2, 100));
        s.sample(1, 1050, 2);
        assertEquals(-1, s.slotFor(1100, 2, 100), "full and fresh");
        assertEquals(0, s.slotFor(1101, 2, 100), "oldest expired");
    }

    @Test
    void shouldRoundTripThroughTheStoreFormat() {
        SignatureState s = new SignatureState(42, 10, 20, true, 15, 3,
                List.of(new SignatureState.Slot(0, 11, -5), new SignatureState.Slot(2, 19, 7)));
        SignatureState back = SignatureStateSerde.decode(SignatureStateSerde.encode(s));
        assertEquals(42, back.hits());
        assertEquals(10, back.firstSeen());
        assertEquals(20, back.lastSeen());
        assertTrue(back.dirty());
        assertEquals(s.slots(), back.slots());
        assertEquals(15, back.noiseWindowStart());
        assertEquals(3, back.noisePairs());
        assertEquals(1 + 8 * 3 + 1 + 8 + 4 + 1 + 2 * 17, SignatureStateSerde.encode(s).length,
                "documented size: 43 bytes + 17 per slot");
    }

    @Test
    void shouldBoundNoiseComparisonsPerWindow() {
        SignatureState s = SignatureState.first(0);
        assertTrue(s.takeNoiseBudget(1, 2, 100));
        assertTrue(s.takeNoiseBudget(2, 2, 100));
        assertFalse(s.takeNoiseBudget(3, 2, 100));
        assertTrue(s.takeNoiseBudget(200, 2, 100), "a new window restores the budget");
    }
}
