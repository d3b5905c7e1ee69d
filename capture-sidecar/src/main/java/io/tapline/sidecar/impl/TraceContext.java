package io.tapline.sidecar.impl;

import io.vertx.core.MultiMap;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C Trace Context {@code traceparent} (version 00): {@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}.
 * Parsing is strict (https://www.w3.org/TR/trace-context/#traceparent-header): all-zero ids, version ff and upper-case
 * hex are invalid. Upper case is refused as OpenTelemetry refuses it: a context the sidecar kept but the app's tracer
 * dropped would give the app's outbound calls a new trace id, which no inbound request carries.
 */
public record TraceContext(String traceId, String parentId, String flags) {

    public static final String HEADER = "traceparent";
    /** Vendor state that belongs to the traceparent beside it: without a valid one it is discarded (W3C processing model). */
    public static final String STATE_HEADER = "tracestate";
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);

    /**
     * The context a request's head carries: null when it has no traceparent, an invalid one, or more than one line of
     * it. Two lines are invalid as W3C's test suite reads them (the trace is restarted): a server that joins them into
     * one value ({@code a,b}, as Node.js and WSGI servers give them to the app) makes no valid traceparent of them,
     * so the app's tracer would start a trace of its own.
     */
    public static TraceContext of(MultiMap headers) {
        String value = headers.get(HEADER);
        if (value == null || headers.getAll(HEADER).size() > 1) {
            return null;
        }
        return parse(value);
    }

    /** Parses a traceparent header value; returns null when absent or invalid. */
    public static TraceContext parse(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        // version 00 is exactly 55 chars; future versions may append "-..." fields, which we accept and ignore.
        if (v.length() < 55 || (v.length() > 55 && v.charAt(55) != '-')) {
            return null;
        }
        if (v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') {
            return null;
        }
        String version = v.substring(0, 2);
        String traceId = v.substring(3, 35);
        String parentId = v.substring(36, 52);
        String flags = v.substring(53, 55);
        if (!isHex(version) || "ff".equals(version) || ("00".equals(version) && v.length() != 55)) {
            return null;
        }
        if (!isHex(traceId) || !isHex(parentId) || !isHex(flags) || ZERO_TRACE.equals(traceId) || ZERO_SPAN.equals(parentId)) {
            return null;
        }
        return new TraceContext(traceId, parentId, flags);
    }

    /** A new root context with random ids and the sampled flag set. */
    public static TraceContext generate() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String trace;
        do {
            trace = hex(r.nextLong(), 16) + hex(r.nextLong(), 16);
        } while (ZERO_TRACE.equals(trace));
        String span;
        do {
            span = hex(r.nextLong(), 16);
        } while (ZERO_SPAN.equals(span));
        return new TraceContext(trace, span, "01");
    }

    public String header() {
        return "00-" + traceId + "-" + parentId + "-" + flags;
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static String hex(long v, int width) {
        String s = Long.toHexString(v);
        return "0".repeat(width - s.length()) + s;
    }
}
