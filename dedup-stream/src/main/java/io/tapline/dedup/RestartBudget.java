package io.tapline.dedup;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * How many failed stream threads may be replaced within a window. A task failure under exactly-once loses nothing
 * (the thread restarts from the last committed transaction), so transient failures (registry or broker briefly
 * unreachable) are retried by replacing the thread; a failure that repeats faster than the budget is not
 * transient, and the client shuts down so the orchestrator sees the crash instead of a silent retry loop.
 */
final class RestartBudget {

    private final int max;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final ArrayDeque<Long> restarts = new ArrayDeque<>();

    RestartBudget(int max, Duration window, LongSupplier nanoClock) {
        this.max = max;
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
    }

    /** True when one more restart fits in the window (and records it). */
    synchronized boolean tryRestart() {
        long now = nanoClock.getAsLong();
        while (!restarts.isEmpty() && now - restarts.peekFirst() > windowNanos) {
            restarts.pollFirst();
        }
        if (restarts.size() >= max) {
            return false;
        }
        restarts.addLast(now);
        return true;
    }
}
