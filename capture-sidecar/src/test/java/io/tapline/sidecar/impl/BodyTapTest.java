package io.tapline.sidecar.impl;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BodyTapTest {

    private static Buffer bytes(int n) {
        return Buffer.buffer("y".repeat(n).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldPayForTheCopyFromTheBudgetAndGiveItBackOnce() {
        CaptureBudget budget = new CaptureBudget(1000);
        BodyTap tap = new BodyTap(null, 300, budget);
        tap.observe(bytes(200));
        tap.observe(bytes(200)); // only 100 more are copied: the cap
        assertEquals(300, tap.capturedLength());
        assertEquals(400, tap.total());
        assertEquals(300, budget.used());
        assertFalse(tap.overBudget());
        tap.releaseBudget();
        tap.releaseBudget();
        assertEquals(0, budget.used());
    }

    @Test
    void shouldStopCopyingAndSaySoWhenTheBudgetHasNoRoom() {
        CaptureBudget budget = new CaptureBudget(250);
        assertTrue(budget.tryReserve(100)); // another capture holds some
        BodyTap tap = new BodyTap(null, 300, budget);
        tap.observe(bytes(100));
        tap.observe(bytes(100)); // 200 in all would exceed 250
        tap.observe(bytes(10));  // nothing more is copied, even what would fit now
        assertTrue(tap.overBudget());
        assertEquals(100, tap.capturedLength());
        assertEquals(210, tap.total(), "the body is still counted: it flows on");
        assertEquals(200, budget.used());
        tap.releaseBudget();
        assertEquals(100, budget.used());
        assertFalse(budget.exhausted());
        assertTrue(budget.tryReserve(150));
        assertTrue(budget.exhausted());
    }

    @Test
    void shouldCopyNothingWithoutACap() {
        BodyTap tap = new BodyTap(null);
        tap.observe(bytes(50));
        assertEquals(0, tap.capturedLength());
        assertEquals(50, tap.total());
        assertFalse(tap.overBudget());
        assertThrows(IllegalArgumentException.class, () -> new BodyTap(null, 10, null));
        assertThrows(IllegalArgumentException.class, () -> new CaptureBudget(0));
    }
}
