package io.tapline.replay.mock;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.tapline.http.HeaderTokens;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Keeps an HTTP/1.0 candidate's connection open when it asked its forward proxy for keep-alive with
 * {@code Proxy-Connection: keep-alive} and sent no {@code Connection}, as the sidecar's egress does (and squid).
 * Vert.x decides whether a connection stays open from the head's {@code Connection} line alone, before any request
 * handler runs; this handler, between the decoder and Vert.x's handler, adds {@code Connection: keep-alive} to such a
 * head, and {@link #restore} takes the line out again as the request is handled, so the call is read as the candidate
 * sent it. Only heads in absolute form are read so: a named route's request is one to an origin, whose
 * {@code Proxy-Connection} means nothing.
 */
final class ProxyConnectionKeepAlive extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ProxyConnectionKeepAlive.class);
    static final String NAME = "tapline-mock-proxy-connection";
    /** The Vert.x handler behind a server connection's codec, which this handler goes in front of. */
    private static final String VERTX_HANDLER = "handler";

    /** The headers of the heads given the line, until their request is handled (pipelined heads wait in Vert.x). */
    private final Set<Object> added = Collections.newSetFromMap(new IdentityHashMap<>());

    private ProxyConnectionKeepAlive() {
    }

    /** Installs the handler on a new connection ({@code HttpServer.connectionHandler}, on its event loop). */
    static void install(HttpConnection connection) {
        ChannelPipeline p = pipeline(connection);
        if (p == null || p.get(VERTX_HANDLER) == null) {
            log.warn("an HTTP/1.0 candidate's Proxy-Connection: keep-alive is not honoured on {}: not a Vert.x HTTP/1.x"
                    + " connection", connection.getClass().getName());
            return;
        }
        p.addBefore(VERTX_HANDLER, NAME, new ProxyConnectionKeepAlive());
    }

    private static ChannelPipeline pipeline(HttpConnection connection) {
        return connection instanceof ConnectionBase c ? c.channelHandlerContext().pipeline() : null;
    }

    /**
     * Whether a request target is in absolute form, the form a client sends its forward proxy ({@code http://host/x};
     * not origin form, {@code /x}, nor {@code *}); a {@code CONNECT}'s authority form is the caller's to leave out.
     */
    static boolean absoluteForm(String uri) {
        return !uri.isEmpty() && uri.charAt(0) != '/' && !uri.equals("*");
    }

    /** Takes out the {@code Connection} line this handler added to {@code req}'s head, if it added one. */
    static void restore(HttpServerRequest req) {
        if (req.version() != io.vertx.core.http.HttpVersion.HTTP_1_0) {
            return; // only HTTP/1.0 heads get the line: no pipeline lookup for the others
        }
        ChannelPipeline p = req.connection() == null ? null : pipeline(req.connection());
        if (p != null && p.get(NAME) instanceof ProxyConnectionKeepAlive h && !h.added.isEmpty()
                && h.added.remove(req.headers())) {
            req.headers().remove(HttpHeaderNames.CONNECTION);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r && r.decoderResult().isSuccess() && r.protocolVersion() == HttpVersion.HTTP_1_0
                && r.method() != HttpMethod.CONNECT && absoluteForm(r.uri())) {
            HttpHeaders h = r.headers();
            // Vert.x hands the request handler this very headers object (it is its own MultiMap), so it is found again
            if (h instanceof MultiMap m && !h.contains(HttpHeaderNames.CONNECTION)
                    && HeaderTokens.lowerCase(m.getAll("proxy-connection")).contains("keep-alive")) {
                h.set(HttpHeaderNames.CONNECTION, "keep-alive");
                added.add(h);
            }
        }
        ctx.fireChannelRead(msg);
    }
}
