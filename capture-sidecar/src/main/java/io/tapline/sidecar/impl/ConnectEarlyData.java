package io.tapline.sidecar.impl;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.tapline.http.VertxPipeline;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * Keeps for the tunnel the bytes a client sends behind a {@code CONNECT} head before its {@code 200} (a client that
 * sends its TLS ClientHello without waiting, or any write that lands in the same read as the head).
 *
 * <p>Without it those bytes are lost and the tunnel hangs: Netty's HTTP decoder reads on past the head, taking the
 * bytes for the next request (or skipping a TLS record's leading control bytes as the blank lines before one), and
 * when Vert.x hands the connection over to a socket, it drops what the decoder had taken. So once a {@code CONNECT}
 * head is decoded, no more HTTP is parsed on the connection: the decoder is replaced by a pass-through under its own
 * name (which Vert.x removes on the hand-over), and this handler, right behind it, holds the raw bytes until the
 * tunnel is spliced ({@link #release}). A {@code CONNECT} that is refused or fails closes the connection, since what
 * follows its head is not a request.
 *
 * <p>Bounded: a client that sends more than {@link #MAX_HELD_BYTES} before its tunnel exists is disconnected. All on
 * the connection's event loop.
 */
final class ConnectEarlyData extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectEarlyData.class);
    static final String NAME = "tapline-connect-early-data";
    private static final String DECODER = VertxPipeline.SERVER_DECODER;
    /** Most bytes held for a tunnel that does not exist yet (a TLS ClientHello is a few KiB). */
    static final int MAX_HELD_BYTES = 64 * 1024;

    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private long heldBytes;
    private boolean tunneling;

    /** Installs the handler on a new egress connection ({@code HttpServer.connectionHandler}, on its event loop). */
    static void install(HttpConnection connection) {
        ChannelPipeline p = VertxPipeline.of(connection, DECODER);
        if (p == null) {
            LOG.warn("bytes sent behind a CONNECT head before its answer are lost on {}: not a Vert.x HTTP/1.x connection",
                    connection.getClass().getName());
            return;
        }
        p.addAfter(DECODER, NAME, new ConnectEarlyData());
    }

    /** Hands what was held to the tunnel, now reading the connection (its handlers set), in the order it came. */
    static void release(ChannelPipeline p) {
        VertxPipeline.removeIfPresent(p, NAME);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tunneling) {
            if (msg instanceof ByteBuf b) {
                hold(ctx, b);
                return;
            }
            ctx.fireChannelRead(msg); // the CONNECT's own end (LastHttpContent), decoded with its head
            return;
        }
        if (msg instanceof HttpRequest r && r.method() == HttpMethod.CONNECT && r.decoderResult().isSuccess()) {
            tunneling = true;
            // the decoder gives up what it has not decoded yet, to this handler (held), then reads nothing more
            ctx.pipeline().replace(DECODER, DECODER, new ChannelInboundHandlerAdapter());
        }
        ctx.fireChannelRead(msg);
    }

    private void hold(ChannelHandlerContext ctx, ByteBuf b) {
        if (!b.isReadable()) {
            b.release();
            return;
        }
        heldBytes += b.readableBytes();
        held.add(b);
        if (heldBytes > MAX_HELD_BYTES) {
            LOG.debug("closing {}: more than {} bytes sent behind a CONNECT head before its answer", ctx.channel(), MAX_HELD_BYTES);
            ctx.close();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        boolean deliver = ctx.channel().isActive() && !held.isEmpty();
        ByteBuf b;
        while ((b = held.poll()) != null) {
            if (deliver) {
                ctx.fireChannelRead(b);
            } else {
                ReferenceCountUtil.release(b);
            }
        }
        if (deliver) {
            ctx.fireChannelReadComplete(); // ends the read cycle the delivery opened, so the tunnel's writes flush
        }
    }
}
