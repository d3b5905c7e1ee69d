package io.tapline.replay.run;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.tapline.replay.run.Propagation.Mode.AUTO;
import static io.tapline.replay.run.Propagation.Mode.NONE;
import static io.tapline.replay.run.Propagation.Mode.REQUIRED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BatchBudgetTest {

    private static final Duration T = Duration.ofSeconds(30);

    @Test
    void maxPollIntervalCoversABatchWhoseEveryCaseTimesOutAtFullConcurrency() {
        // propagation required: 500 cases, 16 at a time: 32 rounds of 30 s, plus a minute for the commit
        assertEquals(32 * 30_000 + 60_000, new BatchBudget(1, 16, REQUIRED, 0, T).maxPollIntervalMs(500));
    }

    @Test
    void maxPollIntervalCoversTheOneAtATimeFallbackAndItsReplayedCases() {
        // auto may fall back to one case at a time mid-batch (after the consumer is configured): 500 cases one by one,
        // then the 16 that were in flight at the fallback replayed again, alone
        assertEquals(500 * 30_000 + 16 * 30_000 + 60_000, new BatchBudget(1, 16, AUTO, 0, T).maxPollIntervalMs(500));
        // none: always one at a time, nothing replayed again
        assertEquals(500 * 30_000 + 60_000, new BatchBudget(1, 16, NONE, 0, T).maxPollIntervalMs(500));
    }

    @Test
    void maxPollIntervalCoversTheRateLimit() {
        // 2 cases/s: starting 500 cases takes 250 s on top of 32 rounds of 30 s
        assertEquals(32 * 30_000 + 250_000 + 60_000, new BatchBudget(1, 16, REQUIRED, 2, T).maxPollIntervalMs(500));
        // a slow rate alone: 500 fast cases at 0.1/s take 5000 s
        assertEquals(32 * 1_000 + 5_000_000 + 60_000,
                new BatchBudget(1, 16, REQUIRED, 0.1, Duration.ofSeconds(1)).maxPollIntervalMs(500));
    }

    @Test
    void workersOfAProcessShareItsConcurrencyAndRate() {
        // 2 workers, 500 cases each, 16 slots and 2 cases/s for the process: this batch may finish last of 1000
        assertEquals(63 * 30_000 + 500_000 + 60_000, new BatchBudget(2, 16, REQUIRED, 2, T).maxPollIntervalMs(500));
    }

    @Test
    void maxPollIntervalIsNeverBelowKafkasDefaultNorBeyondAnInt() {
        assertEquals(300_000, new BatchBudget(1, 16, REQUIRED, 0, Duration.ofSeconds(1)).maxPollIntervalMs(64));
        assertEquals(Integer.MAX_VALUE, new BatchBudget(1, 16, AUTO, 1e-9, T).maxPollIntervalMs(500));
    }

    @Test
    void theWaitForABatchOutlastsARateLimitedBatch() {
        // 500 cases answering in well under 1 s, at 0.5 cases/s, take ~1000 s: the worker must not give the batch up
        BatchBudget budget = new BatchBudget(1, 16, REQUIRED, 0.5, Duration.ofSeconds(1));
        assertEquals(32 * 1_000 + 1_000_000, budget.replayMillis(500));
        assertEquals(32 * 1_000 + 1_000_000 + 30_000, budget.awaitMillis(500));
    }
}
