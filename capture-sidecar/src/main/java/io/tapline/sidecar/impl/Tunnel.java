package io.tapline.sidecar.impl;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.tapline.http.MalformedRequests;
import io.tapline.http.VertxPipeline;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Two sockets spliced byte for byte (a {@code CONNECT} tunnel, a WebSocket upgrade), with backpressure, byte counts,
 * half-close and an idle timeout.
 *
 * <p><b>Half-close.</b> When one side ends its stream (TCP FIN: {@code shutdown(SHUT_WR)}, as a client does after
 * sending a request it wants answered), the tunnel ends the write side of the other once every byte before the FIN
 * has been written to it, and keeps relaying the other direction until that one ends too; then both sockets close.
 * Vert.x 5's {@code NetSocket} has no half-close ({@code end()} closes the socket, and a FIN closes it too), so this
 * works on the Netty channel below it: {@code ALLOW_HALF_CLOSURE} turns a FIN into an input-shutdown event, which a
 * handler turns into an empty buffer read in order after the data (so bytes Vert.x still holds for a paused socket are
 * relayed first), and the other side's output is shut with {@link DuplexChannel#shutdownOutput()} after its last
 * write completed. A reset or an error on either side still closes both.
 *
 * <p><b>Idle timeout.</b> Each side closes after {@code idleTimeoutMs} without a byte read or written; closing one
 * closes the other. For the client side this replaces the listener's idle timeout, which is meant for HTTP
 * keep-alive, not for a tunnel whose peers may rightly stay quiet for minutes.
 *
 * <p>A WebSocket's upstream is a stream of a pooled HTTP client connection ({@code HttpClientResponse.netSocket()}),
 * with no Netty channel of its own to configure: there a FIN from either side closes both ways (a WebSocket ends with
 * its own close handshake anyway), and the idle timeout is watched on the client's side alone, which sees the bytes
 * of both directions.
 *
 * <p>No state is shared across threads. A CONNECT's target is connected from the client connection's context, so
 * both sockets, their handlers and their close futures (after which {@code onClosed} reads the byte counts) run on
 * that one event loop. A WebSocket's upstream may read on another event loop, but it has no channel of its own, so it
 * never half-closes, and nothing reads its tunnel's byte counts.
 */
final class Tunnel {

    private static final Logger LOG = LoggerFactory.getLogger(Tunnel.class);
    static final String EOF_MARKER = "tapline-eof-marker";

    private final Side downstream;
    private final Side upstream;
    private final Consumer<Tunnel> onClosed;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Tunnel(NetSocket downstream, NetSocket upstream, Consumer<Tunnel> onClosed) {
        this.downstream = new Side(downstream);
        this.upstream = new Side(upstream);
        this.onClosed = onClosed;
    }

    /**
     * Splices {@code downstream} (the client's connection, taken over from the HTTP listener) with {@code upstream}
     * and resumes both.
     *
     * @param idleTimeoutMs 0 = none
     * @param onClosed      called once, after both sockets closed, with the byte counts final
     */
    static Tunnel splice(NetSocket downstream, NetSocket upstream, long idleTimeoutMs, Consumer<Tunnel> onClosed) {
        Tunnel t = new Tunnel(downstream, upstream, onClosed);
        if (t.downstream.pipeline != null) {
            // no HTTP head is read from this connection anymore
            RequestHeadTimeout.uninstall(t.downstream.pipeline);
            MalformedRequests.uninstall(t.downstream.pipeline, ProxyEngine.MALFORMED_REQUESTS);
        }
        for (Side s : new Side[] {t.downstream, t.upstream}) {
            s.prepare(idleTimeoutMs);
        }
        t.relay(t.downstream, t.upstream);
        t.relay(t.upstream, t.downstream);
        downstream.closeHandler(v -> t.close());
        upstream.closeHandler(v -> t.close());
        upstream.resume();
        downstream.resume();
        if (t.downstream.pipeline != null) {
            // what a CONNECT's client sent behind its head, before its answer, now that the tunnel reads
            ConnectEarlyData.release(t.downstream.pipeline);
        }
        return t;
    }

    /** Bytes the client sent through the tunnel. */
    long bytesUp() {
        return downstream.bytesRead;
    }

    /** Bytes the target sent through the tunnel. */
    long bytesDown() {
        return upstream.bytesRead;
    }

    private void relay(Side from, Side to) {
        // Vert.x calls it when to's write queue drains after filling up, which paused from (below); resume() leaves a
        // flowing socket as it is
        to.socket.drainHandler(v -> from.socket.resume());
        from.socket.handler((Buffer b) -> {
            if (b.length() == 0 && from.eofPending) {
                ended(from, to);
                return;
            }
            from.bytesRead += b.length();
            to.lastWrite = to.socket.write(b);
            if (to.socket.writeQueueFull()) {
                from.socket.pause();
            }
        });
    }

    /** {@code from} sent its FIN and every byte before it was handed to {@code to}: end {@code to}'s write side. */
    private void ended(Side from, Side to) {
        from.inputEnded = true;
        if (!(to.channel instanceof DuplexChannel duplex)) {
            // A WebSocket's upstream: no half-close, so both ways close at once. Not after its last write completes:
            // a write to that stream of the HTTP client connection is not completed while the stream stays open (Vert.x
            // 5.0), so the tunnel stayed open until its idle timeout. Closing ends the stream after the writes made.
            close();
            return;
        }
        Future<Void> last = to.lastWrite == null ? Future.succeededFuture() : to.lastWrite;
        last.onComplete(ar -> {
            if (ar.failed()) {
                close();
                return;
            }
            // shutdownOutput fails writes still queued: only now, once the last one was written, is it safe
            duplex.shutdownOutput().addListener(f -> {
                if (!f.isSuccess() || (downstream.inputEnded && upstream.inputEnded)) {
                    close();
                }
            });
        });
    }

    private void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Future.all(downstream.socket.close(), upstream.socket.close()).onComplete(v -> onClosed.accept(this));
    }

    /** One end of the tunnel. */
    private static final class Side {
        final NetSocket socket;
        final Channel channel;
        final ChannelPipeline pipeline;
        long bytesRead;
        boolean eofPending;
        boolean inputEnded;
        Future<Void> lastWrite;

        Side(NetSocket socket) {
            this.socket = socket;
            this.channel = socket instanceof NetSocketInternal s ? s.channelHandlerContext().channel() : null;
            this.pipeline = channel == null ? null : channel.pipeline();
        }

        void prepare(long idleTimeoutMs) {
            if (pipeline == null) {
                // a WebSocket's upstream: a stream of the pooled HTTP client connection, no channel of its own (see above)
                return;
            }
            VertxPipeline.removeIfPresent(pipeline, VertxPipeline.IDLE);
            if (idleTimeoutMs > 0) {
                // Vert.x closes a connection whose pipeline reports it idle
                pipeline.addFirst(VertxPipeline.IDLE, new IdleStateHandler(0, 0, idleTimeoutMs, TimeUnit.MILLISECONDS));
            }
            if (channel instanceof DuplexChannel && pipeline.get(VertxPipeline.VERTX_HANDLER) != null) {
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                pipeline.addBefore(VertxPipeline.VERTX_HANDLER, EOF_MARKER, new EofMarker(this));
            } else {
                LOG.warn("no half-close on {}: a FIN from it closes the tunnel both ways", channel);
            }
        }
    }

    /** Turns the FIN of a half-closable channel into an empty read, queued behind the data Vert.x still holds. */
    private static final class EofMarker extends ChannelInboundHandlerAdapter {
        private final Side side;

        EofMarker(Side side) {
            this.side = side;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && !side.eofPending) {
                side.eofPending = true;
                ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
                ctx.fireChannelReadComplete(); // ends the read cycle Vert.x opened for it, so its writes flush
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
