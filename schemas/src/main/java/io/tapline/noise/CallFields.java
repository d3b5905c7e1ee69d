package io.tapline.noise;

import io.tapline.signature.RouteTemplates;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * How learned noise names a field of the request body an app sends a dependency, so that the dedup stream, which
 * learns it, and the replay worker, which applies it, agree: {@code call:POST payments /charges/{id} $.idempotencyKey}.
 * That is {@code call:}, the call's method (upper case), its destination (lower case: a named route, or
 * {@code host:port}), its path as a {@link RouteTemplates#normalise route template}, a space, and the path of the
 * field in the body: a JSON path with {@code [*]} for array indexes ({@code $.items[*].sku}), {@code form:NAME} for a
 * field of a form body, or {@code body} for any other body as a whole; or a request header,
 * {@code header:<lower-case name>} ({@code call:POST payments /charges header:idempotency-key}).
 */
public final class CallFields {

    public static final String PREFIX = "call:";

    /** The field path of a request header. */
    public static final String HEADER = "header:";

    /** Trace context headers (W3C and B3), new on every request. */
    public static final Set<String> TRACE_HEADERS = Set.of("traceparent", "tracestate", "baggage", "b3",
            "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags");

    /**
     * Request headers of a dependency call that are never compared: they name the connection, the proxy or the client
     * rather than what is asked ({@code Host} is the sidecar's or the mock's address, {@code User-Agent} the client's
     * version), frame or encode the body (compared itself, decoded), or carry a trace (new on every request).
     */
    public static final Set<String> UNCOMPARED_HEADERS = union(Set.of(
            "host", "user-agent", "accept-encoding", "content-length", "content-encoding", "transfer-encoding",
            "connection", "keep-alive",
            "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade", "expect", "via", "forwarded",
            "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "date"), TRACE_HEADERS);

    /** A learned field of a dependency request, split into the call it belongs to and its path in the request. */
    public record CallField(String call, String fieldPath) {
    }

    private CallFields() {
    }

    /** Both sets in one (unmodifiable). */
    public static Set<String> union(Set<String> a, Set<String> b) {
        return Stream.concat(a.stream(), b.stream()).collect(Collectors.toUnmodifiableSet());
    }

    /** The call part of the field names: {@code call:POST payments /charges/{id}}. */
    public static String call(String method, String destination, String path) {
        return PREFIX + method.toUpperCase(Locale.ROOT) + " " + destination.toLowerCase(Locale.ROOT) + " "
                + RouteTemplates.normalise(path);
    }

    /** The name of the field at {@code fieldPath} ({@code $.key}, {@code form:key}, {@code body}, {@code header:key}). */
    public static String field(String call, String fieldPath) {
        return call + " " + fieldPath;
    }

    /**
     * The call and body path of a field {@link #field} named; null for any other field ({@code $.id},
     * {@code header:date}). Method, destination and template hold no space, the field path may.
     */
    public static CallField parse(String field) {
        if (!field.startsWith(PREFIX)) {
            return null;
        }
        int space = -1;
        for (int i = 0; i < 3; i++) {
            space = field.indexOf(' ', space + 1);
            if (space < 0) {
                return null;
            }
        }
        String fieldPath = field.substring(space + 1);
        return fieldPath.isEmpty() ? null : new CallField(field.substring(0, space), fieldPath);
    }
}
