package io.tapline.http;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A forward proxy's reading of {@code Max-Forwards} on a {@code TRACE} or {@code OPTIONS} (RFC 9110 7.6.2): the
 * sidecar's egress decrements it on an absolute-form request it forwards, and answers one that arrives with
 * {@code 0} itself, as the final recipient, without reaching a dependency (so it records no call). The replay mock,
 * which stands for the egress, answers that request as the egress does.
 */
public final class MaxForwards {

    public static final String HEADER = "Max-Forwards";
    /** What the egress forwards to an absolute-form target: any method, these and others alike. */
    public static final String ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";
    /** Lines a TRACE's echo leaves out (RFC 9110 9.3.8: a final recipient excludes fields likely to be sensitive). */
    private static final Set<String> NOT_ECHOED = Set.of("authorization", "proxy-authorization", "cookie");

    /** A final recipient's answer: 200 with these header lines and this body. */
    public record Answer(MultiMap headers, Buffer body) {
    }

    private MaxForwards() {
    }

    /**
     * The value of a TRACE's or OPTIONS's {@code Max-Forwards} lines: one line of digits (RFC 9110 7.6.2), else -1.
     * No line, several, or one that is not a number leaves the request as the app sent it: the RFC says nothing of an
     * invalid value, and the dependency reads the lines it gets as it would without the sidecar (squid drops them).
     * A number past the largest long counts as the largest long (the RFC lets a proxy cap the value at its own maximum).
     */
    public static long value(List<String> lines) {
        if (lines.size() != 1) {
            return -1;
        }
        String v = lines.get(0).trim();
        if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        String digits = v.replaceFirst("^0+(?=.)", "");
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    /** Whether {@code method} is one whose {@code Max-Forwards} a proxy reads: {@code TRACE} or {@code OPTIONS}. */
    public static boolean read(HttpMethod method) {
        return method == HttpMethod.TRACE || method == HttpMethod.OPTIONS;
    }

    /**
     * Whether a proxy answers {@code req} itself rather than forward it: a {@code TRACE} or {@code OPTIONS} with
     * {@code Max-Forwards: 0}. Only an absolute-form request (one to the proxy) is read so; a named route's is the
     * dependency's to read.
     */
    public static boolean answeredHere(HttpServerRequest req) {
        return read(req.method()) && value(req.headers().getAll(HEADER)) == 0;
    }

    /**
     * The answer of a final recipient (RFC 9110 7.6.2): OPTIONS gets {@code Allow}, the methods the egress forwards to
     * such a target, and no body; TRACE gets its request back as {@code message/http} (RFC 9110 9.3.8), without the
     * lines that carry credentials ({@code Authorization}, {@code Proxy-Authorization}, {@code Cookie}), as the RFC
     * asks of a final recipient.
     */
    public static Answer answer(HttpServerRequest req) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        if (req.method() == HttpMethod.OPTIONS) {
            headers.set("Allow", ALLOW);
            return new Answer(headers, Buffer.buffer());
        }
        StringBuilder echo = new StringBuilder().append(req.method().name()).append(' ').append(req.uri()).append(' ')
                .append(req.version() == HttpVersion.HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1").append("\r\n");
        for (Map.Entry<String, String> line : req.headers()) {
            if (!NOT_ECHOED.contains(line.getKey().toLowerCase(Locale.ROOT))) {
                echo.append(line.getKey()).append(": ").append(line.getValue()).append("\r\n");
            }
        }
        echo.append("\r\n");
        headers.set(HttpHeaders.CONTENT_TYPE, "message/http");
        // the head's bytes as they arrived (Vert.x reads them as ISO-8859-1)
        return new Answer(headers, Buffer.buffer(echo.toString().getBytes(StandardCharsets.ISO_8859_1)));
    }
}
