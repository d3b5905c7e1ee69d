package io.tapline.sidecar.impl;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.tapline.http.DotSegments;
import io.tapline.http.HttpUrl;
import io.tapline.http.MalformedRequests;
import io.tapline.http.RequestHead;
import io.tapline.http.RequestTarget;
import io.tapline.http.UnreadableAnswer;
import io.tapline.http.UnrelayableAnswers;
import io.tapline.http.UpstreamReads;
import io.tapline.http.VertxPipeline;
import io.tapline.logging.PeriodicWarning;
import io.tapline.ops.Metrics;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Streams one HTTP/1.1 exchange from a server request to an upstream and back, with optional capture taps.
 * Bodies are piped with backpressure (never buffered whole); hop-by-hop headers are dropped; the upstream
 * failing gives 502 (no connection, reset) or 504 (no progress within the timeout); WebSocket upgrades are tunneled
 * uncaptured.
 */
public final class ProxyEngine {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyEngine.class);
    /** The pipeline name of a listener connection's {@link MalformedRequests}. */
    static final String MALFORMED_REQUESTS = "tapline-malformed-requests";
    /** The pipeline name of a listener connection's {@link io.tapline.http.Http10KeepAlive}. */
    static final String HTTP10_KEEP_ALIVE = "tapline-http10-keepalive";

    /**
     * Where one request goes: host, port and request-target (origin-form).
     *
     * @param recordAsTarget capture the request as the target receives it (authority, path and query of the target)
     *                       rather than as the client sent it: outbound calls are recorded as the dependency saw
     *                       them, so a replay mock matches them whatever egress form (named route, forward proxy)
     *                       the app used
     * @param base           how many of {@code uri}'s first characters are a base path the listener put in front of
     *                       the client's target ({@code --app}'s), which the target's dot segments must not climb out
     *                       of ({@link DotSegments}); 0: none, and the target is not looked at
     */
    public record Target(String host, int port, String uri, boolean recordAsTarget, int base) {

        /**
         * The app behind the inbound listener, {@code basePath} ({@code --app}'s, {@code ""} when it has none) then
         * {@code target} (the client's, in origin form; {@code *} alone, {@code OPTIONS *} asking about the server as a
         * whole): the request is recorded as the client sent it.
         */
        public static Target app(String host, int port, String basePath, String target) {
            if (target.equals("*")) { // OPTIONS *, the server as a whole: not '/base*', which is no target at all
                return new Target(host, port, target, false, 0);
            }
            return new Target(host, port, basePath + target, false, basePath.length());
        }

        /** A dependency behind the egress listener: the request is recorded as the dependency receives it. */
        public static Target dependency(String host, int port, String uri) {
            return new Target(host, port, uri, true, 0);
        }

        String authority() {
            return port == 80 ? host : host + ":" + port;
        }

        String path() {
            int q = uri.indexOf('?');
            return q < 0 ? uri : uri.substring(0, q);
        }

        String query() {
            int q = uri.indexOf('?');
            return q < 0 ? null : uri.substring(q + 1);
        }

        /**
         * The host the upstream client dials: {@code host}, but for an IPv6 literal written with an IPv4 part
         * ({@code [::ffff:127.0.0.1]}, RFC 3986's {@code ls32}), which Vert.x's client cannot parse, written in the
         * form it can (an IPv4-mapped address as the IPv4 address it maps, any other in hex groups). The request's
         * {@code Host} and its record keep {@code host} as written.
         */
        String dialHost() {
            return host.startsWith("[") && host.indexOf('.') > 0 && host.indexOf(':') > 0 ? dialable(host) : host;
        }
    }

    /**
     * {@link Target#dialHost} of an IPv6 literal holding a dot; unchanged when it is no address. An IPv4-mapped address
     * ({@code [::ffff:127.0.0.1]}) is dialled as the IPv4 address it maps ({@code 127.0.0.1}), any other in brackets
     * as eight hex groups ({@code [64:ff9b::1.2.3.4]} as {@code [64:ff9b:0:0:0:0:102:304]}): the forms
     * {@code InetAddress.getHostAddress} gives. A conversion of text alone ({@link HttpUrl#ipv6Groups}): nothing is
     * looked up, so it may run on the event loop.
     */
    static String dialable(String literal) {
        int[] g = HttpUrl.ipv6Groups(literal);
        if (g == null) {
            return literal; // not an IPv6 address: the client refuses it, and the app gets a 502 (see forward)
        }
        if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
            return (g[6] >>> 8) + "." + (g[6] & 0xff) + "." + (g[7] >>> 8) + "." + (g[7] & 0xff);
        }
        StringBuilder hex = new StringBuilder(41).append('[');
        for (int i = 0; i < 8; i++) {
            hex.append(i == 0 ? "" : ":").append(Integer.toHexString(g[i]));
        }
        return hex.append(']').toString();
    }

    /**
     * Engine settings.
     *
     * @param upstreamTimeoutMs   longest time without progress on an exchange: no request body bytes taken by the
     *                            upstream and no response bytes from it (0 = none)
     * @param tunnelIdleTimeoutMs idle timeout of a tunnel (WebSocket upgrade, CONNECT) once spliced (0 = none)
     * @param requestBufferBytes  bytes of a request body read before the upstream is asked for a connection
     *                            ({@link HeldBody}; 0 = none, the body streams from its first byte)
     * @param requestBufferMaxBytes bytes held that way by every request at once; past it bodies stream
     */
    public record Settings(long maxRequestBodyBytes, long connectTimeoutMs,
                           long upstreamTimeoutMs, boolean forwardedHeaders, String viaName, long tunnelIdleTimeoutMs,
                           long requestBufferBytes, long requestBufferMaxBytes) {
    }

    private final Vertx vertx;
    private final Supplier<HttpClient> clients;
    /** Clients that open a new connection for every request: a request sent again goes on one of them. */
    private final Supplier<HttpClient> freshClients;
    private final Settings settings;
    private final String listener;
    /** The inbound listener's engine (the app behind it), not the egress listener's (dependencies behind it). */
    private final boolean inbound;
    private final Metrics.Counter proxied;
    private final Metrics.Counter websockets;
    private final Metrics metrics;
    private final Metrics.Histogram added;
    private final HeldBody.Budget held;
    /** When a warning about the app failing is due (inbound listener only; see {@link #upstreamFailed}). */
    private final PeriodicWarning failureWarning;
    /** When a warning about the app breaking off an answer is due (inbound only; see {@link Exchanges#upstreamCut}). */
    private final PeriodicWarning cutWarning;
    /** Set as the sidecar stops: every response from then on closes its connection. */
    private volatile boolean draining;

    /** At most one warning about the app failing per this interval, so an app that is down cannot flood the log. */
    static final long FAILURE_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * @param clients      the upstream client of the calling event loop (see {@link SidecarImpl})
     * @param freshClients the calling event loop's upstream client that keeps no connection for another request: a
     *                     request that failed on a stale pooled connection is sent again on one of its connections
     * @param warningClock the nanosecond clock the warnings about the app ({@link #upstreamFailed}, {@link
     *                     Exchanges#upstreamCut}) are timed by, at most one per {@link #FAILURE_WARNING_INTERVAL_NANOS}:
     *                     {@link System#nanoTime}, or a test's; read once per failure or cut, not per request
     */
    public ProxyEngine(Vertx vertx, Supplier<HttpClient> clients, Supplier<HttpClient> freshClients, Settings settings,
                       String listener, Metrics metrics, LongSupplier warningClock) {
        this.failureWarning = new PeriodicWarning(Duration.ofNanos(FAILURE_WARNING_INTERVAL_NANOS), warningClock);
        this.cutWarning = new PeriodicWarning(Duration.ofNanos(FAILURE_WARNING_INTERVAL_NANOS), warningClock);
        this.vertx = vertx;
        this.clients = clients;
        this.freshClients = freshClients;
        this.settings = settings;
        this.listener = listener;
        this.inbound = "inbound".equals(listener);
        this.metrics = metrics;
        this.proxied = metrics.counter("tapline_sidecar_proxied_total", "Requests proxied, by listener", "listener", listener);
        this.websockets = metrics.counter("tapline_sidecar_websocket_upgrades_total", "WebSocket upgrades tunneled uncaptured", "listener", listener);
        this.held = new HeldBody.Budget(settings.requestBufferMaxBytes());
        if (settings.requestBufferBytes() > 0) {
            metrics.gauge("tapline_sidecar_request_buffer_bytes",
                    "Bytes of request bodies read before the app is asked for a connection, held now", held::used, "listener", listener);
        }
        this.added = metrics.histogram("tapline_sidecar_proxy_added_seconds",
                "Time the proxy itself adds: request head to upstream request, plus upstream response head to response head",
                Metrics.LATENCY_BUCKETS, "listener", listener);
    }

    /**
     * What a forward proxy reads in a request besides its target (the egress listener's absolute-form requests).
     *
     * @param proxyConnection {@code Proxy-Connection} stands for {@code Connection} when the client sent none
     *                        ({@link HopByHop#connectionOptions})
     * @param maxForwards     the {@code Max-Forwards} to send on (RFC 9110 7.6.2); null: as the client sent it
     */
    public record ProxyHop(boolean proxyConnection, String maxForwards) {

        /** A request to the app, or to a named route: the client's Connection alone, its Max-Forwards unchanged. */
        public static final ProxyHop NONE = new ProxyHop(false, null);
    }

    public void proxy(HttpServerRequest req, Target target, ExchangeObserver observer) {
        proxy(req, target, observer, ProxyHop.NONE);
    }

    public void proxy(HttpServerRequest req, Target target, ExchangeObserver observer, ProxyHop hop) {
        MultiMap h = req.headers();
        Set<String> connectionOptions = HopByHop.connectionOptions(h, hop.proxyConnection());
        // The client's last request (close, or HTTP/1.0 without keep-alive): nothing pipelined behind it is read
        // (RFC 9112 9.6). One read behind a refused or last request is never served: the connection closes after
        // that one's answer.
        boolean last = HopByHop.lastRequest(req.version(), connectionOptions);
        if (!MalformedRequests.admit(req.connection(), MALFORMED_REQUESTS, last)) {
            return;
        }
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        RequestHead.Refusal refusal = RequestHead.check(h, req.version(), req.authority());
        if (refusal == null) {
            refusal = targetRefusal(req);
        }
        if (refusal == null && target.base() > 0 && DotSegments.climb(target.uri(), target.base())) {
            // /../admin behind --app http://app/base would be /base/../admin: /admin at an app that resolves dot
            // segments, out of what the operator exposed. Without a base path a client may ask for /admin itself, and
            // the target is not looked at (one comparison). Those that stay below the base path go on as sent.
            refusal = CLIMBS_OUT_OF_BASE;
        }
        if (refusal != null) {
            reject(req, refusal.status(), refusal.reason());
            return;
        }
        String te = h.get(HttpHeaders.TRANSFER_ENCODING);
        String cl = h.get(HttpHeaders.CONTENT_LENGTH);
        long contentLength = -1;
        if (cl != null) {
            try {
                contentLength = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                reject(req, 400, "invalid Content-Length");
                return;
            }
            if (contentLength < 0) {
                reject(req, 400, "invalid Content-Length");
                return;
            }
        }
        if (settings.maxRequestBodyBytes() > 0 && contentLength > settings.maxRequestBodyBytes()) {
            // A client that sent Expect: 100-continue gets this instead of 100 and never sends the body (RFC 9110 10.1.1).
            reject(req, 413, "request body larger than " + settings.maxRequestBodyBytes() + " bytes");
            return;
        }
        // The authority the client named, read once: the record, X-Forwarded-Host and the app's Host line take it
        // (upstreamHost). A dependency gets its own (a named route's or the forward-proxy target's, RFC 9112 3.2.2),
        // never the egress listener's address, in its normal form (RFC 9110 4.2.3: port 80 left out, as the record's
        // authority names it).
        HostAndPort named = authority(req);
        HostAndPort upstreamAuthority = target.recordAsTarget()
                ? HostAndPort.create(target.host(), target.port() == 80 ? -1 : target.port()) : named;
        // Counted once the head is taken, as the observer's outcomes are: a request refused above is in rejected_total
        // alone, as those the HTTP decoder refuses are, so proxied_total is the sum of its outcomes (see the README).
        proxied.inc();
        // RFC 9112 9.6: "close" ends the connection after this response also among other options
        // ("Connection: x-trace, close", "Connection: Upgrade, close", or a forward proxy's "Proxy-Connection: close");
        // Vert.x only closes on a Connection header that is exactly "close".
        boolean closeAfter = req.version() == HttpVersion.HTTP_1_1 && connectionOptions.contains("close")
                && !h.contains(HttpHeaders.CONNECTION, "close", true);
        if (isWebSocketUpgrade(req, connectionOptions)) {
            websockets.inc();
            tunnelWebSocket(req, target, named, upstreamAuthority, observer.tunnel(req), closeAfter);
            return;
        }
        if (closeAfter) {
            closeAfter(req);
        }
        boolean hasBody = te != null || contentLength > 0;
        req.pause();
        if (hasBody && expectsContinue(req)) {
            // Answered here, only once the head passed every check above; the body then streams upstream (as nginx
            // does). An HTTP/1.0 client's expectation is ignored (RFC 9110 10.1.1), and so is any other expectation.
            req.response().writeContinue();
        }

        MultiMap up = endToEnd(h, upstreamHost(req, upstreamAuthority, target.recordAsTarget()));
        up.remove(HttpHeaders.EXPECT); // answered by this server (above), not the app's business
        if (h.contains("TE") && req.version() != HttpVersion.HTTP_1_0 && HopByHop.tokens(h, "te").contains("trailers")) {
            up.set("TE", "trailers"); // TE is hop-by-hop, but this hop relays trailers too (RFC 9110 10.1.4)
        }
        if (hop.maxForwards() != null) {
            up.set("Max-Forwards", hop.maxForwards());
        }
        if (settings.forwardedHeaders()) {
            addForwarded(req, up, named);
        }
        ExchangeObserver.Sink sink = observer.begin(req, up, startNanos);
        boolean capturing = sink != null && sink.capturing();
        BodyTap reqTap = !hasBody ? BodyTap.empty() : sink == null ? new BodyTap(req) : sink.tap(req);
        // The client's lines, hop-by-hop ones too (replay leaves out what is not sent on), except an HTTP/1.0
        // client's TE: the app never gets it, and the record does not say the HTTP version replay would drop it by.
        String notRecorded = req.version() == HttpVersion.HTTP_1_0 ? "TE" : null;
        CapturedMessage capturedRequest = !capturing ? null : target.recordAsTarget()
                ? CapturedMessage.request(req.method().name(), "http", target.authority(), target.path(), target.query(),
                        CapturedMessage.headers(h, notRecorded), reqTap)
                : CapturedMessage.request(req.method().name(), req.scheme() == null ? "http" : req.scheme(),
                        named == null ? "" : named.toString(),
                        req.path() == null ? "" : RequestTarget.fromWire(req.path()),
                        req.query() == null ? null : RequestTarget.fromWire(req.query()),
                        CapturedMessage.headers(h, notRecorded), reqTap);

        RequestOptions options = new RequestOptions()
                .setMethod(req.method())
                .setHost(target.dialHost())
                .setPort(target.port())
                .setURI(target.uri())
                .setHeaders(up)
                .setConnectTimeout(settings.connectTimeoutMs());
        // No Vert.x idle timeout: it is reset by response bytes only, so a slow upload the app is reading would time
        // out. Exchanges.watchUpstream counts request body progress too.
        Exchanges ex = new Exchanges(req, target, sink, capturedRequest, startMillis, startNanos);
        req.response().closeHandler(v -> ex.clientGone());
        if (hasBody) {
            ex.watchProgress(reqTap);
            if (te != null && settings.maxRequestBodyBytes() > 0) {
                // a chunked body declares no size: enforce the limit as it comes
                reqTap.limit(settings.maxRequestBodyBytes(), () -> {
                    ex.tooLarge(); // answer 413 first: resetting the upstream fails its response with a 502 otherwise
                    if (ex.upstreamRequest != null) {
                        ex.upstreamRequest.reset();
                    }
                });
            }
        }
        // Not held when the budget is spent already: each body would still take one chunk over it (20 bodies of
        // 8,000 bytes held 39,920 bytes over a 100-byte budget, as long as the app took to connect)
        if (hasBody && settings.requestBufferBytes() > 0 && !held.spent()) {
            HeldBody body = new HeldBody(reqTap, settings.requestBufferBytes(), held);
            ex.hold(body);
            body.read(() -> {
                if (!ex.done) {
                    ex.bodyRead();
                    forward(req, upstreamAuthority, options, ex, reqTap, true, te != null, body, false);
                }
            }, ex::uploadBroke);
        } else {
            forward(req, upstreamAuthority, options, ex, reqTap, hasBody, te != null, null, false);
        }
    }

    /**
     * Asks the upstream for a connection and sends the request: with the body {@code heldBody} read (all of it, or
     * its first bytes and then the rest as it streams), or streaming {@code reqTap} from its first byte when null.
     *
     * @param authority the authority the upstream request names (its Host line is among the headers, upstreamHost), null for none
     * @param again the request failed on a stale pooled connection and goes again, on a new connection
     */
    private void forward(HttpServerRequest req, HostAndPort authority, RequestOptions options, Exchanges ex,
                         BodyTap reqTap, boolean hasBody, boolean chunked, HeldBody heldBody, boolean again) {
        long startNanos = ex.startNanos;
        request(again ? freshClients : clients, options).onComplete(ar -> {
            if (ar.failed()) {
                req.resume();
                ex.fail(statusFor(ar.cause()), ar.cause());
                return;
            }
            HttpClientRequest creq = ar.result();
            // failures surface through response() and the pipes; this only keeps them out of the unhandled-error log
            // (a reset below included: without it Vert.x logged "ERROR ... Stream reset: 0" for each)
            creq.exceptionHandler(err -> LOG.debug("upstream request {} {}: {}", req.method(), req.path(), err.toString()));
            if (ex.done) {
                creq.reset(); // the client left while the upstream connection was being set up
                return;
            }
            if (req.version() != HttpVersion.HTTP_1_0) {
                // 1xx must not reach an HTTP/1.0 client (RFC 9110 15.2); other 1xx than 103 never get this far (InterimResponseFilter)
                creq.earlyHintsHandler(ex::earlyHints);
            }
            if (authority != null) {
                creq.authority(authority); // what the request reports (tracing, metrics); the Host line (endToEnd) wins on the wire
            }
            ex.upstreamRequest = creq;
            ex.watchUpstream();
            long upstreamIssued = System.nanoTime();
            ex.addedNanos = upstreamIssued - startNanos - ex.heldNanos;
            if (hasBody) {
                if (chunked) {
                    creq.setChunked(true);
                }
                if (heldBody != null && heldBody.ended()) {
                    // the whole body was read: nothing left to stream; kept for a request that may be sent again
                    creq.end(UpstreamReads.idempotent(req.method().name()) ? heldBody.keep() : heldBody.take());
                } else {
                    if (heldBody != null) {
                        creq.write(heldBody.take()); // the first bytes, read before connecting; the rest streams
                    }
                    reqTap.pipe().endOnFailure(false).to(creq).onFailure(err -> {
                        // the client went away or the upload broke: end the exchange as the client's doing, then
                        // abort the upstream request too
                        ex.uploadBroke(err);
                        creq.reset(0, err);
                    });
                }
            } else {
                req.resume();
                creq.end();
            }
            creq.response().onComplete(rar -> {
                if (rar.failed()) {
                    String retry = again ? null : retryReason(ex, creq, hasBody, heldBody, rar.cause());
                    if (retry == null) {
                        Throwable cause = UnreadableAnswer.of(creq, rar.cause());
                        ex.fail(statusFor(cause), cause);
                        return;
                    }
                    retries(retry).inc();
                    LOG.debug("{} {} failed on a reused {} connection before any response byte ({}): sent again on a new connection",
                            req.method(), req.path(), listener, rar.cause().toString());
                    ex.upstreamRequest = null;
                    forward(req, authority, options, ex, reqTap, hasBody, chunked, heldBody, true);
                } else {
                    // The app switched protocols on a request that asked for no upgrade (WebSocket upgrades take
                    // tunnelWebSocket; any other Upgrade is hop-by-hop and never reaches the app): RFC 9110 7.8 forbids
                    // it. Relayed, the client would read the 101 as an interim answer and the next response as this
                    // request's; pooled, the connection would carry the next request into the other protocol. Any other
                    // answer this hop cannot pass on as HTTP (a status code that is not three digits, a transfer coding
                    // other than chunked alone) has framing not to be trusted either. Either way the connection is closed.
                    HttpClientResponse resp = rar.result();
                    String unrelayable = resp.statusCode() == 101 ? "101 Switching Protocols to a request without Upgrade"
                            : UnrelayableAnswers.why(resp);
                    if (unrelayable != null) {
                        creq.connection().close();
                        ex.fail(502, new ProtocolException(unrelayable));
                    } else {
                        relayResponse(ex, resp);
                    }
                }
            });
        });
    }

    /**
     * Asks the calling event loop's client of {@code clients} for a request. Vert.x's client throws, rather than fail
     * the future, for a target it cannot parse as it is asked (an authority it refuses; {@code [1::2::3]} did, before
     * {@code HttpUrl} refused it as no IPv6 address, a 400): that is a failed future here, so the exchange ends in a
     * 502 like any upstream that cannot be reached. Before, the exception went to Vert.x's log and the client's request
     * was never answered, its connection held until the idle timeout.
     */
    private static Future<HttpClientRequest> request(Supplier<HttpClient> clients, RequestOptions options) {
        try {
            return clients.get().request(options);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * Why the request that just failed on {@code creq} goes again, on a new connection; null when it does not. It
     * goes again, as nginx sends a request on after an error on a cached upstream connection, when all of these hold:
     * the connection was a pooled one that had carried an earlier exchange and the app sent no byte of an answer (what
     * an app closing a keep-alive connection it found idle looks like, in the moment the sidecar reused it); the method
     * is idempotent (RFC 9110 9.2.2), so that an app that did act on the request may be asked again; the body, if any,
     * was read whole before connecting ({@link HeldBody#keep()}), so the same bytes can be sent again (a streamed body
     * is gone); the exchange is still waiting on the app (not timed out, the client still there). The first attempt is
     * not published: the exchange records what the request sent again got.
     */
    private String retryReason(Exchanges ex, HttpClientRequest creq, boolean hasBody, HeldBody heldBody, Throwable cause) {
        if (ex.done || !UpstreamReads.idempotent(ex.request.method().name()) || (hasBody && (heldBody == null || !heldBody.ended()))
                || statusFor(cause) != 502 || !UpstreamReads.reusedAndUnanswered(creq.connection())) {
            return null;
        }
        return cause instanceof HttpClosedException ? "closed" : "reset";
    }

    /**
     * Answers this listener cut because the client (on the egress listener, the app) stopped reading them for the
     * upstream timeout while the upstream had more to send: the reader's doing, not the upstream's.
     */
    Metrics.Counter clientReadTimeouts() {
        return metrics.counter("tapline_sidecar_client_read_timeouts_total",
                "Answers cut because the client (on the egress listener, the app) stopped reading them for the upstream timeout",
                "listener", listener);
    }

    /**
     * Answers the upstream (the app; on the egress listener, a dependency) broke off after their head reached the
     * client, by how: {@code closed}, {@code reset}, {@code timeout} (no byte of it for the upstream timeout while the
     * client could take more), {@code unreadable} (a chunk that does not parse).
     */
    Metrics.Counter upstreamAborted(String reason) {
        return metrics.counter("tapline_sidecar_upstream_aborted_total",
                "Answers the upstream broke off after their head reached the client, by how: closed, reset, timeout, unreadable",
                "listener", listener, "reason", reason);
    }

    /** Answers cut because the client (on the egress listener, the app) closed its connection while they were relayed. */
    Metrics.Counter clientAborted() {
        return metrics.counter("tapline_sidecar_client_aborted_total",
                "Answers cut because the client (on the egress listener, the app) closed its connection while they were relayed",
                "listener", listener);
    }

    /**
     * How an upstream broke off an answer already relayed, in {@link #retries}' words where they apply: {@code
     * unreadable} (the decoder's error, {@link UnreadableAnswer}), {@code timeout}, {@code closed}, else {@code reset}.
     */
    static String abortReason(Throwable cause) {
        if (cause instanceof UnreadableAnswer) {
            return "unreadable";
        }
        if (statusFor(cause) == 504) {
            return "timeout";
        }
        return cause instanceof HttpClosedException ? "closed" : "reset";
    }

    /** Requests this listener sent again on a new connection after a stale pooled one failed, by how it failed. */
    Metrics.Counter retries(String reason) {
        return metrics.counter("tapline_sidecar_upstream_retries_total",
                "Requests sent again on a new connection after a reused keep-alive connection failed before any response byte, by how it failed",
                "listener", listener, "reason", reason);
    }

    private void relayResponse(Exchanges ex, HttpClientResponse cresp) {
        long responseHead = System.nanoTime();
        ex.relaying = true;
        if (ex.heldBody != null) {
            ex.heldBody.drop(); // a body kept to be sent again: the answer has begun, it will not be
        }
        ex.progress();
        HttpServerRequest req = ex.request;
        HttpServerResponse resp = req.response();
        if (resp.headWritten() || resp.closed()) {
            ex.upstreamRequest.reset();
            ex.finish(null, Exchange.NO_RESPONSE, "client closed before the response");
            return;
        }
        boolean closeDelimited = relayHead(req, cresp, resp);
        boolean capturing = ex.sink != null && ex.sink.capturing();
        BodyTap respTap = ex.sink == null ? new BodyTap(cresp) : ex.sink.tap(cresp);
        if (resp.isChunked() && req.version() != HttpVersion.HTTP_1_0) {
            // Trailer fields travel after a chunked body: announce them as the app did, relay them as it ends.
            String announced = cresp.headers().get("Trailer");
            if (announced != null) {
                resp.headers().set("Trailer", announced);
            }
            respTap.onEnd(() -> HopByHop.copyEndToEnd(cresp.trailers(), resp.trailers()));
        }
        ex.watchProgress(respTap);
        CapturedMessage capturedResponse = !capturing ? null
                : CapturedMessage.response(cresp.statusCode(), CapturedMessage.headers(cresp.headers()), respTap);
        ex.relayed = capturedResponse;
        ex.addedNanos += System.nanoTime() - responseHead;
        added.observe(ex.addedNanos / 1e9);
        Future<Void> piped = respTap.pipe().endOnFailure(false).to(resp);
        boolean closeAfterBody = closeDelimited;
        piped.onComplete(par -> {
            if (par.succeeded()) {
                if (closeAfterBody) {
                    req.connection().close();
                }
                ex.finish(capturedResponse, cresp.statusCode(), null);
            } else if (!resp.headWritten() && !resp.closed() && !ex.done) {
                // The answer broke before any of it was written to the client (its head, then a close, a reset or a
                // chunk that does not parse): the 502 a proxy gives for an answer it could not read, where closing
                // the connection with no answer looked like a keep-alive connection let go, which a client may
                // send the request again on. Nothing of the upstream's head goes with it.
                Throwable cause = UnreadableAnswer.of(ex.upstreamRequest, par.cause());
                ex.upstreamRequest.reset();
                unrelayHead(resp);
                ex.fail(502, cause);
            } else {
                // upstream broke mid-body or the client left: close both sides so nobody sees a silently short body
                ex.upstreamRequest.reset();
                ex.countCut(par.cause());
                cut(req);
                ex.finish(capturedResponse, cresp.statusCode(), "response stream aborted: " + par.cause().getMessage());
            }
        });
    }

    /**
     * From now on, every response this engine writes says {@code Connection: close} and closes its connection, so
     * that no client sends another request on a connection the stopping sidecar is about to close.
     */
    void drain() {
        draining = true;
    }

    /**
     * {@code Connection: close} on a response written while draining, or with a close-delimited body. Set as its head
     * is written: Vert.x answers an HTTP/1.0 client that asked for keep-alive with {@code Connection: keep-alive} over
     * any value set before.
     */
    private static void sayClose(HttpServerResponse resp) {
        resp.headersEndHandler(v -> resp.headers().set(HttpHeaders.CONNECTION, "close"));
    }

    /**
     * Writes the app's status, end-to-end headers and {@code Via} into {@code resp}, and chunks a body of unknown
     * length. HTTP/1.0 clients cannot read chunked: such a body ends when the connection closes (RFC 9112 §6.3), also
     * for a client that asked for keep-alive, and the head says {@code Connection: close} (Vert.x would answer
     * keep-alive, and keep the connection open with the body undelimited).
     *
     * @return whether the connection must be closed once the body is written
     */
    private boolean relayHead(HttpServerRequest req, HttpClientResponse cresp, HttpServerResponse resp) {
        resp.setStatusCode(cresp.statusCode());
        // Not for a 304: Vert.x knows a 304 has no body only by its own status object, which a custom message replaces,
        // and then adds "Content-Length: 0", which RFC 9110 8.6 forbids unless the 200 is empty too. (The reason
        // phrase carries nothing a client may act on, RFC 9112 4.)
        if (cresp.statusMessage() != null && cresp.statusCode() != 304) {
            resp.setStatusMessage(cresp.statusMessage());
        }
        HopByHop.copyEndToEnd(cresp.headers(), resp.headers());
        if (settings.viaName() != null && settings.forwardedHeaders()) {
            resp.headers().add("Via", "1.1 " + settings.viaName());
        }
        if (draining) {
            sayClose(resp);
        }
        boolean bodyAllowed = req.method() != HttpMethod.HEAD && cresp.statusCode() != 204 && cresp.statusCode() != 304
                && cresp.statusCode() >= 200;
        boolean closeDelimited = false;
        if (bodyAllowed && !resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            if (req.version() == HttpVersion.HTTP_1_0) {
                sayClose(resp);
                closeDelimited = true;
            }
            resp.setChunked(true);
        }
        return closeDelimited;
    }

    /**
     * Takes back what {@link #relayHead} put in a response whose head was not written yet: the upstream's status line,
     * headers and framing; the {@code Connection} this listener set (a last request's {@code close}) stays.
     */
    private static void unrelayHead(HttpServerResponse resp) {
        String connection = resp.headers().get(HttpHeaders.CONNECTION);
        resp.headers().clear();
        if (connection != null) {
            resp.headers().set(HttpHeaders.CONNECTION, connection);
        }
        resp.setChunked(false);
        resp.setStatusMessage("Bad Gateway");
    }

    /**
     * @param named      the authority the client named ({@link #authority}), for {@code X-Forwarded-Host}
     * @param authority  the authority the upstream handshake names (its Host line is among the headers, upstreamHost), null for none
     * @param ended      run once the WebSocket has ended: refused, failed, or its tunnel closed (idempotent)
     * @param closeAfter the client said {@code close} among other Connection options, which Vert.x alone does not act
     *                   on: a handshake answered without a 101 (the app's refusal, or this listener's 502 or 504) ends
     *                   the connection, as any other answer does ({@link #proxy}); a 101 hands it to the tunnel
     */
    private void tunnelWebSocket(HttpServerRequest req, Target target, HostAndPort named, HostAndPort authority,
                                 Runnable ended, boolean closeAfter) {
        req.pause();
        // The app's side of the handshake, until the tunnel is spliced (then the tunnel closes both sides itself).
        HttpClientRequest[] handshaking = {null};
        // Vert.x has heard that the client's connection closed: from then on the handshake is the client's leaving.
        boolean[] clientLeft = {false};
        // the client leaving before the tunnel is spliced: the app's request is reset too, else it would hold its
        // connection until the upstream timeout (for good with 0); once spliced, the tunnel's own close
        req.connection().closeHandler(v -> {
            clientLeft[0] = true; // before the reset, which fails the handshake at once
            ended.run();
            if (handshaking[0] != null) {
                handshaking[0].reset();
            }
        });
        // As any request: end-to-end headers only, and the forwarding headers; then this hop's own upgrade request.
        MultiMap up = endToEnd(req.headers(), upstreamHost(req, authority, target.recordAsTarget()));
        if (settings.forwardedHeaders()) {
            addForwarded(req, up, named);
        }
        up.set(HttpHeaders.UPGRADE, req.headers().get(HttpHeaders.UPGRADE));
        up.set(HttpHeaders.CONNECTION, "Upgrade");
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(target.dialHost()).setPort(target.port())
                .setURI(target.uri()).setHeaders(up).setConnectTimeout(settings.connectTimeoutMs());
        long[] handshakeTimer = {-1};
        boolean[] timedOut = {false};
        request(clients, options).compose(creq -> {
            if (clientLeft[0]) {
                creq.reset(); // the client left while the app connection was being set up: nothing is sent
                return Future.failedFuture("the client closed its connection before the handshake was sent");
            }
            handshaking[0] = creq;
            if (settings.upstreamTimeoutMs() > 0) {
                // as for any request: no answer to the handshake within the upstream timeout is a 504, rather than a
                // client left waiting and an upstream connection held for as long as the app stays silent
                handshakeTimer[0] = vertx.setTimer(settings.upstreamTimeoutMs(), id -> {
                    timedOut[0] = true;
                    creq.reset(0, new TimeoutException("no answer to the WebSocket handshake for " + settings.upstreamTimeoutMs() + " ms"));
                });
            }
            creq.exceptionHandler(err -> LOG.debug("websocket upstream {}: {}", req.path(), err.toString()));
            if (authority != null) {
                creq.authority(authority); // what the request reports; the Host line (endToEnd) wins on the wire
            }
            return creq.connect();
        }).onComplete(ar -> {
            if (handshakeTimer[0] >= 0 && (ar.failed() || ar.result().statusCode() == 101)) {
                // a refusal keeps it: its body must end within the upstream timeout too, or the app's request is reset
                vertx.cancelTimer(handshakeTimer[0]);
            }
            if (closeAfter && !req.response().ended() && (ar.failed() || ar.result().statusCode() != 101)) {
                closeAfter(req);
            }
            if (ar.failed() && clientLeft[0]) {
                // The client left before the app answered, and its leaving reset the app's request: its own business,
                // as a plain request's client leaving is. Before, this was the app failing: a warning that the app did
                // not answer ("Stream reset"), naming a 502 nobody got.
                handshaking[0] = null;
                LOG.debug("the client left before the WebSocket handshake {} was answered ({}): the app's request reset",
                        req.path(), ar.cause().toString());
                ended.run();
                return;
            }
            if (ar.failed()) {
                Throwable cause = UnreadableAnswer.of(handshaking[0], ar.cause());
                handshaking[0] = null;
                req.resume();
                int status = timedOut[0] ? 504 : statusFor(cause);
                upstreamFailed(req, status, cause); // a handshake the app does not answer is the app failing too
                sendError(req, status);
                ended.run();
                return;
            }
            HttpClientResponse cresp = ar.result();
            String unrelayable = cresp.statusCode() == 101 ? null : UnrelayableAnswers.why(cresp);
            if (unrelayable != null) {
                // a refusal this hop cannot pass on: as for any answer (see forward)
                if (handshakeTimer[0] >= 0) {
                    vertx.cancelTimer(handshakeTimer[0]);
                }
                handshaking[0] = null;
                cresp.request().connection().close();
                req.resume();
                ProtocolException cause = new ProtocolException(unrelayable);
                upstreamFailed(req, 502, cause);
                sendError(req, 502);
                ended.run();
                return;
            }
            if (cresp.statusCode() != 101) {
                req.resume();
                relayRefusal(req, target, cresp, clientLeft, () -> {
                    if (handshakeTimer[0] >= 0) {
                        vertx.cancelTimer(handshakeTimer[0]);
                    }
                    handshaking[0] = null;
                    ended.run();
                });
                return;
            }
            handshaking[0] = null;
            HttpServerResponse resp = req.response().setStatusCode(101);
            HopByHop.copyEndToEnd(cresp.headers(), resp.headers());
            String upgrade = cresp.headers().get(HttpHeaders.UPGRADE);
            if (upgrade != null) {
                resp.headers().set(HttpHeaders.UPGRADE, upgrade);
            }
            resp.headers().set(HttpHeaders.CONNECTION, "Upgrade");
            NetSocket upstream = cresp.netSocket();
            req.resume();
            spliceTo(req, upstream, t -> ended.run());
        });
    }

    /**
     * Relays the app's refusal of a WebSocket upgrade (any answer but a {@code 101}) as any answer is relayed
     * ({@link #relayResponse}; a WebSocket client speaks HTTP/1.1, so nothing is close-delimited), then runs {@code
     * done}. A client that has left gets nothing written: its connection can be closed already while Vert.x hears of
     * it only in a later task ({@code resp.closed()} still false), so the channel is asked too. A relay that breaks is
     * not ended as if whole: Vert.x's pipe ends its destination when a write fails by default, and then asks the
     * ended response whether its write queue is full, which throws ({@code IllegalStateException: Response has already
     * been written}) on the event loop, logged by Vert.x at ERROR, for each client that left as the app refused it;
     * and a refusal the app broke off mid-body reached the client ended, a short body taken for a whole one.
     *
     * @param clientLeft whether Vert.x has heard that the client's connection closed ({@link #tunnelWebSocket})
     */
    private void relayRefusal(HttpServerRequest req, Target target, HttpClientResponse cresp, boolean[] clientLeft,
                              Runnable done) {
        HttpServerResponse resp = req.response();
        if (clientGone(req, clientLeft)) {
            dropRefusal(req, cresp); // nothing of it is read on: the app's connection is closed, not pooled half-read
            refusalClientLeft(req, 0);
            done.run();
            return;
        }
        relayHead(req, cresp, resp);
        boolean[] over = {false};
        // A pipe hears of its destination's closing only through a write that fails: one paused on a client connection
        // that took no more when it closed would wait for good
        resp.closeHandler(v -> {
            if (!over[0]) {
                over[0] = true;
                dropRefusal(req, cresp);
                refusalClientLeft(req, resp.bytesWritten());
                done.run();
            }
        });
        cresp.pipe().endOnFailure(false).to(resp).onComplete(par -> {
            if (over[0]) {
                return;
            }
            over[0] = true;
            if (par.failed()) {
                dropRefusal(req, cresp); // the rest of it is not read either
                Throwable cause = UnreadableAnswer.of(cresp.request(), par.cause());
                if (clientGone(req, clientLeft)) {
                    refusalClientLeft(req, resp.bytesWritten());
                } else if (!resp.headWritten()) {
                    // broken before any of it reached the client: the 502 of an answer that cannot be read, as
                    // relayResponse gives, with nothing of the app's head
                    unrelayHead(resp);
                    upstreamFailed(req, 502, cause);
                    sendError(req, 502);
                } else {
                    // broken mid-body, or not ended within the upstream timeout: cut, so nobody takes it for whole
                    String reason = abortReason(cause);
                    upstreamAborted(reason).inc();
                    upstreamCut(req, target, reason, resp.bytesWritten());
                    cut(req);
                }
            }
            done.run();
        });
    }

    /**
     * Whether the client of a WebSocket handshake has left: Vert.x has heard so ({@code clientLeft}), or its connection
     * is closed already though Vert.x hears of it only in a later task ({@code resp.closed()} still false).
     */
    private static boolean clientGone(HttpServerRequest req, boolean[] clientLeft) {
        return clientLeft[0] || req.response().closed() || !clientConnectionOpen(req);
    }

    /**
     * Closes the app's connection of a refusal that is not relayed on, whether or not all of it came: what is left is
     * not read, and the app's connection is freed at once, as the forward path's reset of an answer its client left
     * frees it (a refusal nobody reads is rare: one reconnect costs nothing). The failure that gives a refusal still
     * under way goes to a debug line: without a handler of its own (a pipe's is gone once it failed), Vert.x logged it
     * at ERROR ({@code HttpClientResponseImpl - Stream reset: 0}).
     */
    private static void dropRefusal(HttpServerRequest req, HttpClientResponse cresp) {
        try {
            cresp.exceptionHandler(err -> LOG.debug("refusal of the WebSocket upgrade {}: {}", req.path(), err.toString()));
        } catch (IllegalStateException ended) {
            // the refusal has ended or failed already (Vert.x refuses a handler then): nothing more to report of it
        }
        cresp.request().connection().close();
    }

    /** A client that left as the app's refusal of its WebSocket upgrade was relayed: counted as any such client. */
    private void refusalClientLeft(HttpServerRequest req, long written) {
        clientAborted().inc();
        LOG.debug("{} left while the refusal of the WebSocket upgrade {} was relayed, {} byte(s) of its body written: cut",
                inbound ? "the client" : "the app", req.path(), written);
    }

    /**
     * Takes the client's connection over from the listener and splices it with {@code upstream} ({@link Tunnel}, with
     * the tunnel idle timeout); {@code upstream} is closed if the connection cannot be taken over.
     */
    void spliceTo(HttpServerRequest req, NetSocket upstream, Consumer<Tunnel> onClosed) {
        req.toNetSocket().onComplete(sar -> {
            if (sar.failed()) {
                upstream.close();
                return;
            }
            Tunnel.splice(sar.result(), upstream, settings.tunnelIdleTimeoutMs(), onClosed);
        });
    }

    /**
     * The request's headers for the upstream, a plain request's and a WebSocket handshake's alike: the end-to-end ones
     * ({@link HopByHop#copyEndToEnd}), on the inbound listener with the {@link HopByHop#MANAGED} ones kept when the
     * client's {@code Connection} names them: a client's Connection may not take away what an ingress set
     * (X-Forwarded-*) or the trace context (Traefik's CVE-2024-45410).
     */
    private MultiMap endToEnd(MultiMap h, String host) {
        MultiMap up = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(h, up, inbound, host);
        return up;
    }

    /**
     * The value of the upstream request's {@code Host} line where it is not the client's line as sent, or null where it
     * is. The line itself is the client's, in its spelling and place ({@link HopByHop#copyEndToEnd}); Vert.x's client
     * writes a {@code Host} line among the request's headers as it is, and builds one from the request's authority
     * only when there is none (spelled {@code host}, last, its port as a number, no port 80).
     *
     * <ul>
     *   <li>On the inbound listener, an origin-form or {@code *} target: null, the client's line as sent (RFC 9110
     *       7.2: {@code Host: h:80}, {@code h:0081}, {@code Example.COM}, {@code [0::1]} reach the app as written),
     *       but for an empty port ({@code h:}, RFC 3986 6.2.3), which reaches it without one ({@code h}); without a
     *       line (HTTP/1.0) there is nothing to send, and Vert.x names the app's own address.</li>
     *   <li>On the inbound listener, an absolute-form target: its authority as the target writes it, which replaces
     *       the line (RFC 9112 3.2.2).</li>
     *   <li>A dependency: its own authority in its normal form ({@link #proxy}), never the app's line.</li>
     * </ul>
     *
     * Costs a comparison or two per request: the target's first character and the authority's port; Vert.x then finds
     * the line instead of building one from the authority.
     *
     * @param authority the authority the upstream request names ({@link #proxy}: the client's, or the dependency's)
     */
    static String upstreamHost(HttpServerRequest req, HostAndPort authority, boolean dependency) {
        if (authority == null) {
            return null;
        }
        if (dependency) {
            return authority.toString();
        }
        String uri = req.uri(); // the origin form or *, else the absolute form (targetRefusal refused any other)
        if (uri.startsWith("/") || uri.equals("*")) {
            // the Host line read without a port that is written: an empty one (h:, which Vert.x reads as port 0, or
            // after an IP literal it cannot read); written anew from the authority, as a port-less line is written
            HostAndPort read = req.authority();
            return authority.port() < 0 && (read == null || read.port() == 0) ? authority.toString() : null;
        }
        return targetAuthority(uri);
    }

    /**
     * The authority of an absolute-form target as it is written ({@code Up.Example:08080} in
     * {@code http://Up.Example:08080/p}): from after {@code ://} to the path, query or fragment. The target has parsed
     * ({@link #targetRefusal}), so it holds no user info.
     */
    static String targetAuthority(String absolute) {
        int start = absolute.indexOf("://") + 3;
        int end = start;
        while (end < absolute.length() && "/?#".indexOf(absolute.charAt(end)) < 0) {
            end++;
        }
        return absolute.substring(start, end);
    }

    private static boolean isWebSocketUpgrade(HttpServerRequest req, Set<String> connectionOptions) {
        String upgrade = req.headers().get(HttpHeaders.UPGRADE);
        return req.method() == HttpMethod.GET && upgrade != null && upgrade.equalsIgnoreCase("websocket")
                && connectionOptions.contains("upgrade");
    }

    private void addForwarded(HttpServerRequest req, MultiMap up, HostAndPort named) {
        String client = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
        // Several X-Forwarded-For lines are one comma-separated list (RFC 9110 5.3): keep every hop.
        List<String> prior = up.getAll("x-forwarded-for");
        up.set("X-Forwarded-For", prior.isEmpty() ? client : String.join(", ", prior) + ", " + client);
        if (!up.contains("x-forwarded-proto")) {
            up.set("X-Forwarded-Proto", req.scheme() == null ? "http" : req.scheme());
        }
        if (!up.contains("x-forwarded-host") && named != null) {
            up.set("X-Forwarded-Host", named.toString());
        }
        if (settings.viaName() != null) {
            up.add("Via", (req.version() == HttpVersion.HTTP_1_0 ? "1.0 " : "1.1 ") + settings.viaName());
        }
    }

    /** The refusal of a client's target whose dot segments climb out of {@code --app}'s base path (see {@link Target#base}). */
    static final RequestHead.Refusal CLIMBS_OUT_OF_BASE =
            new RequestHead.Refusal(400, "the target climbs out of the app's base path with a dot segment (..)");

    /** The inbound listener's answer to a {@code CONNECT}: see {@link #targetRefusal}. */
    static final RequestHead.Refusal CONNECT_NOT_SERVED = new RequestHead.Refusal(501, "CONNECT is not served on this listener");

    /**
     * The refusal of a request whose target must not be forwarded ({@link RequestHead#targetRefusal}: in no form its
     * method may take, an absolute form whose authority does not parse, a space or a control character; 400), or null.
     * A {@code CONNECT} never reaches here from the egress listener, which tunnels it; the inbound listener does not,
     * so relaying the app's answer would leave the client's tunnel bytes read as requests: 501.
     */
    static RequestHead.Refusal targetRefusal(HttpServerRequest req) {
        return req.method() == HttpMethod.CONNECT ? CONNECT_NOT_SERVED : RequestHead.targetRefusal(req.method(), req.uri());
    }

    /**
     * The authority the client named: the absolute-form target's, else the Host line's (RFC 9112 3.2.2, read by
     * {@link RequestHead#hostLine}: also an IPv6 literal with an IPv4 part, which Vert.x cannot read); null for an
     * absolute-form target that does not parse, which {@link #targetRefusal} refused before anything asks.
     */
    static HostAndPort authority(HttpServerRequest req) {
        return RequestHead.authority(req.uri(), RequestHead.hostLine(req.headers(), req.authority()));
    }

    /**
     * The upstream failed and the client gets {@code status}. On the inbound listener that is the app failing (down,
     * a wrong {@code --app}, too slow), which the operator must hear of: a warning, at most one per
     * {@link #FAILURE_WARNING_INTERVAL_NANOS} with the count of failures since the last one. It names no path (a
     * path can hold what redaction would have taken out). A dependency failing behind the egress listener is the
     * app's to report: debug only.
     */
    private void upstreamFailed(HttpServerRequest request, int status, Throwable cause) {
        boolean answered = cause instanceof UnreadableAnswer;
        if (answered) {
            LOG.debug("{} answered {} {} with bytes that cannot be read as HTTP, {} got {}: {}",
                    inbound ? "the app" : "a dependency", request.method(), request.path(), inbound ? "the client" : "the app",
                    status, cause.getMessage());
        } else {
            LOG.debug("upstream failure for {} {}: {}", request.method(), request.path(), cause.toString());
        }
        if (!inbound) {
            return;
        }
        long due = failureWarning.occurred();
        if (due == 0) {
            return;
        }
        long earlier = due - 1;
        String error = answered ? cause.getMessage() : cause.toString();
        LOG.atWarn().addKeyValue("status", status).addKeyValue("error", error).addKeyValue("suppressed", earlier)
                .log("the app {}, the client got {}: {}{}", answered
                                ? "answered a request with bytes that cannot be read as HTTP" : "did not answer a request",
                        status, error, earlier == 0 ? "" : " (and " + earlier + (earlier == 1 ? " more failure" : " more failures")
                                + " since the last warning)");
    }

    static int statusFor(Throwable cause) {
        if (cause instanceof UnreadableAnswer) {
            return 502; // its message is the peer's bytes, which may well say "timeout"
        }
        if (cause instanceof TimeoutException || cause instanceof io.netty.channel.ConnectTimeoutException
                || (cause.getMessage() != null && cause.getMessage().toLowerCase(Locale.ROOT).contains("timeout"))) {
            return 504;
        }
        if (cause instanceof ConnectException || cause instanceof UnknownHostException) {
            return 502;
        }
        return 502;
    }

    /** Counts a request this listener takes to proxy that {@link #proxy} does not see (a CONNECT tunnel). */
    void countProxied() {
        proxied.inc();
    }

    /** Requests this listener refused itself with {@code status} (408: the listener's request head timeout). */
    Metrics.Counter rejected(int status) {
        return metrics.counter("tapline_sidecar_rejected_total", "Requests refused by the proxy itself, by status",
                "listener", listener, "status", Integer.toString(status));
    }

    /** Connections this listener closed as soon as accepted: the listeners held their most ({@link ConnectionLimit}). */
    Metrics.Counter connectionsRefused() {
        return metrics.counter("tapline_sidecar_connections_refused_total",
                "Listener connections closed as soon as accepted: the listeners held their most connections",
                "listener", listener);
    }

    /** Upstream failures this listener answered itself with {@code status} (502, 504), a CONNECT tunnel's included. */
    Metrics.Counter upstreamErrors(int status) {
        return metrics.counter("tapline_sidecar_upstream_errors_total", "Upstream failures answered by the proxy, by status",
                "listener", listener, "status", Integer.toString(status));
    }

    private void reject(HttpServerRequest req, int status, String reason) {
        rejected(status).inc();
        LOG.debug("rejecting {} {}: {} {}", req.method(), req.path(), status, reason);
        answerAndClose(req, status, reason);
    }

    /** Answers {@code status} with a one-line reason, then closes the connection; nothing after the request is read. */
    static void answerAndClose(HttpServerRequest req, int status, String reason) {
        MalformedRequests.lastRequest(req.connection(), MALFORMED_REQUESTS);
        HttpServerResponse resp = req.response();
        // We will not read the body: close the connection after answering so the next request is not misparsed
        // (RFC 9112 9.6: after a response with Connection: close, nothing more is read from that connection).
        resp.headers().set(HttpHeaders.CONNECTION, "close").set(HttpHeaders.CONTENT_TYPE, "text/plain");
        resp.setStatusCode(status).end(reason + "\n").onComplete(done -> {
            if (req.connection() != null) {
                req.connection().close();
            }
        });
    }

    /**
     * Writes an answer of this listener's own (not an upstream's) to a request whose head was read whole; its body,
     * if any, is read and discarded. The connection stays open unless the client said the request is its last
     * ({@code last}: then {@code Connection: close}, and nothing read after it is served) or the listener is draining
     * ({@code Connection: close}, as on every response written then).
     */
    void answer(HttpServerRequest req, boolean last, int status, MultiMap headers, Buffer body) {
        HttpServerResponse resp = req.response();
        boolean awaitsContinue = awaitsContinue(req);
        if (awaitsContinue && !last && !draining) {
            // The body is read and discarded on a connection that stays open, so the client is told to send it, as
            // nginx does before a final answer it gives without reading the body. A final answer alone left the client
            // undecided (RFC 9110 10.1.1): one that sent its next request instead (Java's HttpClient waits for good)
            // had that request read as this one's body.
            resp.writeContinue();
        }
        resp.setStatusCode(status).headers().addAll(headers);
        if (last) {
            MalformedRequests.lastRequest(req.connection(), MALFORMED_REQUESTS);
            // Vert.x closes by itself after an exact "Connection: close" and an HTTP/1.0 last request, but only once
            // the body has come, and a client waiting for 100 Continue does not send it
            if (req.version() == HttpVersion.HTTP_1_1
                    && (awaitsContinue || !req.headers().contains(HttpHeaders.CONNECTION, "close", true))) {
                closeAfter(req);
            }
        } else if (awaitsContinue && draining) {
            closeAfter(req); // no 100 Continue while draining: the body will not come either
        }
        if (draining) {
            sayClose(resp);
        }
        resp.end(body);
    }

    /**
     * Whether the client waits for {@code 100 Continue} before it sends the body its head announces: HTTP/1.1 (an
     * HTTP/1.0 client's expectation is ignored, RFC 9110 10.1.1), {@code Expect: 100-continue} and a body.
     */
    static boolean awaitsContinue(HttpServerRequest req) {
        if (!expectsContinue(req)) {
            return false;
        }
        MultiMap h = req.headers();
        String cl = h.get(HttpHeaders.CONTENT_LENGTH);
        return h.contains(HttpHeaders.TRANSFER_ENCODING) || cl != null && !cl.trim().equals("0");
    }

    /** Whether the client asks for {@code 100 Continue}: {@code Expect: 100-continue} from an HTTP/1.1 client. */
    private static boolean expectsContinue(HttpServerRequest req) {
        String expect = req.headers().get(HttpHeaders.EXPECT);
        return expect != null && expect.trim().equalsIgnoreCase("100-continue") && req.version() != HttpVersion.HTTP_1_0;
    }

    /** Whether the client's connection is still open ({@code true} when that cannot be told). */
    static boolean clientConnectionOpen(HttpServerRequest req) {
        ChannelPipeline pipeline = VertxPipeline.of(req.connection());
        return pipeline == null || pipeline.channel().isOpen();
    }

    /**
     * Cuts a response whose head was written and whose body will not end: the client's connection is closed at once
     * with a TCP reset (SO_LINGER 0), what is still queued for it dropped, as nginx's {@code reset_timedout_connection}
     * does. Vert.x's {@code reset()} on HTTP/1.x closes the connection only once all that is queued is written: a
     * client that had stopped reading (its receive window full) kept the connection, its place under the connection
     * limit and the buffers queued for it until the idle timeout (for good with none), then the kernel kept the
     * socket in FIN-WAIT-1 with a full send buffer, and the client, reading on, got megabytes of the cut answer and
     * then a plain end; an HTTP/1.0 client of a body without a length took that end for the body's. What reached the
     * client before the reset can still be read; what was still in this side's socket buffer is dropped with it.
     */
    static void cut(HttpServerRequest req) {
        ChannelPipeline pipeline = VertxPipeline.of(req.connection());
        if (pipeline == null) {
            req.response().reset(); // not a Vert.x HTTP/1.x connection: Vert.x's own reset
            return;
        }
        Channel channel = pipeline.channel();
        if (!channel.isOpen()) {
            return; // the client closed it already
        }
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
        // from the head of the pipeline: through the channel, the close would reach Vert.x's handler, which waits
        pipeline.firstContext().close();
    }

    /** {@code Connection: close} on the response, and the connection closed once it is written. */
    private static void closeAfter(HttpServerRequest req) {
        HttpServerResponse resp = req.response();
        resp.putHeader(HttpHeaders.CONNECTION, "close");
        resp.endHandler(v -> req.connection().close());
    }

    private void sendError(HttpServerRequest req, int status) {
        HttpServerResponse resp = req.response();
        if (resp.ended() || resp.closed()) {
            return; // already answered (e.g. 413) or the client is gone
        }
        upstreamErrors(status).inc();
        if (resp.headWritten()) {
            cut(req); // mid-response: the client must see a broken message, not a short one
        } else {
            if (draining) {
                sayClose(resp);
            }
            resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain")
                    .end(status == 504 ? "upstream timed out\n" : "upstream unavailable\n");
        }
    }

    /**
     * The upstream broke off an answer after its head reached the client ({@code reason} as in {@code
     * upstream_aborted_total}), {@code written} bytes of its body written to the client. Every one is a debug line
     * naming the request. On the inbound listener the operator also gets a warning, as for the app not answering
     * ({@link #upstreamFailed}): at most one per {@link #FAILURE_WARNING_INTERVAL_NANOS} (its own, so
     * that neither kind of failure hides the other) with the count of cuts since the last one, and no path in it
     * (a path can hold what redaction would have taken out). A dependency's cut is the app's to report: debug only.
     */
    private void upstreamCut(HttpServerRequest request, Target target, String reason, long written) {
        String upstream = target.host() + ":" + target.port();
        String method = request.method().name();
        LOG.atDebug().addKeyValue("listener", listener).addKeyValue("method", method)
                .addKeyValue("upstream", upstream).addKeyValue("reason", reason).addKeyValue("bytes", written)
                .log("{} {} broke off its answer to {} {} ({}) after {} byte(s) of its body were written to {}: cut",
                        inbound ? "the app" : "a dependency", upstream, method, request.path(), reason, written,
                        inbound ? "the client" : "the app");
        if (!inbound) {
            return;
        }
        long due = cutWarning.occurred();
        if (due == 0) {
            return;
        }
        long earlier = due - 1;
        LOG.atWarn().addKeyValue("listener", listener).addKeyValue("method", method)
                .addKeyValue("upstream", upstream).addKeyValue("reason", reason).addKeyValue("bytes", written)
                .addKeyValue("suppressed", earlier)
                .log("the app {} broke off its answer to a {} request ({}) after {} byte(s) of its body were written "
                                + "to the client, whose connection was reset{}", upstream, method, reason, written,
                        earlier == 0 ? "" : " (and " + earlier + (earlier == 1 ? " more answer" : " more answers")
                                + " broken off since the last warning)");
    }

    /** State of one exchange while it is in flight. */
    private final class Exchanges {
        final HttpServerRequest request;
        final Target target;
        final ExchangeObserver.Sink sink;
        final CapturedMessage capturedRequest;
        final long startMillis;
        final long startNanos;
        HttpClientRequest upstreamRequest;
        long addedNanos;
        boolean done;
        /** The upstream's response head arrived and is being relayed. */
        boolean relaying;
        long lastProgressNanos;
        long watchTimer = -1;
        /** The body's first bytes, read before connecting; null when the body streams from its first byte. */
        HeldBody heldBody;
        /** The body is being read before connecting: a stall is the client's (408), not the upstream's. */
        boolean awaitingBody;
        /** How long reading the body before connecting took: waiting on the client is not time the proxy adds. */
        long heldNanos;
        /** The copy of the upstream's response being relayed, when captured. */
        CapturedMessage relayed;
        /** The relayed answer was cut for its reader, who read nothing of it for the upstream timeout. */
        boolean readerCut;
        /** The client closed its connection while the answer was relayed. */
        boolean clientLeft;

        Exchanges(HttpServerRequest request, Target target, ExchangeObserver.Sink sink, CapturedMessage capturedRequest,
                  long startMillis, long startNanos) {
            this.request = request;
            this.target = target;
            this.sink = sink;
            this.capturedRequest = capturedRequest;
            this.startMillis = startMillis;
            this.startNanos = startNanos;
        }

        /** Request body bytes taken by the upstream, or response bytes from it: the exchange is not idle. */
        void progress() {
            lastProgressNanos = System.nanoTime();
        }

        /** Counts the body's chunks as {@link #progress}, which only the upstream timeout reads. */
        void watchProgress(BodyTap body) {
            if (settings.upstreamTimeoutMs() > 0) {
                body.onChunk(this::progress);
            }
        }

        /**
         * Reads the body's first bytes before connecting. The upstream timeout's timer watches the client meanwhile:
         * {@code upstreamTimeoutMs} without a body byte is answered 408 (nginx's {@code client_body_timeout}).
         */
        void hold(HeldBody body) {
            heldBody = body;
            awaitingBody = true;
            watchUpstream();
        }

        /** The held body is read (whole, or up to the limit): from now on the wait is on the upstream. */
        void bodyRead() {
            awaitingBody = false;
            heldNanos = System.nanoTime() - startNanos; // the client's time, not the proxy's
        }

        /**
         * Starts the upstream timeout: the exchange fails once {@code upstreamTimeoutMs} pass without {@link #progress}.
         * One Vert.x timer, re-armed for the remaining time when it fires after progress (no timer per chunk); already
         * running for a body that was held, it goes on from now.
         */
        void watchUpstream() {
            if (settings.upstreamTimeoutMs() > 0) {
                progress();
                if (watchTimer < 0) {
                    scheduleWatch(settings.upstreamTimeoutMs());
                }
            }
        }

        private void scheduleWatch(long delayMs) {
            watchTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
                watchTimer = -1;
                if (done) {
                    return;
                }
                long left = settings.upstreamTimeoutMs() - (System.nanoTime() - lastProgressNanos) / 1_000_000;
                if (left > 0) {
                    scheduleWatch(left);
                } else {
                    upstreamTimedOut();
                }
            });
        }

        private void upstreamTimedOut() {
            if (awaitingBody) {
                reject(request, 408, "no request body byte for " + settings.upstreamTimeoutMs() + " ms");
                finish(null, 408, "request body timed out");
                return;
            }
            if (relaying && request.response().writeQueueFull()) {
                readerStalled();
                return;
            }
            TimeoutException cause = new TimeoutException("no progress on the upstream exchange for " + settings.upstreamTimeoutMs() + " ms");
            if (!relaying) {
                fail(504, cause);
            }
            if (upstreamRequest == null) {
                return; // still connecting: the request is reset when its connection comes (done by then)
            }
            // before the response: its 504 is sent, this only frees the upstream connection; during it: the relay's
            // failure path resets the client's response too, so nobody sees a silently short body
            upstreamRequest.reset(0, cause);
        }

        /**
         * No progress for the upstream timeout while the answer is relayed, and the client's connection takes no more
         * bytes: the relay paused the upstream's answer because the client stopped reading it, so the upstream is not
         * the one that stalled. The answer is cut as any other that stops (reset both ways, so nobody takes a short
         * body for a whole one), and counted and recorded as the reader's doing, not as an upstream failure. Reached
         * only when the timer finds no progress: an exchange that ends costs nothing more.
         */
        private void readerStalled() {
            readerCut = true;
            clientReadTimeouts().inc();
            String reader = inbound ? "the client" : "the app";
            TimeoutException cause = new TimeoutException(reader + " stopped reading the answer for " + settings.upstreamTimeoutMs() + " ms");
            LOG.debug("{} stopped reading the answer to {} {} for {} ms: cut (the relay was waiting on {}, not on {})", reader,
                    request.method(), request.path(), settings.upstreamTimeoutMs(), reader, inbound ? "the app" : "the dependency");
            upstreamRequest.reset(0, cause); // fails the relay, whose failure path resets the client's response too
        }

        /** A 103 Early Hints from the upstream, relayed to the client as an interim response. */
        void earlyHints(MultiMap hints) {
            progress();
            HttpServerResponse resp = request.response();
            if (resp.headWritten() || resp.closed()) {
                return;
            }
            MultiMap relayed = MultiMap.caseInsensitiveMultiMap();
            HopByHop.copyEndToEnd(hints, relayed);
            resp.writeEarlyHints(relayed);
        }

        /**
         * The client's connection closed before its response ended. Nothing else would notice until
         * {@code proxy.upstream.timeout} (never, with 0) before the response head arrived, nor while relaying a
         * response the upstream has stopped sending (the relay fails only on its next write to the client): the
         * exchange would hold its upstream connection, its pending capture slot and its place among the requests in
         * flight. Before the response, the upstream request is reset and the exchange finished now; while relaying,
         * the reset fails the relay, whose failure path finishes the exchange as it does when the client leaves
         * during a body still flowing.
         */
        void clientGone() {
            if (done) {
                return;
            }
            if (relaying) {
                if (!request.response().ended()) {
                    clientLeft = true;
                    upstreamRequest.reset();
                }
                return;
            }
            finish(null, Exchange.NO_RESPONSE, "client closed the connection before the response");
            if (upstreamRequest != null) {
                upstreamRequest.reset(); // after finish: the reset fails the upstream response, which would finish as a 502
            }
        }

        /**
         * The client's upload failed before any response: its chunked framing broke ({@link MalformedRequests} answered
         * 400) or the client left. Ended here, as the client's doing, before the upstream reset fails the response,
         * which would otherwise be reported as the app failing (a warning, an upstream error, a 502 after the 400).
         */
        void uploadBroke(Throwable cause) {
            if (done || relaying) {
                return;
            }
            if (cause instanceof HttpClosedException) {
                finish(null, Exchange.NO_RESPONSE, "client closed the connection during the upload");
            } else {
                // the decoder's cause (a NumberFormatException for a chunk size that is not hex, say)
                finish(null, 400, "malformed request body: " + cause);
            }
        }

        /**
         * Counts a relayed answer cut before its end ({@code cause}: the relay's failure) by whose doing it was: the
         * client's leaving ({@code client_aborted_total}) or the upstream's breaking it off ({@code
         * upstream_aborted_total}, by how). Not counted here: an exchange already ended otherwise (a 413), and a reader
         * that stopped reading ({@code client_read_timeouts_total}, counted as it is cut). On the failure path only.
         * The client's leaving is its own business: a debug line. The upstream's breaking it off is {@link #upstreamCut}.
         */
        void countCut(Throwable cause) {
            if (done || readerCut) {
                return;
            }
            long written = request.response().bytesWritten();
            if (clientLeft || request.response().closed() || !clientConnectionOpen(request)) {
                // the last: a write to a client that reset its connection fails the relay before Vert.x hears of the close
                clientAborted().inc();
                LOG.debug("{} left while the answer to {} {} was relayed, {} byte(s) of its body written: cut",
                        inbound ? "the client" : "the app", request.method(), request.path(), written);
                return;
            }
            String reason = abortReason(UnreadableAnswer.of(upstreamRequest, cause));
            upstreamAborted(reason).inc();
            upstreamCut(request, target, reason, written);
        }

        void tooLarge() {
            HttpServerResponse resp = request.response();
            if (!resp.headWritten()) {
                reject(request, 413, "request body larger than " + settings.maxRequestBodyBytes() + " bytes");
                finish(null, 413, "request body over the limit");
                return;
            }
            // the app's answer has begun: no 413 can be written, but the refusal is the sidecar's all the same
            rejected(413).inc();
            if (resp.ended()) {
                // The app's answer went out in full before the upload ended: Vert.x refuses to reset a response already
                // written, and the client could go on uploading; closing the connection is what stops the upload.
                request.connection().close();
            } else {
                cut(request);
            }
            finish(null, 413, "request body over the limit");
        }

        void fail(int status, Throwable cause) {
            if (done) {
                // the exchange ended first (the client left, a 413) and its reset failed the upstream: not the app failing
                return;
            }
            upstreamFailed(request, status, cause);
            sendError(request, status);
            finish(null, status, cause instanceof UnreadableAnswer
                    ? "answered with bytes that cannot be read as HTTP: " + cause.getMessage()
                    : cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }

        void finish(CapturedMessage response, int status, String error) {
            if (done) {
                return;
            }
            done = true;
            if (watchTimer >= 0) {
                vertx.cancelTimer(watchTimer);
                watchTimer = -1;
            }
            if (heldBody != null) {
                heldBody.drop(); // the body read before connecting, if it was not handed on
            }
            if (capturedRequest != null) {
                capturedRequest.body.freeze(); // an upload may still be streaming: its copy ends here
            }
            if (response != null) {
                response.body.freeze();
            }
            if (relayed != null && relayed != response) {
                // The exchange ends as the proxy's own answer while the app's was being relayed (a 413 for an upload
                // that outgrew the limit): that copy is handed to no one, so what it took goes back now.
                relayed.body.freeze();
                relayed.body.releaseBudget();
            }
            if (sink != null) {
                sink.completed(new Exchange(capturedRequest, response, status, startMillis, startNanos,
                        System.currentTimeMillis(), System.nanoTime(), error));
            }
        }
    }
}
