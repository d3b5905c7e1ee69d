package io.tapline.sidecar.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Links outbound calls to the inbound interaction that caused them. Bounded: at most {@code maxPending}
 * interactions (in flight or in their grace period) are held; past that new requests are proxied uncaptured.
 * Thread-safe: inbound and egress listeners run on different event loops.
 */
public final class CorrelationRegistry {

    private final int maxPending;
    private final ConcurrentHashMap<String, List<PendingInteraction>> byTrace = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, PendingInteraction> inFlightCaptured = new ConcurrentHashMap<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger inFlightRequests = new AtomicInteger();

    public CorrelationRegistry(int maxPending) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be >= 1");
        }
        this.maxPending = maxPending;
    }

    /** Counts an inbound request in flight, captured or not (sole-in-flight attribution needs all of them). */
    public void requestStarted() {
        inFlightRequests.incrementAndGet();
    }

    public void requestEnded() {
        inFlightRequests.decrementAndGet();
    }

    public int inFlightRequests() {
        return inFlightRequests.get();
    }

    public int pending() {
        return pending.get();
    }

    /** Holds a captured interaction; false when the bound is reached. */
    public boolean register(PendingInteraction p) {
        if (pending.incrementAndGet() > maxPending) {
            pending.decrementAndGet();
            return false;
        }
        // lists are immutable and replaced under the map's per-key lock, so readers never see one mid-change
        // usual case, a trace id seen once: one putIfAbsent, no lambda
        if (byTrace.putIfAbsent(p.traceId, List.of(p)) == null) {
            inFlightCaptured.put(p.id, p);
            return true;
        }
        byTrace.compute(p.traceId, (k, list) -> {
            if (list == null) {
                return List.of(p);
            }
            List<PendingInteraction> l = new ArrayList<>(list);
            l.add(p);
            return List.copyOf(l);
        });
        inFlightCaptured.put(p.id, p);
        return true;
    }

    /** The response has been sent: the interaction is no longer in flight but still collects late calls. */
    public void responded(PendingInteraction p) {
        inFlightCaptured.remove(p.id);
    }

    /** Grace over: forget the interaction. */
    public void remove(PendingInteraction p) {
        inFlightCaptured.remove(p.id);
        List<PendingInteraction> sole = byTrace.get(p.traceId);
        if (sole != null && sole.size() == 1 && sole.get(0) == p && byTrace.remove(p.traceId, sole)) {
            pending.decrementAndGet(); // usual case: the trace's only interaction, removed without a lambda
            return;
        }
        byTrace.computeIfPresent(p.traceId, (k, list) -> {
            List<PendingInteraction> l = new ArrayList<>(list);
            l.remove(p);
            return l.isEmpty() ? null : List.copyOf(l);
        });
        pending.decrementAndGet();
    }

    /** Result of looking a trace id up. */
    public enum Match { ONE, NONE, AMBIGUOUS }

    /** The single interaction holding this trace id; {@link Match#AMBIGUOUS} when several concurrent requests share it. */
    public Lookup byTrace(String traceId) {
        List<PendingInteraction> list = byTrace.get(traceId);
        if (list == null) {
            return new Lookup(Match.NONE, null);
        }
        if (list.size() == 1) {
            return new Lookup(Match.ONE, list.get(0));
        }
        return new Lookup(list.isEmpty() ? Match.NONE : Match.AMBIGUOUS, null);
    }

    /**
     * The captured interaction that is the only inbound request in flight, or null when there is not exactly one
     * request in flight or that one is not captured. Read twice around the pick so a request arriving meanwhile
     * makes it decline rather than guess.
     */
    public PendingInteraction soleInFlight() {
        if (inFlightRequests.get() != 1 || inFlightCaptured.size() != 1) {
            return null;
        }
        PendingInteraction only = null;
        for (PendingInteraction p : inFlightCaptured.values()) {
            only = p;
        }
        if (only == null || inFlightRequests.get() != 1 || inFlightCaptured.size() != 1 || !inFlightCaptured.containsKey(only.id)) {
            return null;
        }
        return only;
    }

    /** A lookup result. */
    public record Lookup(Match match, PendingInteraction interaction) {
    }
}
