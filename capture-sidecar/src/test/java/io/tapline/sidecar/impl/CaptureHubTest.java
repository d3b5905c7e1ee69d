package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.ops.Metrics;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

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
}
