package io.tapline.replay.run;

import java.time.Duration;

/**
 * How long a worker may take over one batch when every case is as slow as allowed: the bound behind the consumer's
 * {@code max.poll.interval.ms} (a slow but alive worker must not be expelled from the group) and the worker's own
 * safety net on a batch. Worst case, for a batch of {@code B} cases:
 * <ul>
 *   <li>every case takes the whole {@code --request-timeout} {@code T};</li>
 *   <li>the {@code --concurrency} slots and the {@code --rate} are per process, shared by its {@code W} workers, each
 *       with a batch in flight: the batch may finish last of {@code W x B} cases;</li>
 *   <li>cases may run one at a time: always with {@code --propagation none}, and with {@code auto} once the candidate
 *       turns out not to propagate trace context (the consumer's settings are fixed before that can be known), after
 *       which up to {@code min(B, concurrency)} cases that were in flight are replayed again, alone;</li>
 *   <li>a rate of {@code R} cases/s takes {@code W x B / R} seconds to start them, on top.</li>
 * </ul>
 * So one pass takes at most {@code ceil(W x B / slots) x T + W x B / R}, with {@code slots} 1 when cases may run one
 * at a time, else {@code --concurrency}.
 *
 * @param workers     worker threads of the process sharing its concurrency and rate
 * @param concurrency cases in flight at once in the process ({@code --concurrency})
 * @param propagation trace propagation mode: {@code auto} and {@code none} may run cases one at a time
 * @param rate        cases started per second by the process, 0 or less for unlimited
 * @param caseTimeout time one case may take ({@code --request-timeout})
 * @param awaitMargin slack on the safety net and on the wait for the cases in flight of a batch it gave up, beyond
 *                    their own worst case ({@link #AWAIT_MARGIN_MS} unless given)
 */
public record BatchBudget(int workers, int concurrency, Propagation.Mode propagation, double rate, Duration caseTimeout,
                          Duration awaitMargin) {

    /** Kafka's default {@code max.poll.interval.ms}: never go below it. */
    static final long KAFKA_DEFAULT_POLL_INTERVAL_MS = 300_000;
    /** Time to encode a batch's results and commit its transaction (retried commits included). */
    static final long COMMIT_MARGIN_MS = 60_000;
    /** Slack on the wait for a batch's cases, beyond their own worst case. */
    static final long AWAIT_MARGIN_MS = 30_000;

    public BatchBudget {
        workers = Math.max(1, workers);
        concurrency = Math.max(1, concurrency);
    }

    /** A budget with the usual {@link #AWAIT_MARGIN_MS}. */
    public BatchBudget(int workers, int concurrency, Propagation.Mode propagation, double rate, Duration caseTimeout) {
        this(workers, concurrency, propagation, rate, caseTimeout, Duration.ofMillis(AWAIT_MARGIN_MS));
    }

    /** Worst-case time to replay {@code cases} cases of one worker's batch once. */
    public long replayMillis(int cases) {
        long competing = (long) cases * workers;
        long slots = propagation == Propagation.Mode.REQUIRED ? concurrency : 1;
        long rounds = (competing + slots - 1) / slots;
        double starting = rate > 0 ? Math.ceil(competing * 1000.0 / rate) : 0;
        return saturated(rounds * (double) caseTimeout.toMillis() + starting);
    }

    /** Worst-case time of a whole batch: one pass, plus, in {@code auto} mode, its in-flight cases replayed again. */
    public long batchMillis(int cases) {
        long once = replayMillis(cases);
        if (propagation != Propagation.Mode.AUTO) {
            return once;
        }
        return saturated((double) once + replayMillis(Math.min(cases, concurrency)));
    }

    /** How long the worker waits for {@code cases} cases to finish before giving the batch up (a safety net only). */
    public long awaitMillis(int cases) {
        return saturated((double) replayMillis(cases) + awaitMargin.toMillis());
    }

    /**
     * How long the cases still in flight in a batch given up at {@link #awaitMillis} are waited for: each is bounded by
     * the request timeout, so they end within it.
     */
    public long drainMillis() {
        return saturated((double) caseTimeout.toMillis() + awaitMargin.toMillis());
    }

    /** {@code max.poll.interval.ms} for batches of {@code batchSize}: a whole batch and its commit, at least Kafka's default. */
    public int maxPollIntervalMs(int batchSize) {
        double millis = (double) batchMillis(batchSize) + COMMIT_MARGIN_MS;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KAFKA_DEFAULT_POLL_INTERVAL_MS, millis));
    }

    private static long saturated(double millis) {
        return millis >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) millis;
    }
}
