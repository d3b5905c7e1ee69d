package io.tapline.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

import java.util.List;
import java.util.Locale;

/**
 * The RFC 9112 checks of a request head that decide whether the proxy may forward it, made before anything reaches
 * the upstream: how its body is framed ({@code Transfer-Encoding}, {@code Content-Length}) and which host it names
 * ({@code Host}). A proxy that forwards a head its upstream may read differently invites request smuggling and
 * host confusion, so each is refused with the status nginx gives; Netty's decoder has already refused what does not
 * parse at all. The sidecar's listeners make them, and the replay mock makes the same, so a head the sidecar's egress
 * refused in production is refused in replay too.
 */
public final class RequestHead {

    /** Why a head is refused, and with which status. */
    public record Refusal(int status, String reason) {
    }

    private RequestHead() {
    }

    /**
     * The refusal of a head that must not be forwarded, or null.
     *
     * <ul>
     *   <li>a field with an empty name ({@code : v}, which Netty's decoder takes; RFC 9110 §5.1: a name is a token):
     *       400, as nginx answers;</li>
     *   <li>{@code Transfer-Encoding} with {@code Content-Length}: 400 (RFC 9112 §6.1, a smuggling vector);</li>
     *   <li>{@code Transfer-Encoding} whose final coding is not {@code chunked}, or that applies {@code chunked} more
     *       than once, over all its field lines: 400 (§6.3: the body's length cannot be determined);</li>
     *   <li>another transfer coding before {@code chunked} ({@code gzip, chunked}): 501 (§6.1), since the proxy
     *       would otherwise pass the coded bytes on as if they were the body;</li>
     *   <li>an HTTP/1.1 request without {@code Host}, more than one {@code Host} line, or an invalid {@code Host}
     *       value ({@link #validHost}): 400 (§3.2).</li>
     * </ul>
     *
     * @param hostLine the {@code Host} line as Vert.x parsed it ({@code HttpServerRequest.authority()})
     */
    public static Refusal check(MultiMap headers, HttpVersion version, HostAndPort hostLine) {
        if (headers.contains("")) {
            return new Refusal(400, "header field without a name");
        }
        Refusal framing = framing(headers);
        return framing != null ? framing : host(headers, version, hostLine);
    }

    private static Refusal framing(MultiMap headers) {
        if (!headers.contains(HttpHeaders.TRANSFER_ENCODING)) {
            return null;
        }
        List<String> lines = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
        if (headers.contains(HttpHeaders.CONTENT_LENGTH)) {
            return new Refusal(400, "Transfer-Encoding and Content-Length together");
        }
        int chunked = 0;
        String last = null;
        String other = null;
        for (String line : lines) {
            for (String element : line.split(",", -1)) {
                String coding = element.trim().toLowerCase(Locale.ROOT);
                if (coding.isEmpty()) {
                    continue; // an empty list element (RFC 9110 5.6.1)
                }
                if (coding.equals("chunked")) {
                    chunked++;
                } else if (other == null) {
                    other = coding;
                }
                last = coding;
            }
        }
        if (!"chunked".equals(last)) {
            return new Refusal(400, "Transfer-Encoding without chunked as the final coding");
        }
        if (chunked > 1) {
            return new Refusal(400, "Transfer-Encoding applies chunked more than once");
        }
        if (other != null) {
            return new Refusal(501, "Transfer-Encoding " + other + " is not implemented");
        }
        return null;
    }

    /** @param hostLine the {@code Host} line as Vert.x parsed it ({@code HttpServerRequest.authority()}, cached there) */
    private static Refusal host(MultiMap headers, HttpVersion version, HostAndPort hostLine) {
        List<String> lines = headers.getAll(HttpHeaders.HOST);
        if (lines.size() > 1) {
            return new Refusal(400, "more than one Host header");
        }
        if (lines.isEmpty()) {
            return version == HttpVersion.HTTP_1_0 ? null : new Refusal(400, "HTTP/1.1 request without Host");
        }
        return validHost(hostLine) ? null : new Refusal(400, "invalid Host header");
    }

    /**
     * Whether a {@code Host} value is one the proxy forwards: {@code uri-host [ ":" port ]} as RFC 3986 spells it
     * (Vert.x parsed it as an authority: {@code parsed} is not null), not empty, and without {@code ..} (which nginx refuses too). A value
     * Vert.x cannot parse would otherwise reach the app as the app's own address, so it is refused rather than
     * rewritten. Stricter than nginx, which passes a non-ASCII name, {@code @}, {@code ?}, {@code #}, {@code \} or a
     * port that is not a number; the RFC makes each of them invalid.
     */
    private static boolean validHost(HostAndPort parsed) {
        return parsed != null && !parsed.host().isEmpty() && !parsed.host().contains("..");
    }

    /**
     * The authority a request names: the request-target's when it is in absolute form ({@code GET http://h/p}),
     * which a server must use instead of the {@code Host} line (RFC 9112 §3.2.2), else the {@code Host} line's.
     */
    public static HostAndPort authority(String requestTarget, HostAndPort fromHost) {
        if (requestTarget == null || !isAbsoluteForm(requestTarget)) {
            return fromHost;
        }
        try {
            HttpUrl u = HttpUrl.parse(requestTarget);
            return HostAndPort.create(u.host(), u.portGiven() ? u.port() : -1);
        } catch (IllegalArgumentException e) {
            return fromHost;
        }
    }

    private static boolean isAbsoluteForm(String target) {
        return target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8);
    }
}
