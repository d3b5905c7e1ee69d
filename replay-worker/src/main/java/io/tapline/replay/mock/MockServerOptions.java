package io.tapline.replay.mock;

import java.net.URI;
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
 *                        dependency {@code name}, request {@link #basePath base path} + {@code /rest}, as the sidecar
 *                        forwards (and records) it; the URL's host is used only when {@code --allow-live} names it
 * @param allowLive       hosts whose calls are forwarded to the real dependency
 * @param unmatchedStatus status answered to a call no recorded call matches
 * @param maxBodyBytes    largest request body accepted from the candidate (413 above)
 */
public record MockServerOptions(String host, int port, Map<String, URI> routes, Set<String> allowLive,
                                int unmatchedStatus, int maxBodyBytes) {

    public static final int DEFAULT_UNMATCHED_STATUS = 502;
    public static final int DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

    public MockServerOptions {
        routes = Map.copyOf(routes);
        allowLive = allowLive.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        if (unmatchedStatus < 100 || unmatchedStatus > 599) {
            throw new IllegalArgumentException("unmatched status must be an HTTP status 100..599, got " + unmatchedStatus);
        }
    }

    /** Parses {@code name=url} route definitions. */
    public static Map<String, URI> parseRoutes(Iterable<String> definitions) {
        Map<String, URI> out = new java.util.LinkedHashMap<>();
        for (String def : definitions) {
            int eq = def.indexOf('=');
            String name = eq < 0 ? def.trim() : def.substring(0, eq).trim();
            if (name.isEmpty() || name.contains("/")) {
                throw new IllegalArgumentException("mock route '" + def + "': expected name=url, e.g. inventory=http://inventory:8080");
            }
            URI url = null;
            if (eq >= 0) {
                try {
                    url = URI.create(def.substring(eq + 1).trim());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("mock route '" + def + "': bad url: " + e.getMessage(), e);
                }
                if (url.getHost() == null || !"http".equalsIgnoreCase(url.getScheme())) {
                    throw new IllegalArgumentException("mock route '" + def + "': url must be http://host[:port]");
                }
            }
            out.put(name, url == null ? URI.create("http://" + name) : url);
        }
        return out;
    }

    /**
     * The path a named route puts in front of what follows its name, as the sidecar's {@code --egress} does: the URL's
     * raw path without one trailing '/' ({@code ""} for {@code http://pay:8080} and {@code http://pay:8080/},
     * {@code /api} for {@code http://pay:8080/api} and {@code http://pay:8080/api/}). The replay reads the candidate's
     * URL the same way.
     */
    public static String basePath(URI route) {
        String path = route.getRawPath() == null ? "" : route.getRawPath();
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    public boolean liveAllowed(String host) {
        return host != null && allowLive.contains(host.toLowerCase(Locale.ROOT));
    }
}
