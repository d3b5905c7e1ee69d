package io.tapline.replay.mock;

import java.util.Objects;

/**
 * An outbound call the candidate made to the mock server, as far as matching needs it.
 *
 * @param method      request method, upper case
 * @param destination egress route name (named route) or host:port (forward proxy)
 * @param path        path without the query
 * @param rawQuery    query string without '?', null when absent
 * @param body        request body bytes (empty when none)
 * @param traceId     the W3C trace id of its {@code traceparent}, null when the candidate did not propagate one
 */
public record MockRequest(String method, String destination, String path, String rawQuery, byte[] body, String traceId) {

    public MockRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(path, "path");
        body = body == null ? new byte[0] : body;
    }

    /** How the call is named in differences: {@code call:GET inventory /items/42?x=1}. */
    public String describe() {
        return "call:" + method + " " + destination + " " + path + (rawQuery == null || rawQuery.isEmpty() ? "" : "?" + rawQuery);
    }
}
