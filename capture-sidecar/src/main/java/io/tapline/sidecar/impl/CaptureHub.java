package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.avro.CallKind;
import io.tapline.http.RequestTarget;
import io.tapline.sidecar.impl.SidecarMetrics.DropReason;
import io.tapline.signature.RouteTemplates;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The capture logic between the proxies and the publisher: trace context on inbound requests, the sampling
 * decision, the registry of in-flight interactions, attribution of outbound calls, and the grace period before
 * an interaction is handed to the publisher. Runs on event loops; every step is non-blocking.
 */
public final class CaptureHub {

    private final Sampler sampler;
    private final CorrelationRegistry registry;
    private final CapturePublisher publisher;
    private final SidecarMetrics metrics;
    private final long graceNanos;
    private final int maxBodyBytes;
    private final CaptureBudget budget;

    /**
     * @param maxBodyBytes bytes of each body a capture keeps
     * @param budget       what all captured bodies together may hold
     */
    public CaptureHub(Sampler sampler, CorrelationRegistry registry, CapturePublisher publisher,
                      SidecarMetrics metrics, long graceMillis, int maxBodyBytes, CaptureBudget budget) {
        this.sampler = sampler;
        this.registry = registry;
        this.publisher = publisher;
        this.metrics = metrics;
        this.graceNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, graceMillis));
        this.maxBodyBytes = maxBodyBytes;
        this.budget = budget;
    }

    /** A sink that keeps the exchange: its bodies are copied up to the cap, paid from the capture budget. */
    private final class Capturing implements ExchangeObserver.Sink {
        private final Consumer<Exchange> onCompleted;

        Capturing(Consumer<Exchange> onCompleted) {
            this.onCompleted = onCompleted;
        }

        @Override
        public void completed(Exchange exchange) {
            onCompleted.accept(exchange);
        }

        @Override
        public BodyTap tap(ReadStream<Buffer> body) {
            return new BodyTap(body, maxBodyBytes, budget);
        }
    }

    public Sampler sampler() {
        return sampler;
    }

    public CorrelationRegistry registry() {
        return registry;
    }

    /** Observer for the inbound (reverse proxy) listener. */
    public ExchangeObserver inbound() {
        return new ExchangeObserver() {
            @Override
            public Sink begin(HttpServerRequest request, MultiMap upstreamHeaders, long startNanos) {
                return beginInbound(request, upstreamHeaders, startNanos);
            }

            @Override
            public Runnable tunnel(HttpServerRequest request) {
                // An open WebSocket is an inbound exchange the app may be making calls for: in flight until it ends,
                // so a call without trace context is not taken for the only other request's.
                registry.requestStarted();
                AtomicBoolean ended = new AtomicBoolean();
                return () -> {
                    if (ended.compareAndSet(false, true)) {
                        registry.requestEnded();
                    }
                };
            }
        };
    }

    /** Observer for the egress listener; {@code destination} names the dependency (route name or host:port). */
    public ExchangeObserver outbound(String destination) {
        return (req, up, start) -> beginOutbound(req, destination, CallKind.HTTP);
    }

    private ExchangeObserver.Sink beginInbound(HttpServerRequest req, MultiMap upstreamHeaders, long startNanos) {
        registry.requestStarted();
        TraceContext trace = TraceContext.of(req.headers());
        if (trace == null) {
            // no (valid, single) caller context: start one, so the app's instrumented outbound calls carry it back to us
            trace = TraceContext.generate();
            upstreamHeaders.set(TraceContext.HEADER, trace.header());
            // the caller's tracestate describes another trace (or none): the app's tracer would carry it into this one
            upstreamHeaders.remove(TraceContext.STATE_HEADER);
        }
        // Capture off or trace sampled out: decided without the route key (its normalisation is the costly part).
        boolean sampled = sampler.traceSampled(trace.traceId());
        if (!sampler.enabled()) {
            // Noted like a capped request when its trace is sampled in: should capture be switched on before it ends,
            // the calls it makes then stay out with it rather than being published as unattributed.
            return sampled ? declined(trace.traceId(), DropReason.CAPTURE_OFF) : notCaptured(DropReason.CAPTURE_OFF);
        }
        if (!sampled) {
            metrics.dropped(DropReason.SAMPLED_OUT);
            return endOnly;
        }
        String method = req.method().name();
        String path = req.path() == null ? "/" : RequestTarget.fromWire(req.path()); // as recorded, so as record keys
        // Route-key normalisation runs here only when route caps need it; otherwise on the publisher thread.
        String routeKey = sampler.routeCapped() ? RouteTemplates.routeKey(method, path) : null;
        if (routeKey != null) {
            Sampler.Decision decision = sampler.decide(trace.traceId(), routeKey);
            if (decision != Sampler.Decision.CAPTURE) {
                return switch (decision) {
                    case CAPTURE_OFF -> declined(trace.traceId(), DropReason.CAPTURE_OFF); // switched off just now
                    case SAMPLED_OUT -> notCaptured(DropReason.SAMPLED_OUT);
                    default -> declined(trace.traceId(), DropReason.ROUTE_CAP);
                };
            }
        }
        if (budget.exhausted()) {
            return declined(trace.traceId(), DropReason.MEMORY_FULL); // bounded memory: proxied, not captured
        }
        PendingInteraction p = new PendingInteraction(randomUuid(), trace.traceId(), method, path, routeKey, startNanos,
                routeKey == null ? null : sampler.capFor(routeKey));
        if (!registry.register(p)) {
            return declined(trace.traceId(), DropReason.IN_FLIGHT_FULL);
        }
        metrics.captured.inc();
        return new Capturing(ex -> {
            registry.ended(p);
            DropReason unpublished = ex.statusSent() == Exchange.NO_RESPONSE ? DropReason.CLIENT_CLOSED
                    : ex.response() == null ? DropReason.NO_APP_RESPONSE
                    : !ex.chargeHeads(budget) ? DropReason.CAPTURE_MEMORY
                    : null;
            if (unpublished != null) {
                // The client left before any answer, or the answer was the sidecar's own (a 502 or 504 for an app
                // that failed or did not answer, a 413 for a body over the limit): neither is the app's behaviour,
                // and a replay would hold a healthy candidate to it. Or no memory for the heads.
                p.complete(ex, 0);
                p.releaseBudget();
                registry.remove(p);
                metrics.dropped(unpublished);
                return;
            }
            // No timer per request: the publisher thread holds it until the grace period is over, then seals it.
            p.complete(ex, System.nanoTime() + graceNanos);
            if (!publisher.offer(p)) {
                p.releaseBudget();
                registry.remove(p);
            }
        });
    }

    private ExchangeObserver.Sink notCaptured(DropReason reason) {
        metrics.dropped(reason);
        return endOnly;
    }

    /**
     * A request of a sampled-in trace that is not captured: while it is in flight and for the grace period after its
     * answer, the calls it makes under its trace id are not captured either, instead of being published as
     * unattributed (a late call of a capped route would otherwise be published at the route's full rate).
     */
    private ExchangeObserver.Sink declined(String traceId, DropReason reason) {
        metrics.dropped(reason);
        if (!registry.declined(traceId)) {
            return endOnly;
        }
        return new ExchangeObserver.Sink() {
            @Override
            public void completed(Exchange exchange) {
                registry.declinedEnded(traceId, System.nanoTime() + graceNanos);
                registry.requestEnded();
            }

            @Override
            public boolean capturing() {
                return false;
            }
        };
    }

    /** The sink of an uncaptured request: stateless, so one instance serves them all. */
    private final ExchangeObserver.Sink endOnly = new ExchangeObserver.Sink() {
        @Override
        public void completed(Exchange exchange) {
            registry.requestEnded();
        }

        @Override
        public boolean capturing() {
            return false;
        }
    };

    /** A random (version 4) UUID without SecureRandom's lock on the event loop; capture ids need uniqueness, not secrecy. */
    static String randomUuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (r.nextLong() & ~(3L << 62)) | (2L << 62);
        return new UUID(msb, lsb).toString();
    }

    /**
     * Attribution of a call at its start. A null attribution means the call is not captured (sampled out); an
     * UNATTRIBUTED one is published on its own.
     *
     * @param traceId  the trace id the call carried, if any
     * @param inFlight inbound requests in flight when the call started
     */
    record Attributed(PendingInteraction target, Attribution attribution, String traceId, int inFlight) {

        Attributed(PendingInteraction target, Attribution attribution) {
            this(target, attribution, null, 0);
        }
    }

    /**
     * Finds the interaction an outbound call belongs to: by trace id when the app propagated one; by being the
     * only inbound request in flight when it did not; otherwise unattributed (published on its own, never guessed).
     */
    Attributed attribute(String traceparent) {
        if (!sampler.enabled() && registry.pending() == 0) {
            return new Attributed(null, null); // capture is off: outbound calls are not captured either
        }
        long stamp = registry.stamp(); // the in-flight state as the call starts
        TraceContext trace = TraceContext.parse(traceparent);
        if (!sampler.enabled()) {
            // Capture is off, but a request captured before it was switched off is still published: its calls go with it.
            PendingInteraction earlier = capturedEarlier(trace, stamp);
            return earlier == null ? new Attributed(null, null)
                    : new Attributed(earlier, trace == null ? Attribution.SOLE_IN_FLIGHT : Attribution.TRACE_CONTEXT);
        }
        Attributed a = attributeCall(trace, stamp);
        if (a.attribution() != Attribution.UNATTRIBUTED) {
            return a;
        }
        // A call no interaction claims follows the rate too: its trace's decision, or without trace context a draw at
        // the rate (an app that does not propagate would otherwise have every call captured whatever the rate).
        if (trace == null ? !sampler.untracedSampled() : !sampler.traceSampled(trace.traceId())) {
            return new Attributed(null, null);
        }
        return new Attributed(null, Attribution.UNATTRIBUTED, trace == null ? null : trace.traceId(),
                CorrelationRegistry.count(stamp));
    }

    /** The captured interaction a call belongs to for sure (as {@link #attributeCall} finds it), else null; counts nothing. */
    private PendingInteraction capturedEarlier(TraceContext trace, long stamp) {
        if (trace == null) {
            return registry.soleInFlight(stamp);
        }
        CorrelationRegistry.Lookup lookup = registry.byTrace(trace.traceId());
        return lookup.match() == CorrelationRegistry.Match.ONE && !registry.isDeclined(trace.traceId()) ? lookup.interaction() : null;
    }

    private Attributed attributeCall(TraceContext trace, long stamp) {
        if (trace != null) {
            CorrelationRegistry.Lookup lookup = registry.byTrace(trace.traceId());
            switch (lookup.match()) {
                case ONE:
                    if (!registry.isDeclined(trace.traceId())) {
                        return new Attributed(lookup.interaction(), Attribution.TRACE_CONTEXT);
                    }
                    // an uncaptured request of the same trace is in flight too: the call may be either's
                    metrics.outboundAmbiguousTrace.inc();
                    return new Attributed(null, Attribution.UNATTRIBUTED);
                case AMBIGUOUS:
                    metrics.outboundAmbiguousTrace.inc();
                    return new Attributed(null, Attribution.UNATTRIBUTED);
                default:
                    if (registry.isDeclined(trace.traceId())) {
                        // its request was not captured: in or out together (a trace sampled out: see attribute)
                        return new Attributed(null, null);
                    }
                    return new Attributed(null, Attribution.UNATTRIBUTED);
            }
        }
        PendingInteraction sole = registry.soleInFlight(stamp);
        if (sole != null) {
            return new Attributed(sole, Attribution.SOLE_IN_FLIGHT);
        }
        if (CorrelationRegistry.count(stamp) == 1 && registry.pending() == 0) {
            return new Attributed(null, null); // the one request in flight is not captured
        }
        return new Attributed(null, Attribution.UNATTRIBUTED);
    }

    ExchangeObserver.Sink beginOutbound(HttpServerRequest req, String destination, CallKind kind) {
        Attributed a = attribute(req.headers().get(TraceContext.HEADER));
        countOutbound(a);
        if (a.attribution() == null) {
            return null;
        }
        if (a.target() != null && !a.target().reserveCall()) {
            metrics.outboundOverLimit.inc(); // bounded memory: proxied, not captured
            return null;
        }
        return new Capturing(ex -> attach(a, new OutboundCapture(destination, kind, ex, a.attribution(),
                ex.request() == null ? 0 : ex.request().body.total(),
                ex.response() == null ? 0 : ex.response().body.total())));
    }

    /**
     * Attributes a tunnel (CONNECT) as it opens, and claims its place among its interaction's calls then, as
     * {@link #beginOutbound} does for an HTTP call: a tunnel that closes after the grace period is late, not over the
     * limit. Null when the tunnel is not captured.
     */
    Attributed beginTunnel(String traceparent) {
        Attributed a = attribute(traceparent);
        countOutbound(a);
        if (a.attribution() == null) {
            return null;
        }
        if (a.target() != null && !a.target().reserveCall()) {
            metrics.outboundOverLimit.inc();
            return null;
        }
        return a;
    }

    /** Attaches a finished tunnel (CONNECT) begun by {@link #beginTunnel} to its interaction, or publishes it as unattributed. */
    void attachTunnel(Attributed a, OutboundCapture call) {
        attach(a, new OutboundCapture(call.destination(), call.kind(), call.exchange(), a.attribution(),
                call.bytesUp(), call.bytesDown()));
    }

    /** Counts a call's attribution: an HTTP call's in {@link #beginOutbound}, a tunnel's in {@link #beginTunnel}. */
    private void countOutbound(Attributed a) {
        if (a.attribution() == null) {
            metrics.outboundSampledOut.inc();
        } else {
            metrics.outbound(a.attribution());
        }
    }

    private void attach(Attributed a, OutboundCapture call) {
        if (!call.exchange().chargeHeads(budget)) {
            // bounded memory: no room for the call's heads; its interaction is dropped whole, as for a body
            call.exchange().releaseBudget();
            if (a.target() == null) {
                metrics.unattributedDropped(DropReason.CAPTURE_MEMORY);
            } else if (a.target().markOverBudget()) {
                metrics.outboundAttached.inc(); // goes with its interaction: dropped with it (capture_memory)
            } else {
                metrics.outboundLate.inc(); // its interaction was sealed already: counted as any call ending then
            }
            return;
        }
        if (a.target() == null) {
            // No single interaction can claim it: publish it on its own rather than guess.
            if (!publisher.offer(PendingInteraction.unattributed(randomUuid(), a.traceId(), a.inFlight(), call))) {
                call.exchange().releaseBudget();
            }
        } else if (a.target().attach(call)) {
            metrics.outboundAttached.inc();
        } else {
            metrics.outboundLate.inc();
            call.exchange().releaseBudget();
        }
    }
}
