package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.ops.Metrics;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaptureHubTest {

    private final Sampler sampler = new Sampler(1.0, Map.of(), 0, 100, System::nanoTime);
    private final CorrelationRegistry registry = new CorrelationRegistry(100);
    private final SidecarMetrics metrics = new SidecarMetrics(new Metrics());
    private final CaptureHub hub = new CaptureHub(sampler, registry, null, metrics, 100, 1024, new CaptureBudget(1 << 20));

    private PendingInteraction captured(TraceContext trace) {
        registry.requestStarted();
        PendingInteraction p = new PendingInteraction(CaptureHub.randomUuid(), trace.traceId(), "GET /x", System.nanoTime(), null);
        registry.register(p);
        return p;
    }

    @Test
    void shouldKeepTheCallsOfARequestCapturedBeforeCaptureWasSwitchedOff() {
        TraceContext trace = TraceContext.generate();
        PendingInteraction p = captured(trace);
        sampler.setEnabled(false); // POST /capture/off while the request is in flight; it is still published

        CaptureHub.Attributed byTrace = hub.attribute(trace.header());
        assertSame(p, byTrace.target(), "its call belongs to it: in or out together");
        assertEquals(Attribution.TRACE_CONTEXT, byTrace.attribution());

        CaptureHub.Attributed sole = hub.attribute(null);
        assertSame(p, sole.target(), "a call without trace context, the request the only one in flight");
        assertEquals(Attribution.SOLE_IN_FLIGHT, sole.attribution());
    }

    @Test
    void shouldCaptureNoOtherCallWhileCaptureIsOff() {
        captured(TraceContext.generate());
        registry.requestStarted(); // another request, proxied while off
        sampler.setEnabled(false);

        assertNull(hub.attribute(TraceContext.generate().header()).attribution(), "another trace's call");
        assertNull(hub.attribute(null).attribution(), "a call without trace context, two requests in flight");
        assertEquals(0, metrics.outboundAmbiguousTrace.value());
    }

    /**
     * Calls no interaction can claim follow the sampling rate too: an app that does not propagate trace context, at
     * 10 %, used to have every one of its calls captured and published (unattributed).
     */
    @Test
    void shouldSampleUnattributedCallsAtTheRate() {
        Sampler tenth = new Sampler(0.1, Map.of(), 0, 100, System::nanoTime);
        CaptureHub sampled = new CaptureHub(tenth, registry, null, metrics, 100, 1024, new CaptureBudget(1 << 20));
        registry.requestStarted();
        registry.requestStarted(); // two requests in flight, neither captured: a call without trace context is nobody's
        int kept = 0;
        for (int i = 0; i < 10_000; i++) {
            if (sampled.attribute(null).attribution() == Attribution.UNATTRIBUTED) {
                kept++;
            }
        }
        assertTrue(kept > 700 && kept < 1300, "about a tenth kept: " + kept);

        // with trace context, the trace decides, as for a captured request's calls: in or out together
        int byTrace = 0;
        for (int i = 0; i < 10_000; i++) {
            TraceContext trace = TraceContext.generate();
            CaptureHub.Attributed a = sampled.attribute(trace.header());
            assertEquals(tenth.traceSampled(trace.traceId()), a.attribution() == Attribution.UNATTRIBUTED, trace.header());
            byTrace += a.attribution() == null ? 0 : 1;
        }
        assertTrue(byTrace > 700 && byTrace < 1300, "about a tenth kept: " + byTrace);
    }

    /** A finished tunnel call whose heads take more than a one-byte capture budget holds. */
    private static OutboundCapture tunnelCall() {
        CapturedMessage head = CapturedMessage.request("CONNECT", "tcp", "db:5432", "", null, List.of(), BodyTap.empty());
        Exchange ex = new Exchange(head, CapturedMessage.response(200, List.of(), BodyTap.empty()), 200,
                System.currentTimeMillis(), System.nanoTime(), System.currentTimeMillis(), System.nanoTime(), null);
        return new OutboundCapture("db:5432", io.tapline.avro.CallKind.TUNNEL, ex, null, 0, 0);
    }

    /**
     * Every attributed call is counted once as it ends: attached (it goes with its interaction, published or dropped
     * with it) or late. One whose heads found no capture memory after its interaction was sealed was counted in
     * neither: its interaction, published or dropped already, could not be marked.
     */
    @Test
    void shouldCountEveryAttributedCallAttachedOrLateAlsoWithoutCaptureMemory() {
        CaptureHub full = new CaptureHub(sampler, registry, null, metrics, 100, 1024, new CaptureBudget(1));
        PendingInteraction p = captured(TraceContext.generate());

        CaptureHub.Attributed inTime = full.beginTunnel(null);
        assertSame(p, inTime.target());
        full.attachTunnel(inTime, tunnelCall());
        assertEquals(1, metrics.outboundAttached.value(), "goes with its interaction, which is dropped whole");
        assertTrue(p.overBudget());

        CaptureHub.Attributed tooLate = full.beginTunnel(null);
        assertSame(p, tooLate.target());
        p.seal(); // the grace period ended while the tunnel was open
        full.attachTunnel(tooLate, tunnelCall());
        assertEquals(1, metrics.outboundAttached.value());
        assertEquals(1, metrics.outboundLate.value(), "ended after its interaction was sealed");
        assertFalse(p.markOverBudget());
    }
}
