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

    public void acquire() throws InterruptedException {
        if (perSecond <= 0) {
            return;
        }
        while (true) {
            long waitNanos;
            synchronized (this) {
                long now = System.nanoTime();
                tokens = Math.min(Math.max(1, perSecond), tokens + (now - last) / 1e9 * perSecond);
                last = now;
                if (tokens >= 1) {
                    tokens -= 1;
                    return;
                }
                waitNanos = (long) ((1 - tokens) / perSecond * 1e9);
            }
            Thread.sleep(Math.max(1, waitNanos / 1_000_000), (int) (waitNanos % 1_000_000 / 1000));
        }
    }
}
