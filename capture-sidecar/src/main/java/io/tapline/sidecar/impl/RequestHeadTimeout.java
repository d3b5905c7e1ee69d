package io.tapline.sidecar.impl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.tapline.http.VertxPipeline;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * nginx's {@code client_header_timeout} for one HTTP/1.1 server connection: the request line and headers must arrive
 * whole within {@code timeoutMs} of the connection opening (its first request) or of their first byte (later requests
 * on a keep-alive connection), else the client gets {@code 408} and the connection is closed. A slowloris client that
 * trickles a head one byte at a time therefore holds a connection for the timeout, not forever. Between requests no
 * timer runs (the listener's idle timeout governs an idle keep-alive connection), nor while a request is being
 * served (the upstream timeout governs that).
 *
 * <p>Vert.x has no such option, so two small Netty handlers watch the connection's pipeline: one before the HTTP
 * decoder sees the first raw byte of a head, one after it sees the decoded request heads, request ends and response
 * ends. The timer is a Vert.x timer on the connection's own context (its event loop), armed only when a head did not
 * arrive in the read that began it: a later head that arrives in one read, the usual case, costs no timer at all (a
 * connection's first head is timed from the opening: {@link #install} arms one for each new connection).
 * All state is touched on the connection's event loop only.
 */
final class RequestHeadTimeout {

    private static final Logger LOG = LoggerFactory.getLogger(RequestHeadTimeout.class);
    static final String BYTES = "tapline-head-bytes";
    static final String MESSAGES = "tapline-head-messages";

    private final ContextInternal context;
    private final long timeoutMs;
    private final Runnable onTimeout;
    private ChannelHandlerContext raw;
    private int heads;
    private int requestsRead;
    private int responses;
    private boolean awaitingHead;
    private long timer = -1;

    private RequestHeadTimeout(ContextInternal context, long timeoutMs, Runnable onTimeout) {
        this.context = context;
        this.timeoutMs = timeoutMs;
        this.onTimeout = onTimeout;
    }

    /**
     * Watches a new server connection (from {@code HttpServer.connectionHandler}, on its event loop).
     *
     * @param timeoutMs > 0
     * @param onTimeout called once per connection answered 408 (a metric)
     */
    static void install(HttpConnection connection, long timeoutMs, Runnable onTimeout) {
        ChannelPipeline p = VertxPipeline.of(connection, VertxPipeline.SERVER_DECODER);
        if (p == null) {
            LOG.warn("no request head timeout on {}: not a Vert.x HTTP/1.x connection", connection.getClass().getName());
            return;
        }
        RequestHeadTimeout watch = new RequestHeadTimeout(((ConnectionBase) connection).context(), timeoutMs, onTimeout);
        p.addBefore(VertxPipeline.SERVER_DECODER, BYTES, watch.new Bytes());
        p.addBefore(VertxPipeline.VERTX_HANDLER, MESSAGES, watch.new Messages());
        watch.awaitingHead = true; // a new connection owes its first head from now on
        watch.arm();
    }

    /** Stops watching (the connection became a tunnel: CONNECT or an upgrade): nothing HTTP is read from it anymore. */
    static void uninstall(ChannelPipeline p) {
        VertxPipeline.removeIfPresent(p, BYTES);
        VertxPipeline.removeIfPresent(p, MESSAGES);
    }

    private boolean betweenRequests() {
        return heads == responses && heads == requestsRead;
    }

    /**
     * Times the head that started in this read (or, on a new connection, now). Every path that clears
     * {@code awaitingHead} cancels the timer, and a head starts only while none is awaited: a timer that fires while a
     * head is awaited was armed for that head, as it started.
     */
    private void arm() {
        timer = context.setTimer(timeoutMs, id -> {
            timer = -1;
            if (awaitingHead) {
                timedOut();
            }
        });
    }

    private void cancel() {
        if (timer >= 0) {
            context.owner().cancelTimer(timer);
            timer = -1;
        }
    }

    private void timedOut() {
        awaitingHead = false;
        if (raw == null || !raw.channel().isActive()) {
            return;
        }
        onTimeout.run();
        byte[] body = ("request head not received within " + timeoutMs + " ms\n").getBytes(StandardCharsets.US_ASCII);
        byte[] head = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        // Written below the HTTP encoder: no response is in progress (betweenRequests), so these bytes are the next thing
        // the client reads on this connection; then the connection closes (RFC 9110 15.5.9).
        raw.writeAndFlush(Unpooled.wrappedBuffer(head, body)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Before the decoder: sees the first raw byte of a head. */
    private final class Bytes extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            raw = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!awaitingHead && betweenRequests() && msg instanceof ByteBuf b && b.isReadable()) {
                awaitingHead = true;
            }
            ctx.fireChannelRead(msg); // the decoder runs now: a complete head clears awaitingHead before we return
            if (awaitingHead && timer < 0) {
                arm();
            }
        }

        /** Also on close: Netty removes every handler once a closed channel is deregistered. */
        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            awaitingHead = false;
            cancel();
        }
    }

    /** After the decoder and before Vert.x: sees request heads and ends inbound, response ends outbound. */
    private final class Messages extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                heads++;
                awaitingHead = false;
                cancel();
            }
            if (msg instanceof LastHttpContent) {
                requestsRead++;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            boolean interim = msg instanceof HttpResponse r && r.status().code() < 200;
            if (!interim && msg instanceof LastHttpContent) {
                responses++;
            }
            ctx.write(msg, promise);
        }
    }
}
