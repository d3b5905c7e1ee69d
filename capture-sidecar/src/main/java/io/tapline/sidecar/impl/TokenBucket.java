package io.tapline.sidecar.impl;

import java.util.function.LongSupplier;

/** A thread-safe token bucket: {@code ratePerSecond} tokens per second, burst of one second's worth (at least 1). */
final class TokenBucket {

    private final double ratePerNano;
    private final double capacity;
    private final LongSupplier nanoClock;
    private double tokens;
    private long last;

    TokenBucket(double ratePerSecond, LongSupplier nanoClock) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("rate must be > 0, got " + ratePerSecond);
        }
        this.ratePerNano = ratePerSecond / 1e9;
        this.capacity = Math.max(1.0, ratePerSecond);
        this.nanoClock = nanoClock;
        this.tokens = capacity;
        this.last = nanoClock.getAsLong();
    }

    /** True when the bucket has refilled to its burst: it then decides as a new bucket would. */
    synchronized boolean full() {
        return tokens + (nanoClock.getAsLong() - last) * ratePerNano >= capacity;
    }

    synchronized boolean tryAcquire() {
        long now = nanoClock.getAsLong();
        tokens = Math.min(capacity, tokens + (now - last) * ratePerNano);
        last = now;
        if (tokens >= 1.0) {
            tokens -= 1.0;
            return true;
        }
        return false;
    }
}
