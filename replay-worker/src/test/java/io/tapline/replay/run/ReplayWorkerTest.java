package io.tapline.replay.run;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReplayWorkerTest {

    @Test
    void maxPollIntervalCoversABatchWhoseEveryCaseTimesOut() {
        // 500 cases, 16 at a time: 32 rounds of 30 s, plus a minute for the commit
        assertEquals(32 * 30_000 + 60_000, ReplayWorker.maxPollInterval(500, 16, Duration.ofSeconds(30)));
        // one case at a time (a candidate without trace propagation)
        assertEquals(64 * 30_000 + 60_000, ReplayWorker.maxPollInterval(64, 1, Duration.ofSeconds(30)));
    }

    @Test
    void maxPollIntervalIsNeverBelowKafkasDefault() {
        assertEquals(300_000, ReplayWorker.maxPollInterval(64, 16, Duration.ofSeconds(1)));
    }
}
