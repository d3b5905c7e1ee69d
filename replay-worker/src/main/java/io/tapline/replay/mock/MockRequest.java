package io.tapline.replay.mock;

import io.tapline.avro.Header;

import java.util.List;
import java.util.Objects;

/**
 * An outbound call the candidate made to the mock server, as far as matching needs it.
 *
 * @param method      request method, upper case
 * @param destination egress route name (named route) or host:port (forward proxy)
 * @param path        path without the query, as the dependency receives it: for a named route, its base path followed
 *                    by what follows the route name ({@code /api/v1/charges} for {@code /payments/v1/charges} on
 *                    {@code --mock-route payments=http://pay:8080/api}), as the sidecar forwards and records it
 * @param rawQuery    query string without '?', null when absent
 * @param body        request body bytes (empty when none)
 * @param traceId     the W3C trace id of its {@code traceparent}, null when the candidate did not propagate one
 * @param routeBase   the base path of the named route the call came through ({@code /api}), which {@code path} starts
 *                    with; empty for a route to its host's root and for a forward-proxied call
 * @param contentType     the request's {@code Content-Type}, null when absent
 * @param contentEncoding the request's {@code Content-Encoding}, null when absent
 * @param headers         the request's headers as the candidate sent them
 */
public record MockRequest(String method, String destination, String path, String rawQuery, byte[] body, String traceId,
                          String routeBase, String contentType, String contentEncoding, List<Header> headers) {

    public MockRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(path, "path");
        body = body == null ? new byte[0] : body;
        routeBase = routeBase == null ? "" : routeBase;
        headers = headers == null ? List.of() : List.copyOf(headers);
        if (!path.startsWith(routeBase)) {
            throw new IllegalArgumentException("path " + path + " does not start with its route's base path " + routeBase);
        }
    }

    /** A call with no headers but those two. */
    public MockRequest(String method, String destination, String path, String rawQuery, byte[] body, String traceId,
                       String routeBase, String contentType, String contentEncoding) {
        this(method, destination, path, rawQuery, body, traceId, routeBase, contentType, contentEncoding, List.of());
    }

    /** A call without headers. */
    public MockRequest(String method, String destination, String path, String rawQuery, byte[] body, String traceId,
                       String routeBase) {
        this(method, destination, path, rawQuery, body, traceId, routeBase, null, null);
    }

    /** A forward-proxied call, or a named-route call whose route has no base path. */
    public MockRequest(String method, String destination, String path, String rawQuery, byte[] body, String traceId) {
        this(method, destination, path, rawQuery, body, traceId, "");
    }

    /** How the call is named in differences: {@code call:GET inventory /items/42?x=1}. */
    public String describe() {
        return "call:" + method + " " + destination + " " + path + (rawQuery == null || rawQuery.isEmpty() ? "" : "?" + rawQuery);
    }
}
