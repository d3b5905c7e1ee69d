package io.tapline.replay.compare;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How responses are compared.
 *
 * @param ignoreArrayOrder  JSON arrays compared as multisets
 * @param numericTolerance  absolute tolerance for JSON numbers (0 = exact)
 * @param ignoredHeaders    header names (any case) never compared
 * @param compareHeaders    false compares status and body only
 * @param redacted          how values redacted at capture are judged: with the sidecar's key, or not at all
 */
public record CompareOptions(boolean ignoreArrayOrder, double numericTolerance, Set<String> ignoredHeaders,
                             boolean compareHeaders, RedactedValues redacted) {

    /**
     * Never compared: dates, server banners and tracing headers differ on every answer; hop-by-hop and framing
     * headers describe the connection, not the behaviour. Content-Length is implied by the body comparison.
     */
    public static final Set<String> DEFAULT_IGNORED_HEADERS = Set.of(
            "date", "server", "traceparent", "tracestate", "baggage", "x-b3-traceid", "x-b3-spanid",
            "x-b3-parentspanid", "x-b3-sampled", "b3", "content-length", "transfer-encoding", "connection",
            "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "via", "age", "expires", "last-modified", "etag");

    public CompareOptions {
        if (numericTolerance < 0) {
            throw new IllegalArgumentException("numeric tolerance must be >= 0, got " + numericTolerance);
        }
        ignoredHeaders = ignoredHeaders.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        redacted = redacted == null ? RedactedValues.UNKEYED : redacted;
    }

    /** Without a redaction key: redacted recorded values are not judged. */
    public CompareOptions(boolean ignoreArrayOrder, double numericTolerance, Set<String> ignoredHeaders,
                          boolean compareHeaders) {
        this(ignoreArrayOrder, numericTolerance, ignoredHeaders, compareHeaders, RedactedValues.UNKEYED);
    }

    public static CompareOptions defaults() {
        return new CompareOptions(false, 0.0, DEFAULT_IGNORED_HEADERS, true);
    }

    public boolean ignoresHeader(String name) {
        return ignoredHeaders.contains(name.toLowerCase(Locale.ROOT));
    }
}
