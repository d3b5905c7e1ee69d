package io.tapline.sidecar.impl;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Decides whether an inbound request is captured.
 * <ul>
 *   <li>capture switch (runtime on/off, e.g. from the admin endpoint);</li>
 *   <li>global rate, consistent by trace id: the decision is a pure function of the trace id, so the
 *       egress proxy recomputes the same answer for the request's outbound calls;</li>
 *   <li>per-route caps in requests/s (token buckets), for a configured route or a default cap. A configured
 *       route always has its own bucket. The default cap's buckets are bounded: at most {@code maxRoutes}, a
 *       bucket that has refilled (idle) is forgotten when room is needed, since a new bucket would decide the
 *       same; a route beyond the bound, or whose key is longer than {@link #MAX_ROUTE_KEY_CHARS}, shares one
 *       bucket at the default cap. Paths are chosen by clients, so neither the number of keys nor their length
 *       may grow with them.</li>
 * </ul>
 */
public final class Sampler {

    /** Outcome of a decision; {@link #CAPTURE} is the only one that captures. */
    public enum Decision {
        CAPTURE, CAPTURE_OFF, SAMPLED_OUT, ROUTE_CAP
    }

    /** Longest route key given a bucket of its own under the default cap. */
    static final int MAX_ROUTE_KEY_CHARS = 512;

    private final double rate;
    private final long threshold;
    private final Map<String, Double> routeCaps;
    private final double defaultCap;
    private final int maxRoutes;
    private final LongSupplier nanoClock;
    private final AtomicBoolean enabled = new AtomicBoolean(true);
    /** One bucket per configured route, made at start: never shared, never forgotten. */
    private final Map<String, TokenBucket> configured;
    /** Buckets of routes under the default cap, at most {@code maxRoutes} (give or take a racing event loop). */
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    /** Shared by default-capped routes beyond the bound; null without a default cap. */
    private final TokenBucket overflow;
    /** Idle buckets are looked for at most once per refill time, so a flood of new routes costs no scan per request. */
    private final long sweepEveryNanos;
    private final AtomicLong nextSweep;

    /**
     * @param rate       fraction of traces captured, 0.0 to 1.0
     * @param routeCaps  route key ({@code "GET /owners/{id}"}) to max captures per second
     * @param defaultCap cap for routes not listed; 0 = none
     * @param maxRoutes  bound on the number of per-route buckets
     */
    public Sampler(double rate, Map<String, Double> routeCaps, double defaultCap, int maxRoutes, LongSupplier nanoClock) {
        if (!(rate >= 0.0 && rate <= 1.0)) {
            throw new IllegalArgumentException("sampling rate must be within 0..1, got " + rate);
        }
        this.rate = rate;
        // Compare the top 53 bits of the trace id hash against rate * 2^53: exact at 0 and 1.
        this.threshold = (long) Math.floor(rate * (double) (1L << 53));
        this.routeCaps = Map.copyOf(routeCaps);
        this.defaultCap = defaultCap;
        this.maxRoutes = maxRoutes;
        this.nanoClock = nanoClock;
        Map<String, TokenBucket> own = new HashMap<>();
        this.routeCaps.forEach((route, cap) -> own.put(route, new TokenBucket(cap, nanoClock)));
        this.configured = Map.copyOf(own);
        this.overflow = defaultCap > 0 ? new TokenBucket(defaultCap, nanoClock) : null;
        this.sweepEveryNanos = defaultCap > 0 ? (long) Math.ceil(Math.max(1.0, defaultCap) / defaultCap * 1e9) : 0;
        this.nextSweep = new AtomicLong(nanoClock.getAsLong());
    }

    public double rate() {
        return rate;
    }

    public boolean enabled() {
        return enabled.get();
    }

    public void setEnabled(boolean on) {
        enabled.set(on);
    }

    /** True when some route has a cap, so {@link #decide} needs the route key. */
    public boolean routeCapped() {
        return !routeCaps.isEmpty() || defaultCap > 0;
    }

    /** The cap that applies to a route, or null when none. */
    public Double capFor(String routeKey) {
        Double cap = routeCaps.get(routeKey);
        if (cap != null) {
            return cap;
        }
        return defaultCap > 0 ? defaultCap : null;
    }

    /** True when the trace falls inside the global rate; a pure function of the trace id. */
    public boolean traceSampled(String traceId) {
        if (rate >= 1.0) {
            return true;
        }
        if (rate <= 0.0) {
            return false;
        }
        return (mix(traceId) >>> 11) < threshold;
    }

    /**
     * For an outbound call no interaction claims and that carries no trace context: true with the global rate's
     * probability, drawn per call (there is no trace id to decide by).
     */
    public boolean untracedSampled() {
        return rate >= 1.0 || (rate > 0.0 && java.util.concurrent.ThreadLocalRandom.current().nextDouble() < rate);
    }

    /** The decision for an inbound request (consumes a route token when it would capture). */
    public Decision decide(String traceId, String routeKey) {
        if (!enabled.get()) {
            return Decision.CAPTURE_OFF;
        }
        if (!traceSampled(traceId)) {
            return Decision.SAMPLED_OUT;
        }
        TokenBucket bucket = bucketFor(routeKey);
        if (bucket != null && !bucket.tryAcquire()) {
            return Decision.ROUTE_CAP;
        }
        return Decision.CAPTURE;
    }

    /** The bucket a route draws from, or null when it is not capped. */
    private TokenBucket bucketFor(String routeKey) {
        TokenBucket bucket = configured.get(routeKey);
        if (bucket != null || overflow == null) {
            return bucket;
        }
        bucket = buckets.get(routeKey);
        if (bucket != null) {
            return bucket;
        }
        if (routeKey.length() > MAX_ROUTE_KEY_CHARS || (buckets.size() >= maxRoutes && !sweepIdle())) {
            return overflow;
        }
        return buckets.computeIfAbsent(routeKey, k -> new TokenBucket(defaultCap, nanoClock));
    }

    /** Forgets the buckets that have refilled, at most once per refill time; true when there is room then. */
    private boolean sweepIdle() {
        long now = nanoClock.getAsLong();
        long next = nextSweep.get();
        if (now - next >= 0 && nextSweep.compareAndSet(next, now + sweepEveryNanos)) {
            // An event loop that fetched a bucket just before it is forgotten still draws from it: at worst one
            // capture more than the cap, once, for that route.
            buckets.values().removeIf(TokenBucket::full);
        }
        return buckets.size() < maxRoutes;
    }

    /** Buckets held for default-capped routes (not the configured routes' or the shared one). */
    int routeBuckets() {
        return buckets.size();
    }

    /** 64-bit mix of the trace id (FNV-1a then a finaliser) so sampling does not depend on how ids were generated. */
    static long mix(String traceId) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < traceId.length(); i++) {
            h ^= traceId.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
