package io.tapline.sidecar.impl;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Links outbound calls to the inbound interaction that caused them. Bounded: at most {@code maxPending}
 * interactions (in flight or in their grace period) are held; past that new requests are proxied uncaptured.
 * Thread-safe: inbound and egress listeners run on different event loops.
 */
public final class CorrelationRegistry {

    private final int maxPending;
    private final ConcurrentHashMap<String, Held> byTrace = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, PendingInteraction> inFlightCaptured = new ConcurrentHashMap<>();
    private final AtomicInteger pending = new AtomicInteger();
    /** Trace ids of in-flight requests that were sampled in but not captured, with how many ({@link #declined}). */
    private final ConcurrentHashMap<String, Integer> declined = new ConcurrentHashMap<>();
    private final AtomicInteger declinedCount = new AtomicInteger();
    /** Declined requests answered and in their grace period, in the order they were answered. */
    private final ConcurrentLinkedQueue<DeclinedEnding> declinedEnding = new ConcurrentLinkedQueue<>();
    /**
     * Inbound requests in flight (low 32 bits) and how many times a request started or ended (the epoch, high
     * bits), changed together by one atomic add so a reader sees both from the same moment.
     */
    private final AtomicLong inFlight = new AtomicLong();
    private static final long EPOCH = 1L << 32;

    public CorrelationRegistry(int maxPending) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be >= 1");
        }
        this.maxPending = maxPending;
    }

    /**
     * Counts an inbound request in flight, captured or not (sole-in-flight attribution needs all of them). Comes
     * before the request's {@link #register}, so a registered interaction is always counted.
     */
    public void requestStarted() {
        inFlight.addAndGet(EPOCH + 1);
    }

    /** An uncaptured (or unregistered) request has been answered. */
    public void requestEnded() {
        inFlight.addAndGet(EPOCH - 1);
    }

    /**
     * Notes an in-flight request of a sampled-in trace that is not captured all the same (route cap, no room, capture
     * off at its start): the outbound calls it makes under that trace id, while in flight and in the grace period after
     * its answer, are not captured either (in or out together), rather than published as unattributed. Bounded like the pending
     * interactions: past {@code maxPending} such requests (in flight or in their grace period) it is not noted, and
     * their calls are published as unattributed.
     *
     * @return whether it was noted: {@link #declinedEnded} is then due when the request ends
     */
    public boolean declined(String traceId) {
        releaseDeclined(System.nanoTime());
        if (declinedCount.incrementAndGet() > maxPending) {
            declinedCount.decrementAndGet();
            return false;
        }
        declined.merge(traceId, 1, Integer::sum);
        return true;
    }

    /**
     * A request noted by {@link #declined} has been answered; its trace stays declined until {@code graceEndNanos}
     * (a {@link System#nanoTime} value), as a captured request collects late calls for the grace period.
     */
    public void declinedEnded(String traceId, long graceEndNanos) {
        declinedEnding.add(new DeclinedEnding(traceId, graceEndNanos));
        releaseDeclined(System.nanoTime());
    }

    /** Whether an uncaptured request of this trace is in flight or in its grace period ({@link #declined}). */
    public boolean isDeclined(String traceId) {
        return isDeclinedAt(traceId, System.nanoTime());
    }

    boolean isDeclinedAt(String traceId, long nowNanos) {
        if (declined.isEmpty()) {
            return false;
        }
        releaseDeclined(nowNanos);
        return declined.containsKey(traceId);
    }

    /**
     * Forgets the declined requests whose grace period is over. The grace is the same for all, so the queue is in
     * end order but for requests that ended within the same moment on different threads: one a little later than
     * its place waits for those before it.
     */
    void releaseDeclined(long nowNanos) {
        DeclinedEnding head;
        while ((head = declinedEnding.peek()) != null && head.graceEndNanos - nowNanos <= 0) {
            if (declinedEnding.remove(head)) { // another thread may have taken it: only its taker releases it
                declined.computeIfPresent(head.traceId, (k, n) -> n == 1 ? null : n - 1);
                declinedCount.decrementAndGet();
            }
        }
    }

    private record DeclinedEnding(String traceId, long graceEndNanos) {
    }

    /**
     * A captured request has been answered: it is no longer in flight but still collects late calls until
     * {@link #remove}. Taken out of the in-flight set before it stops being counted, so the set never holds a
     * request the count has let go of.
     */
    public void ended(PendingInteraction p) {
        inFlightCaptured.remove(p.id);
        requestEnded();
    }

    public int inFlightRequests() {
        return count(inFlight.get());
    }

    /** Inbound requests in flight at a {@link #stamp()}. */
    static int count(long stamp) {
        return (int) stamp;
    }

    public int pending() {
        return pending.get();
    }

    /**
     * The captured interactions in flight under one trace id, as a lookup reads them: how many, and the one when there
     * is one. Replaced whole under the map's per-key lock, so a reader never sees one mid-change. {@code members}
     * holds them all once there are several; it is changed only under that lock and never read outside it, so a
     * trace shared by thousands of concurrent requests costs each start and end O(1), not a copy of the list.
     */
    private record Held(int count, PendingInteraction sole, Set<PendingInteraction> members) {
        static Held one(PendingInteraction p) {
            return new Held(1, p, null);
        }
    }

    /** Holds a captured interaction; false when the bound is reached. */
    public boolean register(PendingInteraction p) {
        if (pending.incrementAndGet() > maxPending) {
            pending.decrementAndGet();
            return false;
        }
        // usual case, a trace id seen once: one putIfAbsent, no lambda
        Held one = Held.one(p);
        if (byTrace.putIfAbsent(p.traceId, one) == null) {
            inFlightCaptured.put(p.id, p);
            return true;
        }
        byTrace.compute(p.traceId, (k, held) -> {
            if (held == null) {
                return one;
            }
            Set<PendingInteraction> members = held.members();
            if (members == null) {
                members = Collections.newSetFromMap(new IdentityHashMap<>());
                members.add(held.sole());
            }
            members.add(p);
            return new Held(members.size(), null, members);
        });
        inFlightCaptured.put(p.id, p);
        return true;
    }

    /** Grace over: forget the interaction. */
    public void remove(PendingInteraction p) {
        inFlightCaptured.remove(p.id);
        Held sole = byTrace.get(p.traceId);
        if (sole != null && sole.sole() == p && byTrace.remove(p.traceId, sole)) {
            pending.decrementAndGet(); // usual case: the trace's only interaction, removed without a lambda
            return;
        }
        byTrace.computeIfPresent(p.traceId, (k, held) -> {
            Set<PendingInteraction> members = held.members();
            if (members == null) {
                return held.sole() == p ? null : held;
            }
            members.remove(p);
            if (members.isEmpty()) {
                return null;
            }
            return members.size() == 1 ? Held.one(members.iterator().next()) : new Held(members.size(), null, members);
        });
        pending.decrementAndGet();
    }

    /** Result of looking a trace id up. */
    public enum Match { ONE, NONE, AMBIGUOUS }

    /** The single interaction holding this trace id; {@link Match#AMBIGUOUS} when several concurrent requests share it. */
    public Lookup byTrace(String traceId) {
        Held held = byTrace.get(traceId);
        if (held == null) {
            return new Lookup(Match.NONE, null);
        }
        return held.count() == 1 ? new Lookup(Match.ONE, held.sole()) : new Lookup(Match.AMBIGUOUS, null);
    }

    /** The in-flight state now, for {@link #soleInFlight(long)}: taken when an outbound call starts. */
    public long stamp() {
        return inFlight.get();
    }

    /**
     * The captured interaction that was the only inbound request in flight from {@code stamp} until now, or null
     * when there was not exactly one, it is not captured, or any request started or ended meanwhile: declines
     * rather than guess. Sound because a request is counted before it is registered and unregistered before it
     * stops being counted: with the same single request counted throughout, the in-flight set can hold only it.
     */
    public PendingInteraction soleInFlight(long stamp) {
        if (count(stamp) != 1 || inFlightCaptured.size() != 1) {
            return null;
        }
        PendingInteraction only = null;
        for (PendingInteraction p : inFlightCaptured.values()) {
            only = p;
        }
        return inFlight.get() == stamp ? only : null;
    }

    /** A lookup result. */
    public record Lookup(Match match, PendingInteraction interaction) {
    }
}
