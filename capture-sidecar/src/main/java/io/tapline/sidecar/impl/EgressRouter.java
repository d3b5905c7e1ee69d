package io.tapline.sidecar.impl;

import io.tapline.avro.CallKind;
import io.tapline.http.DotSegments;
import io.tapline.http.Http10KeepAlive;
import io.tapline.http.HttpUrl;
import io.tapline.http.MalformedRequests;
import io.tapline.http.MaxForwards;
import io.tapline.http.RequestHead;
import io.tapline.http.RequestTarget;
import io.tapline.sidecar.SidecarOptions.EgressRoute;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The egress listener: the app's outbound HTTP comes here.
 * <ul>
 *   <li>{@code /NAME/rest} for a configured route NAME goes to that route's URL + {@code /rest}, unless a dot segment
 *       in {@code rest} climbs above it ({@link DotSegments}: 400);</li>
 *   <li>an absolute-form target ({@code GET http://host:port/path}, what HTTP_PROXY clients send) is forwarded
 *       to that host, as a forward proxy does: {@code Proxy-Connection} stands for a missing {@code Connection}, and
 *       a TRACE's or OPTIONS's {@code Max-Forwards} is decremented, or answered here at 0 (RFC 9110 7.6.2);</li>
 *   <li>{@code CONNECT host:port} is tunneled byte for byte ({@link Tunnel}: half-close, idle timeout): TLS is not
 *       intercepted, the call is recorded as an opaque TUNNEL with host, timing and byte counts only.</li>
 * </ul>
 */
public final class EgressRouter {

    private final ProxyEngine engine;
    private final CaptureHub hub;
    private final NetClient netClient;
    private final Map<String, EgressRoute> routes;

    /** @param engine also splices CONNECT tunnels, with its tunnel idle timeout */
    public EgressRouter(ProxyEngine engine, CaptureHub hub, NetClient netClient, List<EgressRoute> routes) {
        this.engine = engine;
        this.hub = hub;
        this.netClient = netClient;
        this.routes = routes.stream().collect(Collectors.toUnmodifiableMap(EgressRoute::name, Function.identity()));
    }

    public void handle(HttpServerRequest req) {
        Http10KeepAlive.restore(req, ProxyEngine.HTTP10_KEEP_ALIVE); // the head as the app sent it, before anything reads it
        if (!MalformedRequests.admit(req.connection(), ProxyEngine.MALFORMED_REQUESTS, false)) {
            return; // read behind a refused or last request (see ProxyEngine.proxy)
        }
        if (req.method() == HttpMethod.CONNECT) {
            tunnel(req);
            return;
        }
        String uri = RequestTarget.fromWire(req.uri()); // the bytes the app sent (converted once: not idempotent)
        if (uri.regionMatches(true, 0, "http://", 0, 7)) {
            forward(req, uri);
            return;
        }
        if (uri.regionMatches(true, 0, "https://", 0, 8)) {
            refuse(req, 400, "https:// targets must use CONNECT (TLS is tunneled, not intercepted)\n");
            return;
        }
        if (!uri.startsWith("/")) {
            // another scheme (ftp://...) or a target in no form a proxy takes (asterisk-form belongs to OPTIONS of a server)
            refuse(req, 400, "egress takes http:// targets, CONNECT host:port for TLS, or /ROUTE/path for a named route; got "
                    + (uri.length() > 80 ? uri.substring(0, 80) + "..." : uri) + "\n");
            return;
        }
        String path = req.path() == null ? "/" : RequestTarget.fromWire(req.path()); // a prefix of uri, as converted
        int slash = path.indexOf('/', 1);
        String name = slash < 0 ? path.substring(1) : path.substring(1, slash);
        EgressRoute route = routes.get(name);
        if (route == null) {
            refuse(req, 404, "no egress route named '" + name + "'; routes: " + String.join(", ", routes.keySet()) + "\n");
            return;
        }
        String rest = uri.substring(1 + name.length());
        if (rest.isEmpty() || rest.charAt(0) == '?') {
            rest = "/" + rest;
        } else if (DotSegments.climb(rest)) {
            // /NAME/../x would be BASE/../x: out of the route's base path at a dependency that resolves dot segments,
            // and recorded as a path it did not serve. Those that stay below it are forwarded as sent (DotSegments).
            refuse(req, 400, "the target climbs out of egress route '" + name + "' with a dot segment (..)\n");
            return;
        }
        // A named route is the app's origin, as the inbound listener is the client's: Max-Forwards is the dependency's
        // to read (nginx forwards it unchanged too)
        engine.proxy(req, ProxyEngine.Target.dependency(route.host(), route.port(), route.basePath() + rest), hub.outbound(route.name()));
    }

    private void forward(HttpServerRequest req, String absolute) {
        HttpUrl u;
        try {
            u = HttpUrl.parse(absolute);
        } catch (IllegalArgumentException e) {
            refuse(req, 400, "invalid request target: " + e.getMessage() + "\n");
            return;
        }
        String maxForwards = null;
        if (MaxForwards.read(req.method())) {
            long hops = MaxForwards.value(req.headers().getAll(MaxForwards.HEADER));
            if (hops == 0) {
                answerAsFinalRecipient(req);
                return;
            }
            if (hops > 0) {
                maxForwards = Long.toString(hops - 1);
            }
        }
        // RFC 9112 3.2.4: OPTIONS for an absolute-form target without path or query asks about the server as a whole,
        // which the last proxy asks the origin as "OPTIONS *" ("/" would ask about the resource at /)
        boolean wholeServer = req.method() == HttpMethod.OPTIONS && u.rawPath().isEmpty() && u.rawQuery() == null;
        // The dependency gets the host as the app wrote it; the call is recorded under its destination, the host in
        // lower case (HttpUrl#authority: LOCALHOST:8080 is the dependency localhost:8080 is)
        engine.proxy(req, ProxyEngine.Target.dependency(u.host(), u.port(), wholeServer ? "*" : u.pathAndQuery()),
                hub.outbound(u.authority()), new ProxyEngine.ProxyHop(true, maxForwards));
    }

    /**
     * A TRACE or OPTIONS with {@code Max-Forwards: 0} is not forwarded; the egress answers it as the final recipient
     * ({@link MaxForwards#answer}). It reached no dependency: it is not recorded as a call.
     */
    private void answerAsFinalRecipient(HttpServerRequest req) {
        MaxForwards.Answer answer = MaxForwards.answer(req);
        engine.answer(req, lastRequest(req), 200, answer.headers(), answer.body());
    }

    private void tunnel(HttpServerRequest req) {
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        String target = req.uri();
        // authority-form, host and port both required (RFC 9112 §3.2.3): a CONNECT without a port is malformed, not
        // a request for 443
        HttpUrl u;
        try {
            u = target.chars().anyMatch(c -> "/?#@".indexOf(c) >= 0) ? null : HttpUrl.parse("http://" + target);
        } catch (IllegalArgumentException e) {
            u = null;
        }
        if (u == null || !u.portGiven()) {
            // closed after the answer: what follows a CONNECT head is not read as a request (ConnectEarlyData)
            engine.rejected(400).inc();
            ProxyEngine.answerAndClose(req, 400, "CONNECT target must be host:port");
            return;
        }
        // The head checks of any request (ProxyEngine.proxy): an HTTP/1.1 CONNECT without Host, with two Host lines or
        // an invalid one is refused (RFC 9112 §3.2), as is a field without a name. A Host naming another authority than
        // the target is not: the target alone says where the tunnel goes (squid, by default, checks neither against the
        // other for a forward proxy), and some clients name the proxy there.
        RequestHead.Refusal refusal = RequestHead.check(req.headers(), req.version(), req.authority());
        if (refusal != null) {
            engine.rejected(refusal.status()).inc();
            ProxyEngine.answerAndClose(req, refusal.status(), refusal.reason());
            return;
        }
        String host = u.host();
        int port = u.port();
        engine.countProxied(); // as every call it counts in outbound_calls_total or outbound_sampled_out_total
        CaptureHub.Attributed attributed = hub.beginTunnel(req.headers().get(TraceContext.HEADER)); // null: not captured
        CapturedMessage head = CapturedMessage.request("CONNECT", "tcp", host + ":" + port, "", null,
                CapturedMessage.headers(req.headers()), BodyTap.empty());
        String destination = u.authority(); // the host in lower case, as a forward-proxied call's (HttpUrl#authority)
        req.pause();
        // an IPv6 literal is dialled without its brackets
        String dial = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        netClient.connect(port, dial).onComplete(ar -> {
            if (ar.failed()) {
                req.resume();
                int status = ProxyEngine.statusFor(ar.cause()); // 504 when the connect timed out, as for any request
                engine.upstreamErrors(status).inc();
                ProxyEngine.answerAndClose(req, status, (status == 504 ? "timed out connecting to " : "cannot connect to ") + target);
                if (attributed != null) {
                    hub.attachTunnel(attributed, tunnelCall(destination, head, status, startMillis, startNanos, 0, 0,
                            ar.cause().toString()));
                }
                return;
            }
            NetSocket upstream = ar.result();
            upstream.pause(); // what the target sends first waits for the splice
            engine.spliceTo(req, upstream, attributed == null ? t -> { } : t -> hub.attachTunnel(attributed,
                    tunnelCall(destination, head, 200, startMillis, startNanos, t.bytesUp(), t.bytesDown(), null)));
        });
    }

    private OutboundCapture tunnelCall(String destination, CapturedMessage head, int status, long startMillis, long startNanos,
                                       long up, long down, String error) {
        Exchange ex = new Exchange(head, CapturedMessage.response(status, List.of(), BodyTap.empty()), status, startMillis, startNanos,
                System.currentTimeMillis(), System.nanoTime(), error);
        return new OutboundCapture(destination, CallKind.TUNNEL, ex, null, up, down);
    }

    /**
     * Whether the app said this request is its last on the connection, for the egress's own answers (a proxied request
     * is judged by {@link ProxyEngine#proxy}): to a forward proxy (a target in absolute form), Proxy-Connection stands
     * for a missing Connection.
     */
    private static boolean lastRequest(HttpServerRequest req) {
        return HopByHop.lastRequest(req.version(),
                HopByHop.connectionOptions(req.headers(), Http10KeepAlive.absoluteForm(req.uri())));
    }

    /**
     * Answers a request the egress cannot take (a target in no form it serves, a route it does not have), counted with
     * the proxy's other refusals; the connection stays open, as the head was read whole and its body is discarded
     * (unless the app said the request is its last, or the sidecar is draining: {@link ProxyEngine#answer}).
     */
    private void refuse(HttpServerRequest req, int status, String body) {
        engine.rejected(status).inc();
        engine.answer(req, lastRequest(req), status, MultiMap.caseInsensitiveMultiMap().set(HttpHeaders.CONTENT_TYPE, "text/plain"),
                Buffer.buffer(body));
    }
}
