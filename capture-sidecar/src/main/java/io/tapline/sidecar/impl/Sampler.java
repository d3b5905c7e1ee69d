package io.tapline.sidecar.impl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Decides whether an inbound request is captured.
 * <ul>
 *   <li>capture switch (runtime on/off, e.g. from the admin endpoint);</li>
 *   <li>global rate, consistent by trace id: the decision is a pure function of the trace id, so the
 *       egress proxy recomputes the same answer for the request's outbound calls;</li>
 *   <li>per-route caps in requests/s (token buckets), for a configured route or a default cap.
 *       Buckets are bounded: past {@code maxRoutes} distinct routes, unknown routes share one bucket.</li>
 * </ul>
 */
public final class Sampler {

    /** Outcome of a decision; {@link #CAPTURE} is the only one that captures. */
    public enum Decision {
        CAPTURE, CAPTURE_OFF, SAMPLED_OUT, ROUTE_CAP
    }

    private static final String OVERFLOW_ROUTE = "\u0000overflow";

    private final double rate;
    private final long threshold;
    private final Map<String, Double> routeCaps;
    private final double defaultCap;
    private final int maxRoutes;
    private final LongSupplier nanoClock;
    private final AtomicBoolean enabled = new AtomicBoolean(true);
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();

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

    /** The decision for an inbound request (consumes a route token when it would capture). */
    public Decision decide(String traceId, String routeKey) {
        if (!enabled.get()) {
            return Decision.CAPTURE_OFF;
        }
        if (!traceSampled(traceId)) {
            return Decision.SAMPLED_OUT;
        }
        Double cap = capFor(routeKey);
        if (cap != null) {
            String bucketKey = routeKey;
            if (!buckets.containsKey(bucketKey) && buckets.size() >= maxRoutes) {
                bucketKey = OVERFLOW_ROUTE;
            }
            TokenBucket bucket = buckets.computeIfAbsent(bucketKey, k -> new TokenBucket(cap, nanoClock));
            if (!bucket.tryAcquire()) {
                return Decision.ROUTE_CAP;
            }
        }
        return Decision.CAPTURE;
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
