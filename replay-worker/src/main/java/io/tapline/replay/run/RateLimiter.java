package io.tapline.replay.run;

/** Cases per second for this process (a token bucket of one second's burst); 0 or less means unlimited. */
public final class RateLimiter {

    private final double perSecond;
    private double tokens;
    private long last;

    public RateLimiter(double perSecond) {
        this.perSecond = perSecond;
        this.tokens = Math.max(1, perSecond);
        this.last = System.nanoTime();
    }

    /** Takes a token and returns 0, or returns how many nanoseconds until one is available (taking none). */
    public synchronized long reserve() {
        if (perSecond <= 0) {
            return 0;
        }
        long now = System.nanoTime();
        tokens = Math.min(Math.max(1, perSecond), tokens + (now - last) / 1e9 * perSecond);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) ((1 - tokens) / perSecond * 1e9));
    }
}
