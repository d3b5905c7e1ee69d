package io.tapline.compat;

import io.tapline.avro.Attribution;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import io.tapline.avro.Redaction;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/** A realistic interaction with every part filled, for round-trip tests. */
final class Samples {

    private Samples() {
    }

    static Interaction interaction(String id) {
        HttpRequest inbound = HttpRequest.newBuilder().setMethod("POST").setScheme("http").setAuthority("shop:8080")
                .setPath("/orders").setRawQuery("dry=false")
                .setHeaders(List.of(new Header("Content-Type", "application/json"), new Header("Accept", "*/*"),
                        new Header("Accept", "application/json")))
                .setBody(utf8("{\"sku\":\"A-1\",\"qty\":2}")).setContentType("application/json")
                .setOriginalSize(22).build();
        HttpResponse response = HttpResponse.newBuilder().setStatus(201)
                .setHeaders(List.of(new Header("Content-Type", "application/json")))
                .setBody(utf8("{\"order\":\"o-" + id + "\",\"total\":19.9}")).setContentType("application/json")
                .setOriginalSize(31).build();
        HttpRequest outboundRequest = HttpRequest.newBuilder().setMethod("GET").setScheme("http")
                .setAuthority("inventory:8080").setPath("/stock/A-1").setHeaders(List.of())
                .setBody(ByteBuffer.wrap(new byte[0])).build();
        OutboundCall call = OutboundCall.newBuilder().setDestination("inventory").setRequest(outboundRequest)
                .setResponse(HttpResponse.newBuilder().setStatus(200).setHeaders(List.of())
                        .setBody(utf8("{\"left\":5}")).build())
                .setStartOffsetMicros(150).setDurationMicros(900).setAttribution(Attribution.TRACE_CONTEXT).build();
        return Interaction.newBuilder().setId(id).setTraceId(String.format("%032x", id.hashCode() & 0xffffffffL))
                .setService("shop").setInstance("pod-1")
                .setStartedAt(Instant.ofEpochMilli(1_763_700_000_000L)).setCompletedAt(Instant.ofEpochMilli(1_763_700_000_004L))
                .setRequest(inbound).setResponse(response).setLatencyMicros(4_100).setOutboundCalls(List.of(call))
                .setRedactions(List.of(new Redaction("inbound.request", "header", "Authorization", "default-headers")))
                .setSidecarVersion("test").build();
    }

    static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
