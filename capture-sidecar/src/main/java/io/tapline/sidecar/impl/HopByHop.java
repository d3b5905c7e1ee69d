package io.tapline.sidecar.impl;

import io.tapline.http.HeaderTokens;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Hop-by-hop header handling per RFC 9110 §7.6.1: these apply to one connection and are never forwarded. */
public final class HopByHop {

    /** Always hop-by-hop (plus Proxy-Connection, which some clients still send). */
    static final Set<String> ALWAYS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authenticate", "proxy-authorization");

    private HopByHop() {
    }

    /**
     * Copies end-to-end headers: drops the fixed set and any header named in {@code Connection}, except
     * {@code Content-Length}: it frames the message, and a message without it (and without chunking) would arrive
     * unframed, its body lost. ({@code Connection: content-length} is a known way to desynchronise proxies.)
     */
    public static void copyEndToEnd(MultiMap from, MultiMap to) {
        copy(from, to, false, false, null);
    }

    /**
     * End-to-end headers the inbound listener keeps when the client names them in {@code Connection}: the forwarded
     * headers an ingress in front set (the sidecar appends to or keeps them), and the trace context the sidecar records
     * the exchange under and the app's calls are attributed by. Dropping them is the hop-by-hop header abuse of
     * Traefik's CVE-2024-45410: an ingress's {@code X-Forwarded-Proto: https} replaced by the sidecar's {@code http},
     * the client's address it wrote gone from {@code X-Forwarded-For}.
     */
    static final Set<String> MANAGED = Set.of(
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "traceparent", "tracestate");

    /**
     * {@link #copyEndToEnd(MultiMap, MultiMap)} for a request head. With {@code keepManaged} (the inbound listener's
     * request heads) the {@link #MANAGED} headers are copied even when {@code Connection} names them, in their place
     * and spelled as the client sent them. Its {@code Host} line is copied whatever the client's {@code Connection}
     * names (it is the request's, RFC 9112 3.2), in the client's spelling and place, with the value {@code host} when
     * that is not null (else as sent); when {@code from} has no {@code Host} line, one spelled {@code host} is added
     * last with that value.
     */
    static void copyEndToEnd(MultiMap from, MultiMap to, boolean keepManaged, String host) {
        copy(from, to, keepManaged, true, host);
    }

    /** @param request {@code from} is a request head, whose {@code Host} line no {@code Connection} takes away */
    private static void copy(MultiMap from, MultiMap to, boolean keepManaged, boolean request, String host) {
        // Hot path (every request and response): no lower-casing or set per header; Connection is usually absent.
        Set<String> named = Set.of();
        if (from.contains(HttpHeaders.CONNECTION)) {
            named = tokens(from, "connection");
            named.remove("content-length");
            if (request) {
                named.remove("host");
            }
            if (keepManaged) {
                named.removeAll(MANAGED);
            }
        }
        boolean hostCopied = false;
        for (Map.Entry<String, String> e : from) {
            String name = e.getKey();
            if (!always(name) && (named.isEmpty() || !named.contains(name.toLowerCase(Locale.ROOT)))) {
                if (host != null && name.length() == 4 && name.equalsIgnoreCase("host")) {
                    to.add(name, host);
                    hostCopied = true;
                } else {
                    to.add(name, e.getValue());
                }
            }
        }
        if (host != null && !hostCopied) {
            to.add(HttpHeaders.HOST, host);
        }
    }

    /** Case-insensitive membership in {@link #ALWAYS} without allocating (dispatch on length first). */
    static boolean always(String name) {
        switch (name.length()) {
            case 2:
                return name.equalsIgnoreCase("te");
            case 7:
                return name.equalsIgnoreCase("trailer") || name.equalsIgnoreCase("upgrade");
            case 10:
                return name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
            case 16:
                return name.equalsIgnoreCase("proxy-connection");
            case 17:
                return name.equalsIgnoreCase("transfer-encoding");
            case 18:
                return name.equalsIgnoreCase("proxy-authenticate");
            case 19:
                return name.equalsIgnoreCase("proxy-authorization");
            default:
                return false;
        }
    }

    /**
     * The client's options for its connection to this hop: the tokens of {@code Connection}; for a request to a
     * forward proxy ({@code proxyConnection}) that sent no {@code Connection}, those of {@code Proxy-Connection},
     * which clients configured with a proxy send it instead (squid reads it so).
     */
    static Set<String> connectionOptions(MultiMap headers, boolean proxyConnection) {
        if (headers.contains(HttpHeaders.CONNECTION)) {
            return tokens(headers, "connection");
        }
        return proxyConnection && headers.contains("Proxy-Connection") ? tokens(headers, "proxy-connection") : Set.of();
    }

    /**
     * Whether the client's request is its last on the connection (RFC 9112 9.3, 9.6): {@code close} among its
     * options, or HTTP/1.0 without {@code keep-alive} among them. Vert.x reads it so too: {@code Http10KeepAlive}
     * shows it an HTTP/1.0 head's options as one line it reads.
     */
    static boolean lastRequest(HttpVersion version, Set<String> connectionOptions) {
        return connectionOptions.contains("close")
                || version == HttpVersion.HTTP_1_0 && !connectionOptions.contains("keep-alive");
    }

    /** The comma-separated tokens of every {@code name} header, lower-cased ({@code Connection}, {@code TE}). */
    static Set<String> tokens(MultiMap headers, String name) {
        return HeaderTokens.lowerCase(headers.getAll(name));
    }
}
