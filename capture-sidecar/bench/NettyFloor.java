import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Benchmark row (f): the least a Java proxy on Netty's HTTP codecs does per request, to put the capture sidecar's
 * proxy path (Vert.x's HTTP server and client on the same Netty) between it and nginx. One NIO event loop, as the
 * sidecar in the benchmark; each client connection gets its own upstream connection, opened once; messages are
 * streamed through as the codecs decode them, with Connection and Keep-Alive removed. No capture, no timeouts, no
 * pool, no error answers, no HTTP/1.0 or upgrade handling: it is a floor to measure against, not a proxy to run.
 *
 * Usage: java -cp capture-sidecar.jar:DIR NettyFloor LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT (binds UPSTREAM_HOST)
 */
public final class NettyFloor {

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        String upstreamHost = args[1];
        int upstreamPort = Integer.parseInt(args[2]);
        EventLoopGroup loop = new NioEventLoopGroup(1);
        new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new ClientSide(upstreamHost, upstreamPort));
                    }
                })
                .bind(upstreamHost, port).sync();
        System.out.println("netty floor listening on " + upstreamHost + ":" + port);
        Thread.currentThread().join();
    }

    /** A client connection: opens its upstream connection, then forwards what it reads. */
    private static final class ClientSide extends ChannelInboundHandlerAdapter {
        private final String host;
        private final int port;
        private Channel upstream;

        ClientSide(String host, int port) {
            this.host = host;
            this.port = port;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            client.config().setAutoRead(false); // nothing is read until the upstream connection is there
            new Bootstrap().group(client.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new Relay(client));
                        }
                    })
                    .connect(host, port)
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            client.close();
                            return;
                        }
                        upstream = f.channel();
                        client.config().setAutoRead(true);
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            relay(msg, upstream);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (upstream != null) {
                upstream.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The upstream connection: forwards the answers to its client. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel client;

        Relay(Channel client) {
            this.client = client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            relay(msg, client);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            client.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Writes a decoded message to the other side, hop-by-hop headers removed; flushes at the end of a message. */
    private static void relay(Object msg, Channel to) {
        if (msg instanceof HttpMessage m) {
            HttpHeaders h = m.headers();
            h.remove(HttpHeaderNames.CONNECTION);
            h.remove(HttpHeaderNames.KEEP_ALIVE);
            h.remove(HttpHeaderNames.PROXY_CONNECTION);
        }
        to.write(msg);
        if (msg instanceof LastHttpContent) {
            to.flush();
        }
    }
}
