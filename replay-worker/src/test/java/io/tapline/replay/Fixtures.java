package io.tapline.replay;

import io.tapline.avro.Case;
import io.tapline.avro.CallKind;
import io.tapline.avro.Attribution;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import io.tapline.avro.SignatureParts;
import io.tapline.signature.RouteTemplates;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builders for the Avro records the tests feed to replay. */
public final class Fixtures {

    private Fixtures() {
    }

    public static HttpResponse json(int status, String body, Header... headers) {
        List<Header> hs = new ArrayList<>(List.of(headers));
        hs.add(new Header("Content-Type", "application/json"));
        return HttpResponse.newBuilder().setStatus(status).setHeaders(hs)
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)))
                .setContentType("application/json").setContentEncoding(null).setTruncated(false)
                .setOriginalSize(body.length()).build();
    }

    public static HttpResponse response(int status, String contentType, byte[] body, String encoding, Header... headers) {
        return HttpResponse.newBuilder().setStatus(status).setHeaders(List.of(headers)).setBody(ByteBuffer.wrap(body))
                .setContentType(contentType).setContentEncoding(encoding).setTruncated(false)
                .setOriginalSize(body.length).build();
    }

    public static HttpRequest request(String method, String authority, String path, String query, String body) {
        return HttpRequest.newBuilder().setMethod(method).setScheme("http").setAuthority(authority).setPath(path)
                .setRawQuery(query).setHeaders(new ArrayList<>())
                .setBody(ByteBuffer.wrap(body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8)))
                .setContentType(body == null ? null : "application/json").setContentEncoding(null)
                .setTruncated(false).setOriginalSize(body == null ? 0 : body.length()).build();
    }

    public static OutboundCall call(String destination, String method, String path, String query, String requestBody,
                                    HttpResponse response) {
        return OutboundCall.newBuilder().setDestination(destination).setKind(CallKind.HTTP)
                .setRequest(request(method, destination, path, query, requestBody)).setResponse(response)
                .setStartOffsetMicros(0).setDurationMicros(100).setAttribution(Attribution.TRACE_CONTEXT)
                .setError(null).setBytesUp(0).setBytesDown(0).build();
    }

    public static Case caseOf(String caseId, HttpRequest request, HttpResponse response, List<OutboundCall> calls, long hits) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        Interaction sample = Interaction.newBuilder().setId("i-" + caseId).setTraceId("0".repeat(32)).setService("shop")
                .setInstance("pod-1").setStartedAt(now).setCompletedAt(now).setRequest(request).setResponse(response)
                .setLatencyMicros(1500).setOutboundCalls(calls).setRedactions(List.of()).setSampling(null)
                .setSidecarVersion("test").build();
        String template = RouteTemplates.normalise(request.getPath());
        SignatureParts parts = SignatureParts.newBuilder().setMethod(request.getMethod()).setRouteTemplate(template)
                .setQueryNames(List.of()).setRequestContentType(null).setRequestShape("").setResponseStatus(response.getStatus())
                .setResponseShape("").setOutboundSignatures(List.of()).build();
        return Case.newBuilder().setCaseId(caseId).setSignatureId("sig-" + caseId).setSampleSlot(0)
                .setSignature(request.getMethod() + " " + template).setParts(parts).setService("shop").setSample(sample)
                .setHits(hits).setFirstSeen(now).setLastSeen(now).setSampledAt(now).setSignatureVersion(1).build();
    }

    /** A recorded {@code GET /items/{id}} of {@link ShopCandidate} v1, with its inventory call. */
    public static Case shopCase(int id, int stock, long hits) {
        String body = "{\"id\":" + id + ",\"name\":\"item-" + id + "\",\"price\":" + ShopCandidate.price(id)
                + ",\"stock\":" + stock + ",\"generatedAt\":12345}";
        OutboundCall inventory = call("inventory", "GET", "/stock/" + id, null, null, json(200, "{\"stock\":" + stock + "}"));
        return caseOf("item-" + id, request("GET", "shop:8080", "/items/" + id, null, null), json(200, body),
                List.of(inventory), hits);
    }

    /**
     * Binds {@code listener} with a backlog of 1 and connects to it, without accepting, until a connect times out: a
     * server too busy to accept (the kernel drops further SYNs, and the client retries a second later). Skips the
     * test on a system that does not hold connects at a full accept queue.
     */
    public static void fillAcceptQueue(java.net.ServerSocket listener, List<java.net.Socket> queued) throws java.io.IOException {
        listener.bind(new java.net.InetSocketAddress("127.0.0.1", 0), 1);
        while (queued.size() < 16) {
            java.net.Socket s = new java.net.Socket();
            try {
                s.connect(listener.getLocalSocketAddress(), 200);
                queued.add(s);
            } catch (java.net.SocketTimeoutException e) {
                s.close();
                return;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(false, "this system does not hold connects at a full accept queue");
    }
}
