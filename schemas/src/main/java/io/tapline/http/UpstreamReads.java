package io.tapline.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AttributeKey;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an upstream connection has carried, for telling a stale pooled connection from an app that failed a request:
 * how many requests were written on it and whether any byte came back since the last one. An app closes a keep-alive
 * connection it finds idle (Node.js after 5 s, gunicorn after 2 s) while the sidecar may be handing it a request: that
 * request fails without a byte of response, and sent again on a new connection it succeeds (the sidecar's requests to
 * the app and its dependencies, the replay worker's to the candidate).
 *
 * <p>Two small Netty handlers per client connection share one instance: one before the client's HTTP codec counts the
 * bytes read, one after it notes each request head written. Both run on the connection's event loop. The instance is
 * kept as a channel attribute, which outlives the pipeline's handlers once the channel has closed.
 */
public final class UpstreamReads {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamReads.class);
    static final String BYTES = "tapline-upstream-bytes";
    static final String REQUESTS = "tapline-upstream-requests";
    private static final AttributeKey<UpstreamReads> KEY = AttributeKey.valueOf("tapline-upstream-reads");

    /** Request heads written on the connection. */
    private long requests;
    /** Bytes read on the connection. */
    private long bytesRead;
    /** {@link #bytesRead} when the last request head was written. */
    private long bytesReadAtRequest;

    private UpstreamReads() {
    }

    /** Installs the handlers on a new client connection ({@code HttpClientBuilder.withConnectHandler}). */
    public static void install(HttpConnection connection) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.CLIENT_CODEC);
        if (p == null) {
            LOG.warn("stale connections cannot be told on {}: not a Vert.x HTTP/1.x client connection", connection.getClass().getName());
            return;
        }
        UpstreamReads reads = new UpstreamReads();
        p.channel().attr(KEY).set(reads);
        p.addBefore(VertxPipeline.CLIENT_CODEC, BYTES, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf b) {
                    reads.bytesRead += b.readableBytes();
                }
                ctx.fireChannelRead(msg);
            }
        });
        p.addAfter(VertxPipeline.CLIENT_CODEC, REQUESTS, new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                if (msg instanceof HttpRequest) {
                    reads.requests++;
                    reads.bytesReadAtRequest = reads.bytesRead;
                }
                ctx.write(msg, promise);
            }
        });
    }

    /**
     * Whether a request of {@code method} may be sent again after such a failure without asking the caller: the methods
     * RFC 9110 9.2.2 defines as idempotent, whose intended effect is the same sent twice as once. Methods are
     * case-sensitive ({@code get} is not {@code GET}).
     */
    public static boolean idempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
            default -> false;
        };
    }

    /**
     * True when {@code connection} carried a request and its response before the request now on it, and nothing was
     * read since that request was written: the connection was reused, and the app sent no byte of an answer.
     * False when unknown (the handlers are not installed).
     */
    public static boolean reusedAndUnanswered(HttpConnection connection) {
        ChannelPipeline p = VertxPipeline.of(connection);
        UpstreamReads reads = p == null ? null : p.channel().attr(KEY).get();
        return reads != null && reads.requests > 1 && reads.bytesReadAtRequest > 0 && reads.bytesRead == reads.bytesReadAtRequest;
    }
}
