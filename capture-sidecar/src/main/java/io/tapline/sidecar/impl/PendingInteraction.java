package io.tapline.sidecar.impl;

import io.tapline.signature.RouteTemplates;

import java.util.ArrayList;
import java.util.List;

/**
 * An inbound interaction between its request head and its publication: the exchange once it completes, and the
 * outbound calls attributed to it. Outbound calls arrive from other event loops, hence the synchronisation; once
 * {@link #seal()} has run (grace period over) nothing more is attached.
 */
public final class PendingInteraction {

    public final String id;
    public final String traceId;
    private final String method;
    private final String path;
    private String routeKey;
    public final long startNanos;
    public final Double routeCap;
    private final List<OutboundCapture> calls = new ArrayList<>(2);
    private Exchange exchange;
    private boolean sealed;
    private boolean callOverBudget;
    private volatile long publishAfterNanos;
    private int unattributedInFlight = -1;
    /** Outbound calls being captured or attached for this interaction (bounded by {@link #MAX_CALLS}). */
    private int reservedCalls;

    /**
     * Most outbound calls one interaction captures: each holds up to two capped bodies until the interaction is
     * published, so an app looping over a dependency inside one request must not grow the sidecar's memory without end.
     */
    public static final int MAX_CALLS = 256;

    public PendingInteraction(String id, String traceId, String routeKey, long startNanos, Double routeCap) {
        this(id, traceId, null, null, routeKey, startNanos, routeCap);
    }

    /**
     * @param routeKey the normalised route when the sampler already needed it (route caps), else null: it is then
     *                 derived from {@code method} and {@code path} on the publisher thread, off the event loop
     */
    PendingInteraction(String id, String traceId, String method, String path, String routeKey, long startNanos,
                       Double routeCap) {
        this.id = id;
        this.traceId = traceId;
        this.method = method;
        this.path = path;
        this.routeKey = routeKey;
        this.startNanos = startNanos;
        this.routeCap = routeCap;
    }

    /**
     * An outbound call that no interaction claimed, to be published on its own right away (never guessed onto an
     * interaction). It is not held in the correlation registry.
     *
     * @param inFlight inbound requests in flight when the call started (why it could not be attributed)
     */
    public static PendingInteraction unattributed(String id, String traceId, int inFlight, OutboundCapture call) {
        PendingInteraction p = new PendingInteraction(id, traceId, null, null, null, call.exchange().startNanos(), null);
        p.calls.add(call);
        p.unattributedInFlight = inFlight;
        p.publishAfterNanos = System.nanoTime();
        return p;
    }

    /** {@code METHOD /route/{template}}, the record key's second part. */
    public String routeKey() {
        String k = routeKey;
        if (k == null && method != null) {
            k = RouteTemplates.routeKey(method, path);
            routeKey = k; // deterministic, so a racing second computation stores the same value
        }
        return k;
    }

    /** True for a call published on its own (see {@link #unattributed}). */
    public boolean isUnattributed() {
        return unattributedInFlight >= 0;
    }

    public int unattributedInFlight() {
        return unattributedInFlight;
    }

    /**
     * Claims room for one more outbound call before its capture starts; false when the interaction already has
     * {@link #MAX_CALLS} or is sealed (the call is then proxied but not captured).
     */
    public synchronized boolean reserveCall() {
        if (sealed || reservedCalls >= MAX_CALLS) {
            return false;
        }
        reservedCalls++;
        return true;
    }

    /** Attaches a finished outbound call; false when the interaction was already sealed (the call came too late). */
    public synchronized boolean attach(OutboundCapture call) {
        if (sealed) {
            return false;
        }
        calls.add(call);
        return true;
    }

    /** The exchange ended; the interaction may be published once {@code publishAfterNanos} (end + grace) has passed. */
    public synchronized void complete(Exchange ex, long publishAfterNanos) {
        this.exchange = ex;
        this.publishAfterNanos = publishAfterNanos;
    }

    public long publishAfterNanos() {
        return publishAfterNanos;
    }

    /** Ends the grace period: no more calls are attached. */
    public synchronized void seal() {
        sealed = true;
    }

    public synchronized Exchange exchange() {
        return exchange;
    }

    /** The attached calls in start order. */
    public synchronized List<OutboundCapture> calls() {
        List<OutboundCapture> out = new ArrayList<>(calls);
        out.sort((a, b) -> Long.compare(a.exchange().startNanos(), b.exchange().startNanos()));
        return out;
    }

    /**
     * A call of this interaction could not be captured for want of capture memory: the interaction is incomplete, and
     * dropped whole. False when it was sealed already (published or dropped): the call came too late to matter.
     */
    public synchronized boolean markOverBudget() {
        if (sealed) {
            return false;
        }
        callOverBudget = true;
        return true;
    }

    /**
     * True when a body of the interaction or of an attached call ran out of capture budget, or a call's heads did
     * (it is then dropped).
     */
    public synchronized boolean overBudget() {
        if (callOverBudget || exchange != null && exchange.overBudget()) {
            return true;
        }
        for (OutboundCapture c : calls) {
            if (c.exchange().overBudget()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Gives back the capture budget its bodies took, once it has been published or dropped. Sealed first, so no call
     * attaches afterwards; a call that comes too late gives back its own.
     */
    public synchronized void releaseBudget() {
        sealed = true;
        if (exchange != null) {
            exchange.releaseBudget();
        }
        for (OutboundCapture c : calls) {
            c.exchange().releaseBudget();
        }
        // Nothing of the capture stays reachable through it: a CONNECT tunnel's close handler holds its interaction
        // for as long as the tunnel lives (hours, for a pooled connection), to attach its call if it ends in time.
        exchange = null;
        calls.clear();
    }

    public synchronized long estimatedBytes() {
        long n = 256;
        if (exchange != null) {
            if (exchange.request() != null) {
                n += exchange.request().estimatedBytes();
            }
            if (exchange.response() != null) {
                n += exchange.response().estimatedBytes();
            }
        }
        for (OutboundCapture c : calls) {
            n += c.estimatedBytes();
        }
        return n;
    }
}
