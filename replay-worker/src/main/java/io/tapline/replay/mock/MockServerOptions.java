package io.tapline.replay.mock;

import io.tapline.http.HttpUrl;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Settings of the dependency mock server.
 *
 * @param host            listen address
 * @param port            listen port, 0 for an ephemeral one
 * @param routes          named routes (the sidecar's {@code --egress name=url}): a call to {@code /name/rest} is
 *                        dependency {@code name}, request {@link HttpUrl#basePath base path} + {@code /rest}, as the sidecar
 *                        forwards (and records) it; the URL's host is used only when {@code --allow-live} names it
 * @param allowLive       hosts whose calls are forwarded to the real dependency
 * @param unmatchedStatus status answered to a call no recorded call matches, a final one (200..599)
 * @param maxBodyBytes    largest request body accepted from the candidate (413 above)
 * @param liveTimeout     how long a live call ({@code --allow-live}) may take, from its start to its whole answer
 *                        (the run's request timeout: past it, the case the call belongs to was given up)
 * @param maxHeaderBytes  longest request line (414 above) and largest request head (431 above) accepted from the
 *                        candidate, as the sidecar's {@code --proxy-max-header-bytes} limits them
 */
public record MockServerOptions(String host, int port, Map<String, HttpUrl> routes, Set<String> allowLive,
                                int unmatchedStatus, int maxBodyBytes, Duration liveTimeout, int maxHeaderBytes) {

    public static final int DEFAULT_UNMATCHED_STATUS = 502;
    public static final int DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
    /** The default {@code --request-timeout}. */
    public static final Duration DEFAULT_LIVE_TIMEOUT = Duration.ofSeconds(30);
    /** The sidecar's default {@code --proxy-max-header-bytes}. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

    public MockServerOptions(String host, int port, Map<String, HttpUrl> routes, Set<String> allowLive,
                             int unmatchedStatus, int maxBodyBytes) {
        this(host, port, routes, allowLive, unmatchedStatus, maxBodyBytes, DEFAULT_LIVE_TIMEOUT);
    }

    public MockServerOptions(String host, int port, Map<String, HttpUrl> routes, Set<String> allowLive,
                             int unmatchedStatus, int maxBodyBytes, Duration liveTimeout) {
        this(host, port, routes, allowLive, unmatchedStatus, maxBodyBytes, liveTimeout, DEFAULT_MAX_HEADER_BYTES);
    }

    public MockServerOptions {
        routes = Map.copyOf(routes);
        allowLive = allowLive.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        // a 1xx is not a final answer: the candidate's client would wait for the one that never comes
        if (unmatchedStatus < 200 || unmatchedStatus > 599) {
            throw new IllegalArgumentException("unmatched status must be a final HTTP status 200..599, got " + unmatchedStatus);
        }
        if (liveTimeout.isNegative() || liveTimeout.isZero()) {
            throw new IllegalArgumentException("the live call timeout must be positive, got " + liveTimeout);
        }
        if (maxHeaderBytes < 1) {
            throw new IllegalArgumentException("the largest request head must be at least 1 byte, got " + maxHeaderBytes);
        }
    }

    /** What a route name may hold: what the sidecar's {@code --egress} takes. */
    static final String ROUTE_NAME = "[A-Za-z0-9._-]+";

    /**
     * Parses {@code name=url} route definitions as the sidecar's {@code --egress} takes them: a name of letters, digits,
     * {@code . _ -}, an {@code http://} URL without user info or query.
     */
    public static Map<String, HttpUrl> parseRoutes(Iterable<String> definitions) {
        Map<String, HttpUrl> out = new java.util.LinkedHashMap<>();
        for (String def : definitions) {
            int eq = def.indexOf('=');
            String name = eq < 0 ? def.trim() : def.substring(0, eq).trim();
            if (name.isEmpty() || name.contains("/")) {
                throw new IllegalArgumentException("mock route '" + HttpUrl.shown(def) + "': expected name=url, e.g. inventory=http://inventory:8080");
            }
            if (!name.matches(ROUTE_NAME)) {
                // the sidecar's --egress refuses such a name: no call was recorded under it, and none is matched by it
                throw new IllegalArgumentException("mock route '" + HttpUrl.shown(def) + "': route name '" + name
                        + "' may use letters, digits, '.', '_' and '-' only, as the sidecar's --egress names");
            }
            String url = eq < 0 ? "http://" + name : def.substring(eq + 1).trim();
            HttpUrl parsed;
            try {
                parsed = HttpUrl.parse(url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mock route '" + HttpUrl.shown(def) + "': url must be http://host[:port][/base]: " + e.getMessage(), e);
            }
            if (!parsed.scheme().equals("http")) {
                throw new IllegalArgumentException("mock route '" + HttpUrl.shown(def) + "': url must be http://host[:port][/base]");
            }
            String refusal = parsed.baseUrlRefusal("a base URL");
            if (refusal != null) {
                // what the sidecar's --egress refuses, as --target is refused: a query or fragment (dropped unsaid), an
                // '@' in the path (the end of a password written with an unencoded '/', not quoted), characters that
                // are not printable ASCII, a broken percent-escape, a host no resolver looks up
                throw new IllegalArgumentException("mock route '" + HttpUrl.shown(def) + "': url " + refusal
                        + "; give http://host[:port][/base], as the sidecar's --egress takes it");
            }
            out.put(name, parsed);
        }
        return out;
    }

    public boolean liveAllowed(String host) {
        return host != null && allowLive.contains(host.toLowerCase(Locale.ROOT));
    }
}
