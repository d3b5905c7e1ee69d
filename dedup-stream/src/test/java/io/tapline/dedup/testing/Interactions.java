package io.tapline.dedup.testing;

import io.tapline.avro.CallKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds realistic {@link Interaction}s for tests and the benchmark. */
public final class Interactions {

    private String service = "petclinic";
    private String method = "GET";
    private String path = "/";
    private String query;
    private String requestType;
    private byte[] requestBody = new byte[0];
    private int status = 200;
    private String responseType = "application/json";
    private byte[] responseBody = "{}".getBytes(StandardCharsets.UTF_8);
    private final List<Header> responseHeaders = new ArrayList<>();
    private final List<Header> requestHeaders = new ArrayList<>();
    private final List<OutboundCall> calls = new ArrayList<>();
    private Instant at = Instant.parse("2026-01-01T00:00:00Z");

    public static Interactions get(String path) {
        return request("GET", path);
    }

    public static Interactions request(String method, String path) {
        Interactions b = new Interactions();
        b.method = method;
        b.path = path;
        return b;
    }

    public Interactions service(String value) {
        service = value;
        return this;
    }

    public Interactions query(String raw) {
        query = raw;
        return this;
    }

    public Interactions jsonRequest(String json) {
        requestType = "application/json";
        requestBody = json.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public Interactions status(int value) {
        status = value;
        return this;
    }

    public Interactions json(String json) {
        responseType = "application/json";
        responseBody = json.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public Interactions body(String contentType, byte[] body) {
        responseType = contentType;
        responseBody = body;
        return this;
    }

    public Interactions responseHeader(String name, String value) {
        responseHeaders.add(new Header(name, value));
        return this;
    }

    public Interactions call(String method, String destination, String path, int status) {
        return call(method, destination, path, null, "", status);
    }

    /** A dependency call whose request carries {@code body} as {@code contentType}. */
    public Interactions call(String method, String destination, String path, String contentType, String body, int status) {
        HttpRequest request = HttpRequest.newBuilder().setMethod(method).setScheme("http").setAuthority(destination)
                .setPath(path).setContentType(contentType)
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8))).build();
        HttpResponse response = HttpResponse.newBuilder().setStatus(status).build();
        calls.add(OutboundCall.newBuilder().setDestination(destination).setKind(CallKind.HTTP).setRequest(request)
                .setResponse(response).build());
        return this;
    }

    public Interactions requestHeader(String name, String value) {
        requestHeaders.add(new Header(name, value));
        return this;
    }

    public Interactions at(Instant value) {
        at = value;
        return this;
    }

    public Interaction build() {
        List<Header> sent = new ArrayList<>(requestHeaders);
        sent.add(new Header("traceparent", "00-" + UUID.randomUUID().toString().replace("-", "") + "-00f067aa0ba902b7-01"));
        HttpRequest request = HttpRequest.newBuilder()
                .setMethod(method).setScheme("http").setAuthority("app:8080").setPath(path).setRawQuery(query)
                .setHeaders(sent)
                .setBody(ByteBuffer.wrap(requestBody)).setContentType(requestType)
                .setOriginalSize(requestBody.length)
                .build();
        List<Header> headers = new ArrayList<>(responseHeaders);
        if (responseType != null) {
            headers.add(new Header("Content-Type", responseType));
        }
        HttpResponse response = HttpResponse.newBuilder()
                .setStatus(status).setHeaders(headers).setBody(ByteBuffer.wrap(responseBody))
                .setContentType(responseType).setOriginalSize(responseBody.length)
                .build();
        return Interaction.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setTraceId(UUID.randomUUID().toString().replace("-", ""))
                .setService(service).setInstance("pod-1")
                .setStartedAt(at).setCompletedAt(at.plusMillis(3))
                .setRequest(request).setResponse(response).setLatencyMicros(3000)
                .setOutboundCalls(new ArrayList<>(calls))
                .build();
    }
}
