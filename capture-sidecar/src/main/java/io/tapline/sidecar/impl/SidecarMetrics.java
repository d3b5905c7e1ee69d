package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.ops.Metrics;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The sidecar's capture counters, registered once (a fixed set of series). */
public final class SidecarMetrics {

    /** Why a capture was not published. */
    public enum DropReason {
        CAPTURE_OFF("capture_off"), SAMPLED_OUT("sampled_out"), ROUTE_CAP("route_cap"), IN_FLIGHT_FULL("in_flight_full"),
        QUEUE_FULL("queue_full"), SERIALIZATION("serialization"), PRODUCER_ERROR("producer_error"), ASSEMBLY("assembly"),
        SHUTDOWN("shutdown"), CAPTURE_MEMORY("capture_memory"), CLIENT_CLOSED("client_closed"), MEMORY_FULL("memory_full"),
        /** The app sent no response: the client got the sidecar's own 502, 504 or 413, which is no test case. */
        NO_APP_RESPONSE("no_app_response"),
        /**
         * Not sent: a send of its topic waited {@code max.block.ms} and failed a moment ago (the broker does not answer),
         * and the topic's records are dropped at once for the broker back-off.
         */
        BROKER_UNAVAILABLE("broker_unavailable");

        public final String label;

        DropReason(String label) {
            this.label = label;
        }
    }

    public final Metrics registry;
    public final Metrics.Counter captured;
    public final Metrics.Counter published;
    public final Metrics.Counter publishedBytes;
    public final Metrics.Counter unattributedPublished;
    public final Metrics.Counter outboundAttached;
    public final Metrics.Counter outboundLate;
    public final Metrics.Counter outboundSampledOut;
    public final Metrics.Counter outboundAmbiguousTrace;
    public final Metrics.Counter outboundOverLimit;
    private final Map<DropReason, Metrics.Counter> dropped = new EnumMap<>(DropReason.class);
    private final Map<Attribution, Metrics.Counter> outbound = new EnumMap<>(Attribution.class);
    private final Map<String, Metrics.Counter> producerErrors = new ConcurrentHashMap<>();
    private final Map<DropReason, Metrics.Counter> unattributedDropped = new EnumMap<>(DropReason.class);

    public SidecarMetrics(Metrics registry) {
        this.registry = registry;
        captured = registry.counter("tapline_sidecar_captured_total", "Inbound interactions captured (before publish)");
        published = registry.counter("tapline_sidecar_published_total", "Interactions acknowledged by Kafka");
        publishedBytes = registry.counter("tapline_sidecar_published_bytes_total", "Serialized bytes of published interactions");
        unattributedPublished = registry.counter("tapline_sidecar_unattributed_published_total",
                "Outbound calls no interaction claimed, published on their own to the unattributed topic");
        for (DropReason r : DropReason.values()) {
            dropped.put(r, registry.counter("tapline_sidecar_dropped_total", "Interactions not published, by reason", "reason", r.label));
        }
        for (DropReason r : List.of(DropReason.QUEUE_FULL, DropReason.SERIALIZATION, DropReason.PRODUCER_ERROR,
                DropReason.BROKER_UNAVAILABLE, DropReason.ASSEMBLY, DropReason.SHUTDOWN, DropReason.CAPTURE_MEMORY)) {
            unattributedDropped.put(r, registry.counter("tapline_sidecar_unattributed_dropped_total",
                    "Unattributed outbound calls not published, by reason", "reason", r.label));
        }
        for (Attribution a : Attribution.values()) {
            outbound.put(a, registry.counter("tapline_sidecar_outbound_calls_total", "Outbound calls seen by the egress proxy, by attribution",
                    "attribution", a.name().toLowerCase(java.util.Locale.ROOT)));
        }
        outboundAttached = registry.counter("tapline_sidecar_outbound_attached_total",
                "Outbound calls that went with their interaction (published or dropped with it)");
        outboundLate = registry.counter("tapline_sidecar_outbound_late_total", "Outbound calls that ended after their interaction's grace period");
        outboundSampledOut = registry.counter("tapline_sidecar_outbound_sampled_out_total", "Outbound calls of traces that are not captured");
        outboundAmbiguousTrace = registry.counter("tapline_sidecar_outbound_ambiguous_trace_total",
                "Outbound calls whose trace id was shared by several concurrent inbound requests (left unattributed)");
        outboundOverLimit = registry.counter("tapline_sidecar_outbound_over_limit_total",
                "Outbound calls proxied but not captured: their interaction already held the most calls it may capture");
    }

    public void dropped(DropReason reason) {
        dropped.get(reason).inc();
    }

    /** An unattributed call not published: counted apart, as such calls are no captured interaction. */
    public void unattributedDropped(DropReason reason) {
        unattributedDropped.get(reason).inc();
    }

    public long droppedCount(DropReason reason) {
        return dropped.get(reason).value();
    }

    public void outbound(Attribution a) {
        outbound.get(a).inc();
    }

    public long outboundCount(Attribution a) {
        return outbound.get(a).value();
    }

    public void producerError(Throwable e) {
        producerErrors.computeIfAbsent(e.getClass().getSimpleName(), k -> registry.counter("tapline_sidecar_producer_errors_total",
                "Producer send failures, by exception class", "error", k)).inc();
    }
}
