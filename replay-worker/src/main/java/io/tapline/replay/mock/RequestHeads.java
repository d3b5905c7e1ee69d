package io.tapline.replay.mock;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

import java.util.List;
import java.util.Locale;

/**
 * The checks of a request head the sidecar makes before it forwards a request (its {@code RequestHead}): how its body
 * is framed ({@code Transfer-Encoding}) and which host it names ({@code Host}). A head the sidecar's egress refuses
 * never reached a dependency in production, so the mock refuses it with the same status rather than answer it from a
 * recording: a candidate that sends one fails in replay as it would in production. What Netty's decoder refuses (a
 * header name with a space or an invalid character, {@code Content-Length} twice or with {@code Transfer-Encoding},
 * a {@code Transfer-Encoding} whose final coding is not {@code chunked}) it refuses under both before either reads it.
 */
final class RequestHeads {

    /** Why a head is refused, and with which status. */
    record Refusal(int status, String reason) {
    }

    private RequestHeads() {
    }

    /**
     * The refusal of a head the sidecar would not forward, or null.
     *
     * <ul>
     *   <li>{@code Transfer-Encoding} with {@code Content-Length}: 400;</li>
     *   <li>{@code Transfer-Encoding} whose final coding is not {@code chunked}, or that applies {@code chunked} more
     *       than once, over all its field lines: 400;</li>
     *   <li>another transfer coding before {@code chunked} ({@code gzip, chunked}): 501;</li>
     *   <li>an HTTP/1.1 request without {@code Host}, more than one {@code Host} line, or a {@code Host} value that is
     *       not {@code uri-host [ ":" port ]} (Vert.x cannot parse it), is empty or holds {@code ..}: 400.</li>
     * </ul>
     *
     * @param hostLine the {@code Host} line as Vert.x parsed it ({@code HttpServerRequest.authority()})
     */
    static Refusal check(MultiMap headers, HttpVersion version, HostAndPort hostLine) {
        Refusal framing = framing(headers);
        return framing != null ? framing : host(headers, version, hostLine);
    }

    private static Refusal framing(MultiMap headers) {
        if (!headers.contains(HttpHeaders.TRANSFER_ENCODING)) {
            return null;
        }
        if (headers.contains(HttpHeaders.CONTENT_LENGTH)) {
            return new Refusal(400, "Transfer-Encoding and Content-Length together");
        }
        int chunked = 0;
        String last = null;
        String other = null;
        for (String line : headers.getAll(HttpHeaders.TRANSFER_ENCODING)) {
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

    private static Refusal host(MultiMap headers, HttpVersion version, HostAndPort hostLine) {
        List<String> lines = headers.getAll(HttpHeaders.HOST);
        if (lines.size() > 1) {
            return new Refusal(400, "more than one Host header");
        }
        if (lines.isEmpty()) {
            return version == HttpVersion.HTTP_1_0 ? null : new Refusal(400, "HTTP/1.1 request without Host");
        }
        return hostLine != null && !hostLine.host().isEmpty() && !hostLine.host().contains("..") ? null
                : new Refusal(400, "invalid Host header");
    }
}
