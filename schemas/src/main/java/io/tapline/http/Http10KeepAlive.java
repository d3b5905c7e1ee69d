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

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes Vert.x read an HTTP/1.0 client's keep-alive as RFC 9112 §9.3 reads it, and as the sidecar's listeners and the
 * replay mock read it: the connection persists when {@code keep-alive} is among the {@code Connection} options (a
 * list, any case: {@code Connection: keep-alive, x-trace}) and {@code close} is not; for a request to a forward proxy
 * without {@code Connection}, among the {@code Proxy-Connection} options (what squid reads, and what HTTP/1.0 clients
 * configured with a proxy send). Vert.x decides whether a connection stays open from the head alone, before any
 * request handler runs, and reads only a {@code Connection} line that is {@code keep-alive} exactly: before, it closed
 * the connection after the answer to {@code keep-alive, x-trace} while the proxy read the request as not the last.
 * This handler, between the decoder and Vert.x's handler, gives such a head the one {@code Connection} line Vert.x
 * reads as the client meant ({@code keep-alive}, or {@code close} for {@code Connection: keep-alive} with
 * {@code Connection: close}), and {@link #restore} puts the head back as the client sent it, lines in their order, as
 * the request is handled, so that it is read, forwarded and recorded unchanged.
 */
public final class Http10KeepAlive extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(Http10KeepAlive.class);

    /** The heads changed, with their lines as sent, until their request is handled (pipelined heads wait in Vert.x). */
    private final Map<Object, List<Map.Entry<String, String>>> changed = new IdentityHashMap<>();
    private final boolean forwardProxy;

    private Http10KeepAlive(boolean forwardProxy) {
        this.forwardProxy = forwardProxy;
    }

    /**
     * Installs the handler on a new connection ({@code HttpServer.connectionHandler}, on its event loop).
     *
     * @param name         the handler's name in the pipeline, the one {@link #restore} is given
     * @param client       who the client is, for the warning when the handler cannot go in ({@code "app"})
     * @param forwardProxy the listener is its clients' forward proxy: an absolute-form request's
     *                     {@code Proxy-Connection} stands for a {@code Connection} it did not send
     */
    public static void install(HttpConnection connection, String name, String client, boolean forwardProxy) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.VERTX_HANDLER);
        if (p == null) {
            LOG.warn("an HTTP/1.0 {}'s keep-alive is read by Vert.x alone on {}: not a Vert.x HTTP/1.x connection",
                    client, connection.getClass().getName());
            return;
        }
        p.addBefore(VertxPipeline.VERTX_HANDLER, name, new Http10KeepAlive(forwardProxy));
    }

    /**
     * Whether a request target is in absolute form, the form a client sends its forward proxy ({@code http://host/x};
     * not origin form, {@code /x}, nor {@code *}); a {@code CONNECT}'s authority form is the caller's to leave out.
     */
    public static boolean absoluteForm(String uri) {
        return !uri.isEmpty() && uri.charAt(0) != '/' && !uri.equals("*");
    }

    /** Puts back the head the handler named {@code name} changed in {@code req}, if it changed it: as it was sent. */
    public static void restore(HttpServerRequest req, String name) {
        if (req.version() != io.vertx.core.http.HttpVersion.HTTP_1_0) {
            return; // only HTTP/1.0 heads are changed: no pipeline lookup for the others
        }
        ChannelPipeline p = req.connection() == null ? null : VertxPipeline.of(req.connection());
        if (p != null && p.get(name) instanceof Http10KeepAlive h && !h.changed.isEmpty()) {
            List<Map.Entry<String, String>> sent = h.changed.remove(req.headers());
            if (sent != null) {
                MultiMap headers = req.headers();
                headers.clear();
                for (Map.Entry<String, String> e : sent) {
                    headers.add(e.getKey(), e.getValue());
                }
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r && r.decoderResult().isSuccess() && r.protocolVersion() == HttpVersion.HTTP_1_0
                && r.method() != HttpMethod.CONNECT
                // Vert.x hands the request handler this very headers object (it is its own MultiMap), so it is found again
                && r.headers() instanceof MultiMap m) {
            HttpHeaders h = r.headers();
            Set<String> options = h.contains(HttpHeaderNames.CONNECTION) ? HeaderTokens.lowerCase(m.getAll("connection"))
                    : forwardProxy && absoluteForm(r.uri()) && h.contains("proxy-connection")
                    ? HeaderTokens.lowerCase(m.getAll("proxy-connection")) : Set.of();
            boolean keepAlive = options.contains("keep-alive") && !options.contains("close");
            // what Vert.x reads: a Connection line that is keep-alive exactly
            if (keepAlive != h.contains(HttpHeaderNames.CONNECTION, "keep-alive", true)) {
                List<Map.Entry<String, String>> sent = new ArrayList<>(h.size());
                for (Map.Entry<String, String> e : m) {
                    sent.add(Map.entry(e.getKey(), e.getValue()));
                }
                changed.put(h, sent);
                h.set(HttpHeaderNames.CONNECTION, keepAlive ? "keep-alive" : "close");
            }
        }
        ctx.fireChannelRead(msg);
    }
}
