package io.tapline.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

import java.util.List;
import java.util.Locale;

/**
 * The RFC 9112 checks of a request head that decide whether the proxy may forward it, made before anything reaches
 * the upstream: how its body is framed ({@code Transfer-Encoding}, {@code Content-Length}), which host it names
 * ({@code Host}) and its request target ({@link #targetRefusal}). A proxy that forwards a head its upstream may read
 * differently invites request smuggling and host confusion, so each is refused with the status nginx gives; Netty's
 * decoder has already refused what does not parse at all. The sidecar's listeners make them, and the replay mock makes the same, so a head the sidecar's egress
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
     *       value ({@link #hostLine}): 400 (§3.2).</li>
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
        return hostLine(headers, hostLine) != null ? null : new Refusal(400, "invalid Host header");
    }

    /**
     * The {@code Host} line as an authority, or null when it is none the proxy forwards. It must be
     * {@code uri-host [ ":" port ]} as RFC 3986 spells it, not empty, and without {@code ..} (which nginx refuses too);
     * an IP literal must be an IPv6 address ({@link HttpUrl#ipLiteralProblem}: Vert.x reads {@code [zz::1]} and
     * {@code [v1.x]} as hosts). Vert.x's reading ({@code parsed}) is taken, but for an IPv6 literal with an IPv4 part
     * ({@code [::ffff:127.0.0.1]:8080}, RFC 3986's {@code ls32}), which it cannot read: that one is read here (its port
     * as Vert.x reads a port), so the app gets the {@code Host} the client sent and the record names it. A value no
     * one reads would otherwise reach the app as the app's own address, so it is refused rather than rewritten.
     * Stricter than nginx, which passes a non-ASCII name, {@code @}, {@code ?}, {@code #}, {@code \} or a port that
     * is not a number; the RFC makes each of them invalid. An empty port ({@code h:}, {@code [::1]:}) is read as no
     * port, the scheme's default (RFC 3986 6.2.3), where Vert.x reads port 0. Parses text only: nothing is looked up.
     *
     * @param parsed the {@code Host} line as Vert.x parsed it ({@code HttpServerRequest.authority()}); null when it
     *               could not (or there is none)
     */
    public static HostAndPort hostLine(MultiMap headers, HostAndPort parsed) {
        HostAndPort read;
        if (parsed != null) {
            String host = parsed.host();
            boolean valid = !host.isEmpty() && !host.contains("..")
                    && (host.charAt(0) != '[' || HttpUrl.ipLiteralProblem(host) == null);
            if (!valid) {
                return null;
            }
            if (parsed.port() != 0) {
                return parsed; // every request: the line is looked at again only when Vert.x read port 0 (below)
            }
            read = parsed;
        } else {
            String value = headers.get(HttpHeaders.HOST);
            int close = value == null || !value.startsWith("[") ? -1 : value.indexOf(']');
            if (close < 0 || HttpUrl.ipLiteralProblem(value.substring(0, close + 1)) != null) {
                return null;
            }
            // the port as Vert.x reads one after a literal it does read
            HostAndPort port = HostAndPort.parseAuthority("[::]" + value.substring(close + 1), -1);
            if (port == null) {
                return null;
            }
            read = HostAndPort.create(value.substring(0, close + 1), port.port());
        }
        // An empty port (h:, which RFC 3986 3.2.3 allows) is the scheme's default, as no port is (6.2.3). Vert.x reads
        // it as port 0: the app got Host: h:0 and the record named port 0.
        String value = headers.get(HttpHeaders.HOST);
        return value != null && value.endsWith(":") ? HostAndPort.create(read.host(), -1) : read;
    }

    /** The refusal of a request target in no form the request may take, or that holds a space or a control. */
    public static final Refusal INVALID_TARGET = new Refusal(400, "invalid request target");

    /**
     * The refusal of a request target ({@code HttpServerRequest.uri()}, one character per byte as the decoder read it)
     * that must not be forwarded, or null: {@link #INVALID_TARGET} (400, as nginx answers) for
     *
     * <ul>
     *   <li>a target in no form the request may take (RFC 9112 3.2): not the origin form ({@code /path}), not the
     *       absolute form ({@code http://host/path}), not {@code *} for {@code OPTIONS} ({@code GET x},
     *       {@code GET @evil/x}, {@code GET ?a=1}, {@code GET *}); forwarded, it reached the upstream as its target;</li>
     *   <li>an absolute-form target that does not read as an http URL ({@link HttpUrl#parseNaming}: user info, a
     *       port past 65535, an empty host, {@code ..}, an IP literal that is no IPv6 address, {@code [1::2::3]}): its
     *       authority replaces the Host line (RFC 9112 3.2.2), and one read as naming none handed the upstream the
     *       Host line's host instead of the one the target named. Port 0 is taken, as the Host line's is;</li>
     *   <li>a space or a control character (NUL to US, DEL), which no URI has (RFC 3986) and nginx refuses since
     *       1.21.1. Netty's decoder takes them as target bytes: forwarded, {@code /a\0b} is {@code /a} to an app
     *       written in C. Bytes above 0x7F are left to {@link RequestTarget}.</li>
     * </ul>
     *
     * A {@code CONNECT}'s authority form is the listener's to read (the sidecar's egress tunnels it); here it is in no
     * form. Made on every request: one pass over an origin-form target, and no allocation unless it is refused or in
     * absolute form (which is parsed).
     */
    public static Refusal targetRefusal(HttpMethod method, String target) {
        int n = target.length();
        if (n == 0) {
            return INVALID_TARGET;
        }
        if (target.charAt(0) != '/') {
            if (n == 1 && target.charAt(0) == '*') {
                return method == HttpMethod.OPTIONS ? null : INVALID_TARGET;
            }
            // HttpUrl.parseNaming refuses a space or a control character too
            return isAbsoluteForm(target) && absoluteUrl(target) != null ? null : INVALID_TARGET;
        }
        for (int i = 1; i < n; i++) {
            char c = target.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return INVALID_TARGET;
            }
        }
        return null;
    }

    /**
     * The authority a request names: the request-target's when it is in absolute form ({@code GET http://h/p}),
     * which a server must use instead of the {@code Host} line (RFC 9112 §3.2.2), else the {@code Host} line's. Null
     * when the target is in absolute form and does not read as an http URL: such a target names no authority the
     * {@code Host} line may stand in for (its head is refused, {@link #targetRefusal}); before, the {@code Host}
     * line's was given, another host than the one the target named.
     */
    public static HostAndPort authority(String requestTarget, HostAndPort fromHost) {
        if (requestTarget == null || !isAbsoluteForm(requestTarget)) {
            return fromHost;
        }
        HttpUrl u = absoluteUrl(requestTarget);
        return u == null ? null : HostAndPort.create(u.host(), u.portGiven() ? u.port() : -1);
    }

    /**
     * An absolute-form target read as an http URL whose authority stands for the {@code Host} line, or null when it
     * does not read as one. Port 0 is taken ({@link HttpUrl#parseNaming}), as the {@code Host} line's is: the sidecar's
     * inbound listener forwarded {@code Host: h:0} and refused {@code GET http://h:0/p} 400. A forward proxy, which
     * connects to the target's authority, reads it with {@link HttpUrl#parse} before (the sidecar's egress listener,
     * the replay mock): port 0 is refused there, with nothing to connect to.
     */
    private static HttpUrl absoluteUrl(String target) {
        try {
            return HttpUrl.parseNaming(target);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean isAbsoluteForm(String target) {
        return target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8);
    }
}
