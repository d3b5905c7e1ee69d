package io.tapline.sidecar.impl;

import io.tapline.avro.Header;
import io.vertx.core.MultiMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the event loop keeps of one HTTP message: head fields, headers in wire order and a capped body copy.
 * Conversion to Avro, decoding and redaction happen later, off the event loop.
 */
public final class CapturedMessage {

    public final String method;
    public final String scheme;
    public final String authority;
    public final String path;
    public final String rawQuery;
    public final int status;
    public final List<Header> headers;
    /** The body copy only: a message waiting for publication must not keep the stream it came from. */
    public final CapturedBody body;
    /** What {@link #chargeHead} took from a budget, given back by {@link #releaseHead}. */
    private CaptureBudget headBudget;
    private long headCharged;
    /** {@link #headBytes()}, once computed (-1 before). */
    private long headBytes = -1;

    private CapturedMessage(String method, String scheme, String authority, String path, String rawQuery, int status,
                            List<Header> headers, CapturedBody body) {
        this.method = method;
        this.scheme = scheme;
        this.authority = authority;
        this.path = path;
        this.rawQuery = rawQuery;
        this.status = status;
        this.headers = headers;
        this.body = body;
    }

    public static CapturedMessage request(String method, String scheme, String authority, String path, String rawQuery,
                                          List<Header> headers, BodyTap body) {
        return new CapturedMessage(method, scheme, authority, path, rawQuery, 0, headers, body.copy());
    }

    public static CapturedMessage response(int status, List<Header> headers, BodyTap body) {
        return new CapturedMessage(null, null, null, null, null, status, headers, body.copy());
    }

    public static List<Header> headers(MultiMap headers) {
        return headers(headers, null);
    }

    /** The header lines in wire order, without those named {@code left} (any case); all of them when null. */
    public static List<Header> headers(MultiMap headers, String left) {
        List<Header> out = new ArrayList<>(headers.size());
        for (Map.Entry<String, String> e : headers) {
            if (left == null || !e.getKey().equalsIgnoreCase(left)) {
                out.add(new Header(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    public String header(String name) {
        for (Header h : headers) {
            if (h.getName().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    /**
     * Pays for this message's head (header fields, target) from the capture budget, as its body copy pays for its
     * bytes: an interaction may hold hundreds of outbound calls with up to 64 KiB of headers each. Once per message,
     * on the event loop that finishes it, before the capture is handed on.
     *
     * @return false (nothing taken) when the budget cannot pay: the capture must then be dropped
     */
    boolean chargeHead(CaptureBudget budget) {
        if (headBudget != null) {
            return true;
        }
        long n = headBytes();
        if (!budget.tryReserve(n)) {
            return false;
        }
        headBudget = budget;
        headCharged = n;
        return true;
    }

    /** Gives back what {@link #chargeHead} took (idempotent). */
    void releaseHead() {
        if (headBudget != null && headCharged > 0) {
            headBudget.release(headCharged);
            headCharged = 0;
        }
    }

    /** Rough heap size, used to account for captures in the byte-bounded queue. */
    public long estimatedBytes() {
        return headBytes() + body.capturedLength();
    }

    /** Rough heap size of the head (header fields, target), computed once: the head does not change. */
    private long headBytes() {
        if (headBytes < 0) {
            long n = 64;
            for (Header h : headers) {
                n += 32 + h.getName().length() + h.getValue().length();
            }
            if (path != null) {
                n += path.length() + (rawQuery == null ? 0 : rawQuery.length()) + (authority == null ? 0 : authority.length());
            }
            headBytes = n;
        }
        return headBytes;
    }
}
