package io.tapline.replay.run;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The process-wide --rate: a token bucket holding one second's worth of cases. Checked on the tokens it hands out,
 * not on how long a batch took (BatchPumpTest's rateLimitSpacesTheStartsAfterTheBurst passes with no burst at all:
 * 8 cases then take 1.4 s instead of 0.6 s, still over its 0.5 s).
 */
class RateLimiterTest {

    @Test
    void aSecondsWorthOfCasesStartsAtOnceThenEachWaitsForItsToken() {
        RateLimiter two = new RateLimiter(2);
        assertEquals(0, two.reserve(), "the burst's first case");
        assertEquals(0, two.reserve(), "and its second: one second's worth starts at once");
        long wait = two.reserve();
        assertTrue(wait > 0 && wait <= 500_000_000L, "the third waits for a token, at most 500 ms at 2/s: " + wait + " ns");
        assertTrue(two.reserve() > 0, "a case told to wait took no token");
    }

    @Test
    void aRateUnderOnePerSecondStillStartsOneCaseAtOnce() {
        RateLimiter slow = new RateLimiter(0.5);
        assertEquals(0, slow.reserve());
        long wait = slow.reserve();
        assertTrue(wait > 0 && wait <= 2_000_000_000L, "then one every 2 s: " + wait + " ns");
    }

    @Test
    void noRateMeansNoWait() {
        RateLimiter unlimited = new RateLimiter(0);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(0, unlimited.reserve());
        }
    }
}
