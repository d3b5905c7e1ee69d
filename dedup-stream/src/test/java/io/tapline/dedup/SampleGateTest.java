package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SampleGateTest {

    private static final long TTL = 60_000;

    @Test
    void shouldSendTheFirstSamplesOfEachHalfTtlWhole() {
        SampleGate gate = new SampleGate(2, 0, TTL, 100);
        assertTrue(gate.whole("s", 0, 1));
        assertTrue(gate.whole("s", 1, 2));
        assertFalse(gate.whole("s", 2, 3));
        assertFalse(gate.whole("s", TTL / 2, 4), "still the first window");
        assertTrue(gate.whole("s", TTL / 2 + 1, 5), "a new window");
        assertTrue(gate.whole("s", TTL / 2 + 2, 6));
        assertFalse(gate.whole("s", TTL / 2 + 3, 7));
        assertTrue(gate.whole("other", 3, 8), "signatures are gated apart");
    }

    @Test
    void shouldSendRepeatsOfRequestsSentWholeWithinTheNoiseBudget() {
        SampleGate gate = new SampleGate(1, 2, TTL, 100);
        assertTrue(gate.whole("s", 0, 42));
        assertFalse(gate.whole("s", 1, 43), "another request: only counted");
        assertTrue(gate.whole("s", 2, 42), "a repeat of a request sent whole");
        assertTrue(gate.whole("s", 3, 42));
        assertFalse(gate.whole("s", 4, 42), "noise budget of the window spent");
        assertTrue(gate.whole("s", TTL, 44), "next window: a new sample");
        assertTrue(gate.whole("s", TTL + 1, 42), "the earlier window's request is still remembered");
    }

    @Test
    void shouldRememberTheRequestsOfFourWindows() {
        SampleGate gate = new SampleGate(1, 5, TTL, 100);
        assertTrue(gate.whole("s", 0, 1));
        for (int w = 1; w <= 3; w++) {
            assertTrue(gate.whole("s", w * TTL, 10 + w));
        }
        assertTrue(gate.whole("s", 3 * TTL + 1, 1), "three windows later");
        assertTrue(gate.whole("s", 4 * TTL, 20));
        assertFalse(gate.whole("s", 4 * TTL + 1, 1), "four windows later: forgotten");
    }

    @Test
    void shouldForgetTheLeastRecentlySeenSignatureBeyondItsBound() {
        SampleGate gate = new SampleGate(1, 0, TTL, 2);
        assertTrue(gate.whole("a", 0, 1));
        assertTrue(gate.whole("b", 0, 1));
        assertFalse(gate.whole("a", 1, 2)); // a is now the most recent
        assertTrue(gate.whole("c", 1, 1)); // evicts b
        assertEquals(2, gate.size());
        assertFalse(gate.whole("a", 2, 3));
        assertTrue(gate.whole("b", 2, 1), "forgotten: whole again, which costs bytes, never a sample");
    }
}
