package io.tapline.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.tapline.logging.TaplineLogging;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The management port of a long-running component: {@code /healthy} (liveness: 503 with a reason once the component
 * cannot recover by itself), {@code /ready} (503 until ready) and {@code /metrics} (Prometheus: the component's
 * series and the process's {@code tapline_log_lines_dropped_total}). It runs on a few threads of its own, never on a
 * component's event loop or stream thread; a connection that stalls in its request is closed after
 * {@link #MAX_REQUEST_SECONDS}. While the process has no file descriptor left, the server tries to accept a waiting
 * connection every {@link AcceptBackoff#PAUSE} rather than at once, forever. Components may add routes (e.g. an admin switch) with {@link #route}.
 */
public final class ManagementServer implements AutoCloseable {

    /** Threads answering requests: a connection stalled in its request holds one, the probes go on on the others. */
    static final int THREADS = 4;
    /**
     * Longest a request may take to arrive, and its response to leave, before the connection is closed. The JDK server
     * reads a request's head on one of its threads with no limit by default, so a connection that sends part of a head
     * and then nothing held that thread for good (with one thread, {@code /healthy} went unanswered and the liveness
     * probe restarted the pod). Kubernetes' probe timeout is 1 s by default; 5 s frees the threads well within the
     * three failures it waits for.
     */
    static final int MAX_REQUEST_SECONDS = 5;

    static {
        // Read by the JDK server once, when its classes load: set before the first server of this JVM is created,
        // unless the operator set them (java -D...).
        setIfAbsent("sun.net.httpserver.maxReqTime", Integer.toString(MAX_REQUEST_SECONDS));
        setIfAbsent("sun.net.httpserver.maxRspTime", Integer.toString(MAX_REQUEST_SECONDS));
        // its dispatcher thread spun on a core while it could not accept for lack of file descriptors
        AcceptBackoff.install();
    }

    private final HttpServer server;
    private final ExecutorService executor;
    /** Which peers are this host's own, taken without a token: loopback ({@link #isLoopback}); tests set another. */
    private volatile java.util.function.Predicate<InetAddress> localPeer = ManagementServer::isLoopback;

    private ManagementServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Whether {@code host} names an address of this machine (the wildcard, a loopback address or an interface's):
     * which option a listener that could not open is blamed on. When it does, the port is in the way (another process
     * holds it); when it does not (or does not resolve), the host option is. The name is resolved: call it when the
     * listener has failed, off any event loop.
     */
    public static boolean isLocalAddress(String host) {
        InetSocketAddress address = new InetSocketAddress(host, 0);
        return !address.isUnresolved() && isLocalAddress(address.getAddress());
    }

    /**
     * Whether {@code address} is one of this machine's: the wildcard, a loopback address or an interface's. Resolves
     * nothing: it looks at this machine's interfaces only.
     */
    public static boolean isLocalAddress(InetAddress address) {
        try {
            return address.isAnyLocalAddress() || address.isLoopbackAddress()
                    || java.net.NetworkInterface.getByInetAddress(address) != null;
        } catch (java.net.SocketException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Starts serving on host:port; port 0 picks a free port, read it back with {@link #port()}. */
    public static ManagementServer start(String host, int port, Metrics metrics, BooleanSupplier ready) throws IOException {
        return start(host, port, metrics, ready, () -> null);
    }

    /**
     * As {@link #start(String, int, Metrics, BooleanSupplier)}, with a liveness check: {@code unhealthy} gives the
     * reason the process should be restarted (a thread it cannot do without has died), or null while it is healthy.
     * {@code /healthy} then answers 503 with that reason, so Kubernetes' liveness probe restarts the pod.
     */
    public static ManagementServer start(String host, int port, Metrics metrics, BooleanSupplier ready,
                                         Supplier<String> unhealthy) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        AtomicInteger threads = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "tapline-management-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        readOnly(server, "/healthy", exchange -> {
            String reason = unhealthy.get();
            respond(exchange, reason == null ? 200 : 503, "text/plain", reason == null ? "ok\n" : "unhealthy: " + reason + "\n");
        });
        readOnly(server, "/ready", exchange -> {
            boolean isReady = ready.getAsBoolean();
            respond(exchange, isReady ? 200 : 503, "text/plain", isReady ? "ready\n" : "not ready\n");
        });
        metrics.counter("tapline_log_lines_dropped_total",
                "Log lines not written because standard error did not keep up with them", TaplineLogging::linesDropped);
        readOnly(server, "/metrics", exchange ->
                respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.start();
        return new ManagementServer(server, executor);
    }

    /**
     * Serves {@code GET} and {@code HEAD} of {@code path} itself: another path under it ({@code /readyz},
     * {@code /healthy/x}, which the JDK server hands the context whose path is their prefix) gets 404, and another method
     * 405 with {@code Allow: GET, HEAD}. Before, {@code POST /healthy}, {@code DELETE /ready} and {@code GET /metricsfoo}
     * were all answered as {@code GET} of the endpoint.
     */
    private static void readOnly(HttpServer server, String path, HttpHandler handler) {
        server.createContext(path, exchange -> {
            if (!path.equals(exchange.getRequestURI().getPath())) {
                notFound(exchange);
            } else if (changesState(exchange)) {
                notAllowed(exchange, "GET, HEAD");
            } else {
                handler.handle(exchange);
            }
        });
    }

    /** 404 for a path the server has no endpoint for (an added route's handler calls it for paths under its own). */
    public static void notFound(HttpExchange exchange) throws IOException {
        respond(exchange, 404, "text/plain", "not found\n");
    }

    /** 405 with {@code Allow: allowed} for a method the endpoint does not take (RFC 9110 15.5.6). */
    public static void notAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        respond(exchange, 405, "text/plain", "method not allowed: " + allowed + "\n");
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /**
     * Adds a handler, e.g. {@code POST /capture/off}. A request that may change state (any method but GET and HEAD)
     * sent by a browser page is refused with 403 before it reaches the handler: a cross-site form post needs no CORS
     * preflight, so a page open in the browser of anyone who reaches the port (through {@code kubectl port-forward},
     * say) could otherwise switch it. Browsers mark such requests with {@code Origin} or {@code Sec-Fetch-Site};
     * curl, scripts and probes send neither. Having no token, such a request is also taken from a loopback peer only
     * (see {@link #route(String, HttpHandler, String, String)}).
     */
    public void route(String path, HttpHandler handler) {
        route(path, handler, null, "a management token");
    }

    /**
     * As {@link #route(String, HttpHandler)}, and a request that may change state must be allowed by the token:
     * <ul>
     *   <li>with a {@code token}, it must carry it ({@code Authorization: Bearer TOKEN}, compared in constant time)
     *       or gets 401, from whatever address it comes;</li>
     *   <li>without one (null or empty), it is taken from a loopback peer only ({@link #isLoopback}: a client in the
     *       same network namespace, such as {@code kubectl exec ... curl localhost} or {@code kubectl port-forward})
     *       and refused with 403 from any other address, since nothing else tells an operator from whoever else
     *       reaches the port.</li>
     * </ul>
     * Reading (GET, HEAD) stays open to every peer.
     *
     * @param tokenSetting how an operator sets the token, named in the 403 answer (e.g. the option and its variable)
     */
    public void route(String path, HttpHandler handler, String token, String tokenSetting) {
        byte[] expected = token == null || token.isEmpty() ? null
                : ("Bearer " + token).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        server.createContext(path, exchange -> {
            if (expected != null && changesState(exchange) && !java.security.MessageDigest.isEqual(expected,
                    String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"))
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                respond(exchange, 401, "text/plain", "refused: a request that changes state needs the management token"
                        + " (Authorization: Bearer TOKEN)\n");
                return;
            }
            InetAddress peer = exchange.getRemoteAddress().getAddress();
            if (expected == null && changesState(exchange) && !localPeer.test(peer)) {
                respond(exchange, 403, "text/plain", "refused: without a management token a request that changes state is "
                        + "taken from a loopback address only (curl localhost on this host or in this pod: kubectl exec, kubectl "
                        + "port-forward), and this one came from " + (peer == null ? "an unknown address" : peer.getHostAddress())
                        + "; to allow it from other addresses set " + tokenSetting
                        + " and send Authorization: Bearer TOKEN\n");
                return;
            }
            if (fromBrowserPage(exchange)) {
                respond(exchange, 403, "text/plain", "refused: a request that changes state is not taken from a browser page "
                        + "(it carries Origin or Sec-Fetch-Site); send it with curl or a script\n");
                return;
            }
            handler.handle(exchange);
        });
    }

    /**
     * Takes {@code local} instead of {@link #isLoopback} for which peers are this host's: lets a test play a peer on
     * another host over loopback (a test's traffic stays on loopback).
     */
    void localPeers(java.util.function.Predicate<InetAddress> local) {
        this.localPeer = local;
    }

    /**
     * Whether {@code peer} is this host's loopback: 127.0.0.0/8, ::1, or an IPv4 loopback address written as an
     * IPv4-mapped IPv6 address ({@code ::ffff:127.x.y.z}), which {@link InetAddress#isLoopbackAddress} does not take.
     */
    static boolean isLoopback(InetAddress peer) {
        if (peer == null) {
            return false;
        }
        if (peer.isLoopbackAddress()) {
            return true;
        }
        byte[] a = peer.getAddress();
        if (a.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff && a[12] == 127;
    }

    /** Any method but GET and HEAD. */
    private static boolean changesState(HttpExchange exchange) {
        String method = exchange.getRequestMethod();
        return !("GET".equals(method) || "HEAD".equals(method));
    }

    /** A request other than GET or HEAD that a browser sent on behalf of a page (not one the user typed). */
    static boolean fromBrowserPage(HttpExchange exchange) {
        if (!changesState(exchange)) {
            return false;
        }
        String site = exchange.getRequestHeaders().getFirst("Sec-Fetch-Site");
        return exchange.getRequestHeaders().containsKey("Origin") || site != null && !site.equalsIgnoreCase("none");
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Writes a complete response; a helper for added routes. */
    public static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
