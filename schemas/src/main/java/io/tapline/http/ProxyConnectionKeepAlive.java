package io.tapline.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Keeps an HTTP/1.0 client's connection open when it asked its forward proxy for keep-alive with
 * {@code Proxy-Connection: keep-alive} and sent no {@code Connection} (what squid reads, and what HTTP/1.0 clients
 * configured with a proxy send): on the sidecar's egress, the app's forward proxy, and on the replay mock, which
 * stands for it. Vert.x decides whether a connection stays open from the head's {@code Connection} line alone, before
 * any request handler runs; this handler, between the decoder and Vert.x's handler, adds
 * {@code Connection: keep-alive} to such a head, and {@link #restore} takes the line out again as the request is
 * handled, so the request is read as the client sent it. Only heads in absolute form ({@link #absoluteForm}) are
 * read so: a named route's request is one to an origin, whose {@code Proxy-Connection} means nothing.
 */
public final class ProxyConnectionKeepAlive extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyConnectionKeepAlive.class);

    /** The headers of the heads given the line, until their request is handled (pipelined heads wait in Vert.x). */
    private final Set<Object> added = Collections.newSetFromMap(new IdentityHashMap<>());

    private ProxyConnectionKeepAlive() {
    }

    /**
     * Installs the handler on a new connection ({@code HttpServer.connectionHandler}, on its event loop).
     *
     * @param name the handler's name in the pipeline, the one {@link #restore} is given
     * @param client who the client is, for the warning when the handler cannot go in ({@code "app"})
     */
    public static void install(HttpConnection connection, String name, String client) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.VERTX_HANDLER);
        if (p == null) {
            LOG.warn("an HTTP/1.0 {}'s Proxy-Connection: keep-alive is not honoured on {}: not a Vert.x HTTP/1.x connection",
                    client, connection.getClass().getName());
            return;
        }
        p.addBefore(VertxPipeline.VERTX_HANDLER, name, new ProxyConnectionKeepAlive());
    }

    /**
     * Whether a request target is in absolute form, the form a client sends its forward proxy ({@code http://host/x};
     * not origin form, {@code /x}, nor {@code *}); a {@code CONNECT}'s authority form is the caller's to leave out.
     */
    public static boolean absoluteForm(String uri) {
        return !uri.isEmpty() && uri.charAt(0) != '/' && !uri.equals("*");
    }

    /**
     * Takes out the {@code Connection} line the handler named {@code name} added to {@code req}'s head, if it added
     * one.
     */
    public static void restore(HttpServerRequest req, String name) {
        if (req.version() != io.vertx.core.http.HttpVersion.HTTP_1_0) {
            return; // only HTTP/1.0 heads get the line: no pipeline lookup for the others
        }
        ChannelPipeline p = req.connection() == null ? null : VertxPipeline.of(req.connection());
        if (p != null && p.get(name) instanceof ProxyConnectionKeepAlive h && !h.added.isEmpty()
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
