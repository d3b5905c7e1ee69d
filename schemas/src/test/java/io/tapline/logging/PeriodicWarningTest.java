package io.tapline.logging;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PeriodicWarningTest {

    @Test
    void warnsAtTheFirstOccurrenceThenOncePerIntervalWithTheCount() {
        long[] now = {0};
        PeriodicWarning w = new PeriodicWarning(Duration.ofSeconds(10), () -> now[0]);

        assertEquals(1, w.occurred());
        for (int i = 0; i < 99; i++) {
            now[0] += 50_000_000L; // 0.05 s
            assertEquals(0, w.occurred());
        }
        now[0] = Duration.ofSeconds(10).toNanos();
        assertEquals(100, w.occurred(), "the 99 not warned of, and this one");
        assertEquals(0, w.occurred());
    }
}
