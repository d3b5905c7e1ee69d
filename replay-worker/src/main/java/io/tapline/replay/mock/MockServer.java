package io.tapline.replay.mock;

import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;
import io.tapline.http.DotSegments;
import io.tapline.http.HeaderTokens;
import io.tapline.http.Http10KeepAlive;
import io.tapline.http.HttpUrl;
import io.tapline.http.InterimResponseFilter;
import io.tapline.http.MalformedRequests;
import io.tapline.http.MaxForwards;
import io.tapline.http.RequestHead;
import io.tapline.http.RequestTarget;
import io.tapline.http.StrayResponseBytes;
import io.tapline.http.UnreadableAnswer;
import io.tapline.http.UnrelayableAnswers;
import io.tapline.logging.PeriodicWarning;
import io.tapline.replay.compare.Bodies;
import io.tapline.replay.http.BoundedBody;
import io.tapline.replay.http.Closing;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.impl.NoStackTraceThrowable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The candidate's dependencies during replay. Accepts the sidecar's egress conventions: forward-proxy requests
 * ({@code GET http://host:port/path}, i.e. {@code HTTP_PROXY}) and named routes ({@code /inventory/items/1} for
 * {@code --mock-route inventory=...}; the path is the one the route forwards to, base path included, as the sidecar
 * records it: {@code /payments/v1/charges} is {@code /api/v1/charges} for
 * {@code --mock-route payments=http://pay:8080/api}). Each call is attributed to its case by the trace id of its
 * {@code traceparent} and answered from that case's recorded calls; an unmatched call gets the configured status
 * (502 by default); only hosts named by {@code --allow-live} are ever forwarded. {@code CONNECT} (TLS) is refused,
 * and an {@code https://} target in absolute form answered 400 as the sidecar answers it: replay does not intercept
 * TLS, so HTTPS dependencies must be reached over plain HTTP through named routes. A head or target the sidecar's
 * egress refuses ({@link RequestHead}'s head and target checks, a target in none of its forms, a request line or head
 * over {@link MockServerOptions#maxHeaderBytes}) is refused with the sidecar's status, and a {@code TRACE} or
 * {@code OPTIONS} the egress answers itself ({@link MaxForwards}) is answered as it answers it.
 */
public final class MockServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MockServer.class);
    public static final String MOCK_HEADER = "x-tapline-mock";
    private static final Set<String> NOT_REPLAYED = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "proxy-connection", "upgrade", "te", "trailer", "proxy-authenticate");
    /** The type of the mock's own answers (a line of text saying why). */
    private static final String TEXT = "text/plain; charset=utf-8";
    /** The pipeline names of the mock's handlers on a connection (the sidecar's have names of their own). */
    private static final String MALFORMED_REQUESTS = "tapline-mock-malformed-requests";
    private static final String HTTP10_KEEP_ALIVE = "tapline-mock-http10-keepalive";
    /** What the mock's 400 for a broken request body carries, as its other refusals. */
    private static final ReadOnlyHttpHeaders REFUSAL_HEADERS = new ReadOnlyHttpHeaders(true,
            MOCK_HEADER, "refused", HttpHeaderNames.CONTENT_TYPE, TEXT);
    private static final String TUNNEL_REFUSED =
            "tapline replay does not intercept TLS tunnels; route HTTPS dependencies through a named route\n";

    /**
     * How long the rest of a body answered 413 early is read and dropped before the connection is closed (nginx's
     * lingering close): closed at once, the client still sending it gets a reset, which drops the 413 on its side.
     */
    static final long LINGER_MS = 2000;
    /** Live calls that may wait for one of the 16 connections to their dependency; more are answered 502 at once. */
    static final int MAX_LIVE_WAITING = 1024;
    /** The --allow-live dependencies, as the warning about bytes past an answer names them (one for the process). */
    private static final StrayResponseBytes.Peers LIVE_DEPENDENCIES = new StrayResponseBytes.Peers("a live dependency");

    private final Vertx vertx;
    private final MockServerOptions options;
    private final MockRegistry registry;
    private final HttpServer server;
    private final HttpClientAgent liveClient;
    private final AtomicLong liveCalls = new AtomicLong();
    private final AtomicLong unnotedLiveFailures = new AtomicLong();
    /** The warning about live calls that failed with no case to note them on: at most one every 10 s, with a count. */
    private final PeriodicWarning unnotedLiveFailure = new PeriodicWarning(Duration.ofSeconds(10));
    /** The warning about recorded answers this server could not serve: at most one every 10 s, with a count. */
    private final PeriodicWarning unservable = new PeriodicWarning(Duration.ofSeconds(10));
    /**
     * Connections whose candidate said a request was its last, until they close: a request read behind it (pipelined
     * by a client that should not have sent it) is not served, as the sidecar's egress does not serve it either.
     */
    private final Set<HttpConnection> closing = ConcurrentHashMap.newKeySet();

    private MockServer(Vertx vertx, MockServerOptions options, MockRegistry registry, HttpServer server,
                       HttpClientAgent liveClient) {
        this.vertx = vertx;
        this.options = options;
        this.registry = registry;
        this.server = server;
        this.liveClient = liveClient;
    }

    /** Starts listening; the future completes once the port is bound. */
    public static Future<MockServer> start(Vertx vertx, MockServerOptions options, MockRegistry registry) {
        int liveTimeoutMs = (int) Math.min(Integer.MAX_VALUE, options.liveTimeout().toMillis());
        // a live answer's head may be as large as the sidecar's client for dependencies takes (4 times its head limit)
        int liveMaxHead = (int) Math.min(Integer.MAX_VALUE, 4L * Math.max(options.maxHeaderBytes(), 8192));
        HttpClientAgent live = vertx.httpClientBuilder()
                .with(new HttpClientOptions().setKeepAlive(true).setMaxHeaderSize(liveMaxHead)
                        // a live dependency that does not accept gives the call up when its case is given up, not after
                        // Vert.x's 60 s, holding the candidate's call and its body
                        .setConnectTimeout(liveTimeoutMs))
                .with(new PoolOptions().setHttp1MaxSize(16).setMaxWaitQueueSize(MAX_LIVE_WAITING))
                .withConnectHandler(connection -> {
                    // a 102 Processing is not taken for the answer, which is read after it and passed on
                    InterimResponseFilter.install(connection);
                    // bytes past an answer (a HEAD's with a body) close the connection: they failed the next live
                    // call on it
                    StrayResponseBytes.install(connection, LIVE_DEPENDENCIES);
                })
                .build();
        // The request line and head the sidecar's egress takes (its --proxy-max-header-bytes), rather than Vert.x's
        // 4096-byte request line and 8 KiB head: a longer line is answered 414, a larger head 431, as the sidecar
        // answers them (MalformedRequests), and noted on the case
        HttpServerOptions serverOptions = new HttpServerOptions().setHost(options.host()).setPort(options.port())
                .setMaxInitialLineLength(options.maxHeaderBytes()).setMaxHeaderSize(options.maxHeaderBytes())
                // HTTP/1.1 only, as the sidecar's egress listener: a client that asks for h2c (Java's HttpClient does
                // by default on an http:// URL) stays on the HTTP/1.1 it used in production
                .setHttp2ClearTextEnabled(false);
        HttpServer server = vertx.createHttpServer(serverOptions);
        MockServer[] holder = new MockServer[1];
        // the mock stands for the sidecar's egress, the candidate's forward proxy, and refuses what it refuses as it does
        server.invalidRequestHandler(MalformedRequests.invalidRequestHandler(
                (req, status, reason) -> refuseUnreadHead(registry, req, status, reason)));
        server.connectionHandler(conn -> {
            MalformedRequests.install(conn, serverOptions.getHttp1Config(), MALFORMED_REQUESTS, REFUSAL_HEADERS,
                    (head, status, reason) -> {
                        if (head != null) {
                            refused(registry, head.headers().get(TraceContext.TRACEPARENT), call(head), status, reason);
                        }
                    });
            Http10KeepAlive.install(conn, HTTP10_KEEP_ALIVE, "candidate", true);
        });
        server.requestHandler(req -> holder[0].handle(req));
        holder[0] = new MockServer(vertx, options, registry, server, live);
        return server.listen().map(s -> holder[0]);
    }

    public int port() {
        return server.actualPort();
    }

    public long liveCalls() {
        return liveCalls.get();
    }

    /**
     * Live calls that failed (answered 502 {@code live-failed}) with no case to note them on: no case could be found
     * for them, or their case's result was built before they failed. Each is warned about (at most a line every 10 s).
     */
    public long unnotedLiveFailures() {
        return unnotedLiveFailures.get();
    }

    private void handle(HttpServerRequest req) {
        // the head as the candidate sent it, before anything reads it
        Http10KeepAlive.restore(req, HTTP10_KEEP_ALIVE);
        HttpConnection connection = req.connection();
        if (closing.contains(connection)) {
            return; // behind the last request: never answered, the connection is closing
        }
        if (req.method() == HttpMethod.CONNECT) {
            refuseTunnel(req);
            return;
        }
        // what the sidecar's egress refuses is refused here too, with its status: in production it reached no dependency
        Target target;
        String badTarget = null;
        try {
            target = target(req);
        } catch (IllegalArgumentException e) {
            target = null;
            badTarget = "invalid request target: " + e.getMessage();
        }
        if (target != null && Http10KeepAlive.absoluteForm(req.uri()) && MaxForwards.answeredHere(req)) {
            answerAsFinalRecipient(req);
            return;
        }
        RequestHead.Refusal refusal = target == null ? null
                : RequestHead.check(req.headers(), req.version(), req.authority());
        if (refusal == null && target != null) {
            // a space or a control in a named route's target (/inventory/a<NUL>b), refused by the egress as by the
            // inbound listener; an absolute-form one failed target() already, as the egress's forward proxy fails it
            refusal = RequestHead.targetRefusal(req.method(), req.uri());
        }
        if (refusal != null) {
            refuseHead(req, refusal);
            return;
        }
        String contentLength = req.getHeader("content-length");
        if (contentLength != null && parseLong(contentLength) > options.maxBodyBytes()) {
            tooLarge(req);
            return;
        }
        if (lastRequest(req)) {
            lastOnItsConnection(req);
        }
        if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT)) && req.version() != HttpVersion.HTTP_1_0) {
            // the client waits for this before sending the body the answer is chosen by (RFC 9110 10.1.1)
            req.response().writeContinue();
        }
        Buffer body = Buffer.buffer();
        req.handler(chunk -> {
            if (body.length() + chunk.length() > options.maxBodyBytes()) {
                tooLarge(req); // which takes the request's handlers over: the rest is dropped, nothing is routed
            } else {
                body.appendBuffer(chunk);
            }
        });
        req.exceptionHandler(e -> log.debug("mock request failed: {}", e.toString()));
        Target routed = target;
        String refusedTarget = badTarget;
        req.endHandler(v -> {
            try {
                if (routed == null) {
                    refused(req, 400, refusedTarget);
                    text(req.response(), 400, "bad-target", refusedTarget);
                } else {
                    route(req, body, routed);
                }
            } catch (RuntimeException e) {
                // A bug here must not leave the candidate waiting: answer, and say why. The log names the method and
                // the stack, not the target: its path and query are the candidate's, unredacted (an api_key=, an email).
                log.error("mock failed to answer a {} request", req.method(), e);
                if (!req.response().ended()) {
                    text(req.response(), 500, "error", e.toString());
                }
            }
        });
    }

    /**
     * Closes {@code req}'s connection after its answer, which says {@code Connection: close}: the candidate said it is
     * its last. Vert.x closes only after a {@code Connection} line that is {@code close} alone, and never reads
     * {@code Proxy-Connection}. A request read behind it is not served.
     */
    private void lastOnItsConnection(HttpServerRequest req) {
        HttpConnection connection = req.connection();
        closing.add(connection);
        connection.closeHandler(v -> closing.remove(connection));
        req.response().putHeader(HttpHeaders.CONNECTION, "close").endHandler(v -> connection.close());
    }

    /**
     * Answers a {@code TRACE} or {@code OPTIONS} in absolute form with {@code Max-Forwards: 0} as the sidecar's egress
     * answers it, as its final recipient ({@link MaxForwards#answer}), before reading the head further (as the egress,
     * which makes its head checks only on a request it forwards), with {@code x-tapline-mock: final-recipient}. It
     * reached no dependency in production and was not recorded: it is neither matched nor noted. Its body, if any, is
     * not read; the connection stays open unless the candidate said the request is its last.
     */
    private void answerAsFinalRecipient(HttpServerRequest req) {
        if (lastRequest(req)) {
            lastOnItsConnection(req);
        }
        MaxForwards.Answer answer = MaxForwards.answer(req);
        HttpServerResponse resp = req.response().setStatusCode(200);
        resp.headers().addAll(answer.headers());
        resp.putHeader(MOCK_HEADER, "final-recipient").end(answer.body());
    }

    /**
     * Refuses a {@code CONNECT} (replay does not intercept TLS) with the unmatched status, or 502 when that is a 2xx
     * (which would tell the client its tunnel is open), and closes the connection after the answer, as the sidecar does
     * after a tunnel it does not open: what the client sent behind the head (a TLS ClientHello sent without waiting) is
     * not HTTP. The case the tunnel belongs to, when one can be told (its trace id, or the only case in flight), gets a
     * note saying so; a {@code CONNECT} carries no trace context of the calls inside it, so one without it is not taken
     * for a candidate that does not propagate.
     */
    private void refuseTunnel(HttpServerRequest req) {
        int status = options.unmatchedStatus() / 100 == 2 ? 502 : options.unmatchedStatus();
        CaseMocks mocks = registry.owner(TraceContext.traceIdOf(req.getHeader(TraceContext.TRACEPARENT)));
        if (mocks != null) {
            mocks.tunnelRefused(req.uri(), status);
        }
        req.response().setStatusCode(status).putHeader(MOCK_HEADER, "tunnel-refused").putHeader(HttpHeaders.CONTENT_TYPE, TEXT)
                .putHeader(HttpHeaders.CONNECTION, "close").end(TUNNEL_REFUSED);
        req.connection().close(); // now, before the bytes read behind the head are decoded as a request
    }

    /**
     * Answers a body over the limit 413 as soon as it is known, and closes the connection once the rest of
     * the body has ended or {@link #LINGER_MS} after the answer, whichever comes first, reading and dropping what
     * arrives meanwhile: the body may never end, and a client still sending it when the connection closed would get a
     * reset instead of the 413. The case the call belongs to, when one can be told, gets a note saying so: the call is
     * neither matched nor reported as a difference.
     */
    private void tooLarge(HttpServerRequest req) {
        CaseMocks mocks = registry.owner(TraceContext.traceIdOf(req.getHeader(TraceContext.TRACEPARENT)));
        if (mocks != null) {
            mocks.bodyTooLarge(req.method().name() + " " + RequestTarget.fromWire(req.uri()), options.maxBodyBytes());
        }
        // closed below, once the body ends or the linger passes: not at once, as a last request's answer would close it
        HttpServerResponse resp = req.response().setStatusCode(413).endHandler(null);
        req.handler(dropped -> { });
        resp.putHeader(HttpHeaders.CONNECTION, "close");
        long linger = vertx.setTimer(LINGER_MS, t -> req.connection().close());
        req.endHandler(v -> {
            vertx.cancelTimer(linger);
            req.connection().close();
        });
        resp.end();
    }

    /**
     * Refuses a head the sidecar's egress refuses ({@link RequestHead#check}, {@link RequestHead#targetRefusal}) with
     * its status, {@code Connection: close} and the connection closed after the answer, as the sidecar closes it: the
     * body is not read, and what follows the head is not read as a request. The case the call belongs to, when one can
     * be told, gets a note saying so.
     */
    private void refuseHead(HttpServerRequest req, RequestHead.Refusal refusal) {
        refused(req, refusal.status(), refusal.reason());
        HttpConnection connection = req.connection();
        closing.add(connection);
        connection.closeHandler(v -> closing.remove(connection));
        HttpServerResponse resp = req.response().putHeader(HttpHeaders.CONNECTION, "close");
        resp.endHandler(v -> connection.close());
        text(resp, refusal.status(), "refused", refusal.reason());
    }

    /** Notes a call refused as the sidecar refuses it on its case (by trace id, or as the only case in flight). */
    private void refused(HttpServerRequest req, int status, String reason) {
        refused(registry, req.getHeader(TraceContext.TRACEPARENT), req.method().name() + " " + RequestTarget.fromWire(req.uri()),
                status, reason);
    }

    private static void refused(MockRegistry registry, String traceparent, String call, int status, String reason) {
        CaseMocks mocks = registry.owner(TraceContext.traceIdOf(traceparent));
        if (mocks != null) {
            mocks.refused(call, status, reason);
        }
    }

    private static String call(HttpRequest head) {
        return head.method().name() + " " + RequestTarget.fromWire(head.uri());
    }

    /**
     * Answers a head the decoder refused ({@link MalformedRequests#invalidRequestHandler}) as the sidecar's listeners
     * answer it, notes it, and closes the connection; the decoder reads nothing after it.
     */
    private static void refuseUnreadHead(MockRegistry registry, HttpServerRequest req, int status, String reason) {
        // a head in another or a malformed HTTP version was read whole, and one whose fields are too large (431) up to
        // them: their request line names the call (the fields read before, a traceparent among them, are there). The
        // decoder's stand-in for any other head names nothing.
        refused(registry, req.getHeader(TraceContext.TRACEPARENT), status == 431 || MalformedRequests.versionRefused(req)
                ? req.method().name() + " " + RequestTarget.fromWire(req.uri()) : "with a head the decoder could not read",
                status, reason);
        req.response().setStatusCode(status).putHeader(MOCK_HEADER, "refused")
                .putHeader("Connection", "close").putHeader("Content-Type", TEXT)
                .end(reason + "\n").onComplete(done -> req.connection().close());
    }

    /**
     * Whether the candidate said this request is its connection's last, as the sidecar's egress reads it: {@code close}
     * among its {@code Connection} options ({@code Connection: TE, close}), or, for an absolute-form target (a request
     * to its forward proxy) without {@code Connection}, among its {@code Proxy-Connection} options, as squid reads them.
     */
    private static boolean lastRequest(HttpServerRequest req) {
        List<String> options = req.headers().getAll(HttpHeaders.CONNECTION);
        if (options.isEmpty() && !req.uri().startsWith("/") && !req.uri().equals("*")) {
            options = req.headers().getAll("proxy-connection");
        }
        return connectionNamed(options).contains("close");
    }

    private void route(HttpServerRequest req, Buffer body, Target target) {
        String traceId = TraceContext.traceIdOf(req.getHeader(TraceContext.TRACEPARENT));
        List<Header> headers = new ArrayList<>(req.headers().size());
        for (Map.Entry<String, String> h : req.headers()) {
            headers.add(new Header(h.getKey(), h.getValue()));
        }
        MockRequest call = new MockRequest(req.method().name(), target.destination, target.path, target.query,
                body.getBytes(), traceId, target.routeBase, req.getHeader(HttpHeaders.CONTENT_TYPE),
                req.getHeader(HttpHeaders.CONTENT_ENCODING), headers);
        if (target.liveHost != null && options.liveAllowed(target.liveHost)) {
            CaseMocks mocks = registry.find(traceId);
            if (mocks != null) {
                mocks.live(call);
            } else if (registry.finished(traceId)) {
                // A late call: its case was given up at its timeout (its slot freed) or has answered. What the
                // candidate still does for it reaches no real dependency, as for any other late call.
                unmatched(req.response(), "the case of trace id " + traceId + " has finished: a late call is not forwarded");
                return;
            }
            forwardLive(req, target, body, mocks);
            return;
        }
        CaseMocks mocks = registry.find(traceId);
        if (mocks == null) {
            unmatched(req.response(), "no case in flight has trace id " + traceId
                    + " (does the candidate propagate traceparent?)");
            return;
        }
        MockAnswer answer = mocks.answer(call);
        if (!answer.matched()) {
            unmatched(req.response(), "no recorded call of case " + mocks.caseId() + " matches " + call.describe()
                    + " (best score " + answer.score() + ")" + (target.unknownRoute == null ? ""
                    : "; no --mock-route is named '" + target.unknownRoute + "' (named routes: "
                    + String.join(", ", options.routes().keySet()) + "): declare it as the sidecar's --egress declared it"));
            return;
        }
        HttpResponse recorded = answer.recorded().getResponse();
        HttpServerResponse resp = req.response();
        // "truncated": the recorded body was cut at capture and is served cut (the case's result says so too)
        resp.putHeader(MOCK_HEADER, "matched score=" + answer.score()
                + (recorded != null && recorded.getTruncated() ? " truncated" : ""));
        if (recorded == null) {
            String error = answer.recorded().getError();
            text(resp, options.unmatchedStatus(), "recorded-error", "recorded call failed: "
                    + (error == null ? "no response" : error));
            return;
        }
        try {
            serve(req, resp, recorded);
        } catch (RuntimeException e) {
            // A recording this server refuses to write (a header name with a space, a value with a control character, a
            // negative status): the candidate gets a 500 error, as for any failure to answer, and the case's result
            // says why its answer to that may differ. The recording's fault, not the mock's: no stack trace.
            mocks.notServed(req.method().name() + " " + RequestTarget.fromWire(req.uri()), e.toString());
            resp.headers().clear(); // none of the recording's that were taken goes with the 500
            long due = unservable.occurred();
            if (due > 0) {
                // the method, not the target: its path and query are the candidate's, unredacted
                log.warn("the mock could not serve the recorded answer a {} call matched, and answered 500 error: {} ({}"
                        + " such call(s) since the last warning, each noted on its case)", req.method(), e, due);
            }
            if (!resp.ended()) {
                text(resp, 500, "error", e.toString());
            }
        }
    }

    /** Serves {@code recorded}, the recording {@code req} matched, on {@code resp}. */
    private static void serve(HttpServerRequest req, HttpServerResponse resp, HttpResponse recorded) {
        resp.setStatusCode(recorded.getStatus());
        boolean bodiless = bodiless(req, recorded.getStatus());
        boolean encodingHeader = Bodies.sendsContentEncodingHeader(recorded.getContentEncoding());
        List<String> connection = new ArrayList<>();
        for (Header h : recorded.getHeaders()) {
            if (h.getName().equalsIgnoreCase("connection")) {
                connection.add(h.getValue());
            }
        }
        Set<String> hopOnly = connectionNamed(connection);
        for (Header h : recorded.getHeaders()) {
            if (replayed(h.getName(), bodiless, hopOnly)
                    && (encodingHeader || !h.getName().equalsIgnoreCase("content-encoding"))) {
                resp.headers().add(h.getName(), h.getValue());
            }
        }
        resp.end(bodiless ? Buffer.buffer() : Buffer.buffer(Bodies.bytes(recorded.getBody())));
    }

    /** An answer without a body: to a HEAD request, or a 304. */
    private static boolean bodiless(HttpServerRequest req, int status) {
        return req.method() == HttpMethod.HEAD || status == 304;
    }

    /**
     * Whether a recorded (or live) response header is served. Framing and hop-by-hop headers are not (those its
     * {@code Connection} names, {@code hopOnly}, included: the sidecar did not relay them to the app), except the
     * Content-Length of a bodiless answer: that is the representation's length (RFC 9110 §8.6), served as recorded;
     * any other answer's is the length of the body served, which the server sets.
     */
    private static boolean replayed(String name, boolean bodiless, Set<String> hopOnly) {
        String n = name.toLowerCase(Locale.ROOT);
        return !NOT_REPLAYED.contains(n) && !hopOnly.contains(n) || (bodiless && n.equals("content-length"));
    }

    /**
     * The header names the {@code Connection} lines of a message name, lower case: for its hop only (RFC 9110 7.6.1), so
     * not passed on, as the sidecar passes neither a dependency's to the app nor the app's to a dependency.
     * {@code Content-Length} is never among them: it frames the message.
     */
    private static Set<String> connectionNamed(Iterable<String> connectionValues) {
        Set<String> named = HeaderTokens.lowerCase(connectionValues);
        named.remove("content-length");
        return named;
    }

    /**
     * Ends {@code resp} with the mock's own answer: {@code status}, {@code x-tapline-mock: kind} and {@code why} as one
     * line of UTF-8 text, said so (it may quote a call's path, raw UTF-8 included), so the candidate's client logs it
     * readable rather than guessing its charset.
     */
    private static void text(HttpServerResponse resp, int status, String kind, String why) {
        resp.setStatusCode(status).putHeader(MOCK_HEADER, kind).putHeader(HttpHeaders.CONTENT_TYPE, TEXT)
                .end(why + "\n");
    }

    private void unmatched(HttpServerResponse resp, String why) {
        text(resp, options.unmatchedStatus(), "unmatched", why);
    }

    /**
     * Forwards the call to its live dependency, and passes its answer on once read whole; a call that fails is answered
     * 502 {@code live-failed} saying why, and noted on {@code mocks}, its case's (null when it has none). So is an
     * answer the candidate would read wrong if passed on ({@link UnrelayableAnswers}: a transfer coding other than
     * chunked alone, a status code that is not three digits), as the sidecar's egress answers the app 502 for it.
     */
    private void forwardLive(HttpServerRequest req, Target target, Buffer body, CaseMocks mocks) {
        liveCalls.incrementAndGet();
        long timeoutMs = liveTimeoutMillis(mocks);
        // the path is already the dependency's (a named route's base path in front), as the sidecar forwards it
        String pathAndQuery = target.path + (target.query == null ? "" : "?" + target.query);
        RequestOptions ro = new RequestOptions().setMethod(req.method()).setHost(target.liveHost)
                .setPort(target.livePort).setURI(pathAndQuery)
                // the wait for a pooled connection too
                .setConnectTimeout(timeoutMs);
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        // headers the Connection header names are for this hop only (RFC 9110 7.6.1), as the sidecar treats them
        Set<String> hopOnly = connectionNamed(req.headers().getAll(HttpHeaders.CONNECTION));
        req.headers().forEach(e -> {
            String n = e.getKey().toLowerCase(Locale.ROOT);
            // Proxy-Authorization is the candidate's credential for its proxy, which the mock stands in for: the
            // sidecar never passed it on either; nor an Expect, which the mock has answered (as the sidecar does), the
            // body being sent whole
            if (!NOT_REPLAYED.contains(n) && !n.equals("host") && !n.equals("proxy-authorization") && !n.equals("expect")
                    && !hopOnly.contains(n)) {
                headers.add(e.getKey(), e.getValue());
            }
        });
        ro.setHeaders(headers);
        // The live request, once there is one; given up (reset, which closes its connection) when the candidate's
        // connection closes first (its case timed out, say), so a dependency that never answers holds nothing for long.
        AtomicReference<HttpClientRequest> live = new AtomicReference<>();
        // the status of the live answer once its head is read: a failure after it broke the answer's body
        AtomicInteger answered = new AtomicInteger();
        AtomicBoolean givenUp = new AtomicBoolean();
        String call = req.method().name() + " " + RequestTarget.fromWire(req.uri());
        Consumer<String> failed = why -> {
            // the case's result says why the candidate got a 502, not only "live"; with no case to say it, the log does
            if (liveFailed(req, givenUp, why) && (mocks == null || !mocks.liveFailed(call, why))) {
                noCaseToNote(req.method().name(), call, target, mocks, why);
            }
        };
        req.response().closeHandler(v -> {
            givenUp.set(true);
            HttpClientRequest r = live.get();
            if (r != null) {
                r.reset();
            }
        });
        // A live call's whole answer is due within the request timeout, and before its case's deadline
        // (liveTimeoutMillis): its case is given up by then anyway, and a dependency that takes the call and never
        // answers (or trickles its answer) would otherwise hold the call and its body for as long as the candidate waits.
        long deadline = vertx.setTimer(timeoutMs, t -> {
            failed.accept("the live dependency did not answer within " + timeoutMs + " ms");
            HttpClientRequest r = live.get();
            if (r != null) {
                r.reset(); // after the answer above, as the failure it brings answers only what is still open
            }
        });
        liveClient.request(ro)
                .compose(r -> {
                    live.set(r);
                    if (givenUp.get() || req.response().ended()) {
                        r.reset();
                        return Future.failedFuture("the candidate closed its connection, or the deadline passed,"
                                + " before the live call was sent");
                    }
                    return r.send(body);
                })
                .compose(r -> {
                    answered.set(r.statusCode());
                    String unrelayable = UnrelayableAnswers.why(r);
                    if (unrelayable != null) {
                        // Served on, the candidate would read it wrong: a transfer coding's bytes as the body (the mock
                        // serves the body it read with a Content-Length), a status line it cannot parse. Its framing is
                        // not to be trusted either: the connection is not reused. As the sidecar's egress answers the app.
                        r.request().connection().close();
                        return Future.failedFuture("the live dependency's answer cannot be passed on: " + unrelayable);
                    }
                    return BoundedBody.read(live.get(), r, options.maxBodyBytes(), "the live dependency").map(b -> {
                        if (req.response().ended()) {
                            return null; // answered 502 at the deadline meanwhile
                        }
                        HttpServerResponse resp = req.response().setStatusCode(r.statusCode());
                        boolean bodiless = bodiless(req, r.statusCode());
                        Set<String> answerHopOnly = connectionNamed(r.headers().getAll(HttpHeaders.CONNECTION));
                        r.headers().forEach(e -> {
                            if (replayed(e.getKey(), bodiless, answerHopOnly)) {
                                resp.headers().add(e.getKey(), e.getValue());
                            }
                        });
                        resp.putHeader(MOCK_HEADER, "live");
                        return resp.end(b);
                    });
                })
                .onComplete(done -> vertx.cancelTimer(deadline))
                .onFailure(e -> failed.accept(liveFailure(live.get(), answered.get(), e)));
    }

    /**
     * How long a live call of the case of {@code mocks} may take, from now to its whole answer: the live timeout (the
     * request timeout), and no later than {@link #liveMarginMillis} before the case's deadline ({@link CaseMocks#dueBy}),
     * at least 1 ms. The live call starts after its case's request, so its own timeout ended after the case's: the case
     * was given up first, and the call's failure came after its result was built, where no note of it was read; the
     * candidate, waiting for the call, could not answer in time either. A call of no case has the live timeout.
     */
    private long liveTimeoutMillis(CaseMocks mocks) {
        long ms = options.liveTimeout().toMillis();
        long deadline = mocks == null ? 0 : mocks.deadlineNanos();
        if (deadline != 0) {
            long left = (deadline - System.nanoTime()) / 1_000_000 - liveMarginMillis(options.liveTimeout());
            ms = Math.max(1, Math.min(ms, left));
        }
        return ms;
    }

    /**
     * How long before its case's deadline a live call's answer is due: a tenth of the request timeout ({@code
     * liveTimeout}), at most 1 s. Time for the candidate to answer with the 502 it got, and for the failure to be noted
     * before the case's result is built, which happens on another event loop.
     */
    private static long liveMarginMillis(Duration liveTimeout) {
        return Math.min(1000, liveTimeout.toMillis() / 10);
    }

    /**
     * A live call that failed (the candidate got the 502 {@code live-failed}) with no case to note it on: one the mock
     * found no case for ({@code mocks} null: no known trace id and not the only case in flight), or one whose case's
     * result was built before it failed (its case gave it up at its timeout, or answered without waiting for it).
     * Counted ({@link #unnotedLiveFailures}) and warned about, naming the dependency, the method and why, at most once
     * every 10 s with the count since the last warning; the call's target is written at debug only, being the
     * candidate's own, unredacted (an {@code api_key=}, an email), as the sidecar's warnings leave it out too.
     */
    private void noCaseToNote(String method, String call, Target target, CaseMocks mocks, String why) {
        unnotedLiveFailures.incrementAndGet();
        String dependency = target.liveHost + ":" + target.livePort;
        String whose = mocks == null ? "no case could be found for it (does the candidate propagate traceparent?)"
                : "case " + mocks.caseId() + "'s result was built before it failed";
        long due = unnotedLiveFailure.occurred();
        if (due > 0) {
            log.warn("a live call {} to {} failed and is noted on no case: {}; the candidate got 502 live-failed: {} ({}"
                    + " such call(s) since the last warning; each call's target at debug)", method, dependency, whose,
                    why, due);
        }
        log.debug("the live call {} to {} failed and is noted on no case: {}; the candidate got 502 live-failed: {}",
                call, dependency, whose, why);
    }

    /**
     * Why a live call failed, as its 502 and its case's note say, in words: an answer that cannot be read as HTTP is
     * said to be one, with what the decoder found; a failure of the mock's own making (a body over the limit) by its
     * message; a connection that could not be had ({@code live} null: refused, not accepted in time, the wait for one
     * given up), a connection that ended before an answer, and an answer that broke after its head ({@code status}, 0
     * before it) are each said so, with the failure's message where the connection was not simply closed.
     */
    private static String liveFailure(HttpClientRequest live, int status, Throwable e) {
        if (UnreadableAnswer.of(live, e) instanceof UnreadableAnswer unreadable) {
            return "the live dependency answered with bytes that cannot be read as HTTP: " + unreadable.getMessage();
        }
        if (e instanceof NoStackTraceThrowable) {
            return e.getMessage();
        }
        // Vert.x's for a close, or the decoder's for one part way through a head
        boolean closed = e instanceof HttpClosedException || e instanceof PrematureChannelClosureException;
        if (status > 0) {
            return "the live dependency answered " + status + ", then " + (closed ? "closed the connection"
                    : "its connection failed (" + message(e) + ")") + " before the end of its body";
        }
        if (live == null) {
            return "no connection to the live dependency: " + message(e);
        }
        return closed ? "the live dependency closed the connection before it answered"
                : "the live dependency did not answer: " + message(e);
    }

    /** A failure's message, or its kind when it has none. */
    private static String message(Throwable e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Answers a live call that failed 502 {@code live-failed}, unless it was answered or the candidate left; true when
     * it answered it so.
     */
    private static boolean liveFailed(HttpServerRequest req, AtomicBoolean givenUp, String why) {
        if (!req.response().ended() && !givenUp.get()) {
            text(req.response(), 502, "live-failed", why);
            return true;
        }
        return false;
    }

    /**
     * Where a call goes, as the sidecar's egress listener would send it: a forward-proxy absolute URI is that host's
     * path; {@code /NAME/rest} on a named route is the route's base path followed by {@code /rest} ({@code /} when
     * nothing follows the name), the request the dependency received and the sidecar recorded; one whose dot segments
     * climb above the base path is refused, as the sidecar refuses it ({@link DotSegments}).
     */
    private Target target(HttpServerRequest req) {
        // as the sidecar read it: the text whose UTF-8 is the bytes the candidate sent, as the sidecar recorded the call
        String uri = RequestTarget.fromWire(req.uri());
        if (uri.regionMatches(true, 0, "https://", 0, 8)) {
            // answered as the sidecar answers it: the client asked for TLS, and its request sent on as plain HTTP (to
            // an --allow-live host) would cross the network in the clear
            throw new IllegalArgumentException("an https:// target is not forwarded in plain text and TLS is not"
                    + " intercepted; route HTTPS dependencies through a named route over plain HTTP");
        }
        if (uri.regionMatches(true, 0, "http://", 0, 7)) {
            HttpUrl u = HttpUrl.parse(uri); // as the sidecar's egress read it when it recorded the call
            // OPTIONS for the whole server (no path, no query) is OPTIONS * to the dependency (RFC 9112 3.2.4), as the
            // sidecar forwarded and recorded it
            boolean wholeServer = req.method() == HttpMethod.OPTIONS && u.rawPath().isEmpty() && u.rawQuery() == null;
            String path = wholeServer ? "*" : u.rawPath().isEmpty() ? "/" : u.rawPath();
            return new Target(u.authority(), path, "", u.rawQuery(), u.host(), u.port(), null);
        }
        if (!uri.startsWith("/")) {
            // another scheme (ftp://...), or a target in no form a proxy takes: the sidecar's egress answers it 400
            // (asterisk-form is OPTIONS of a server, which the egress is not)
            throw new IllegalArgumentException("the sidecar's egress takes http:// targets, CONNECT host:port for TLS, or"
                    + " /ROUTE/path for a named route; got " + (uri.length() > 80 ? uri.substring(0, 80) + "..." : uri));
        }
        String path = RequestTarget.fromWire(req.path());
        String query = req.query() == null ? null : RequestTarget.fromWire(req.query());
        int second = path.indexOf('/', 1);
        String first = second < 0 ? path.substring(1) : path.substring(1, second);
        HttpUrl route = options.routes().get(first);
        if (route != null) {
            String rest = second < 0 ? "/" : path.substring(second);
            if (DotSegments.climb(rest)) {
                // refused by the sidecar's egress (400): it reached no dependency and was not recorded
                throw new IllegalArgumentException("the target climbs out of egress route '" + first
                        + "' with a dot segment (..)");
            }
            String base = route.basePath();
            return new Target(first, base + rest, base, query, route.host(), route.port(), null);
        }
        // Without the route's URL its base path is unknown, so is the path the dependency received: nothing matches.
        return new Target("unknown", path, "", query, null, 0, first.isEmpty() ? null : first);
    }

    /**
     * @param path         the path as the dependency receives it
     * @param routeBase    the named route's base path, which {@code path} starts with ({@code ""} if none)
     * @param unknownRoute the first path segment when it names no route (the call is dependency {@code unknown})
     */
    private record Target(String destination, String path, String routeBase, String query, String liveHost,
                          int livePort, String unknownRoute) {
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Closes the listener, then the live client, each waited for up to {@link Closing#TIMEOUT} (then given up). */
    @Override
    public void close() {
        Closing.await(server.close(), Closing.TIMEOUT, "the dependency mock's listener");
        Closing.await(liveClient.close(), Closing.TIMEOUT, "the dependency mock's client for live calls");
    }
}
