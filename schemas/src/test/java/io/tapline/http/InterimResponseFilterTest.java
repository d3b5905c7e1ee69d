package io.tapline.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filter alone on an embedded channel, and installed with {@link StrayResponseBytes} on a Vert.x client against a
 * raw-socket peer. Its behaviour behind the sidecar and the replay worker is tested there ({@code SidecarProxyTest},
 * {@code KeepAliveRaceTest}, {@code MockServerTest}).
 */
@Timeout(30)
class InterimResponseFilterTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    private static HttpResponse head(int status) {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    }

    @Test
    void a102AndItsEmptyContentAreDroppedAndReleasedAndTheFinalAnswerAfterItPasses() {
        EmbeddedChannel channel = new EmbeddedChannel(new InterimResponseFilter());
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.buffer(0));
        channel.writeInbound(head(102), end);
        assertNull(channel.readInbound());
        assertEquals(0, end.refCnt(), "released");
        HttpResponse ok = head(200);
        LastHttpContent body = new DefaultLastHttpContent(Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));
        channel.writeInbound(ok, body);
        assertSame(ok, channel.readInbound());
        assertSame(body, channel.readInbound());
        assertEquals(1, body.refCnt());
        body.release();
        assertFalse(channel.finish());
    }

    @Test
    void a102ReadAsOneFullMessageIsDroppedAndReleased() {
        EmbeddedChannel channel = new EmbeddedChannel(new InterimResponseFilter());
        FullHttpResponse processing = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PROCESSING);
        channel.writeInbound(processing);
        assertNull(channel.readInbound());
        assertEquals(0, processing.refCnt());
        // nothing is left being dropped: the next answer passes whole
        HttpResponse ok = head(200);
        channel.writeInbound(ok, LastHttpContent.EMPTY_LAST_CONTENT);
        assertSame(ok, channel.readInbound());
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readInbound());
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 101, 103})
    void the1xxVertxKnowsPassUntouched(int status) {
        EmbeddedChannel channel = new EmbeddedChannel(new InterimResponseFilter());
        HttpResponse interim = head(status);
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.buffer(0));
        channel.writeInbound(interim, end);
        assertSame(interim, channel.readInbound());
        assertSame(end, channel.readInbound());
        assertEquals(1, end.refCnt());
        end.release();
    }

    @Test
    void whatIsNoHttpResponsePasses() {
        EmbeddedChannel channel = new EmbeddedChannel(new InterimResponseFilter());
        ByteBuf bytes = Unpooled.copiedBuffer("tunnelled", StandardCharsets.US_ASCII);
        channel.writeInbound(bytes);
        assertSame(bytes, channel.readInbound());
        assertEquals(1, bytes.refCnt());
        bytes.release();
    }

    @Test
    void onAConnectionThatIsNotAVertxHttp1ClientConnectionInstallWarnsAndDoesNothing() {
        HttpConnection other = (HttpConnection) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpConnection.class}, (proxy, method, args) -> {
                    throw new UnsupportedOperationException(method.getName());
                });
        PrintStream errBefore = System.err;
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            InterimResponseFilter.install(other);
        } finally {
            System.setErr(errBefore);
        }
        String log = logged.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("WARN io.tapline.http.InterimResponseFilter - interim responses cannot be filtered on "
                + other.getClass().getName() + ": not a Vert.x HTTP/1.x client connection"), log);
    }

    /**
     * Installed before or after {@link StrayResponseBytes}, the filter is behind that one's handler: a 102 and then
     * no final answer is still told as the interim answer it was ({@link StrayResponseBytes#interim}); a 102 and then
     * a 200 is the 200.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void behindStrayResponseBytesWhicheverIsInstalledFirst(boolean filterFirst) throws Exception {
        StrayResponseBytes.Peers peers = new StrayResponseBytes.Peers("a peer");
        HttpClientAgent client = vertx.httpClientBuilder().with(new HttpClientOptions())
                .withConnectHandler(c -> {
                    if (filterFirst) {
                        InterimResponseFilter.install(c);
                    }
                    StrayResponseBytes.install(c, peers);
                    if (!filterFirst) {
                        InterimResponseFilter.install(c);
                    }
                })
                .build();
        try (Peer peer = new Peer()) {
            assertEquals("200 {}", client.request(options(peer, "/answered"))
                    .compose(req -> req.send().compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b)))
                    .await());
            AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
            String interim = client.request(options(peer, "/unanswered").setIdleTimeout(300))
                    .compose(req -> {
                        sent.set(req);
                        return req.send();
                    })
                    .map(resp -> "answered " + resp.statusCode())
                    .otherwise(err -> StrayResponseBytes.interim(sent.get().connection()))
                    .await();
            assertEquals("102 Processing", interim);
        }
    }

    private static RequestOptions options(Peer peer, String uri) {
        return new RequestOptions().setHost("127.0.0.1").setPort(peer.port()).setURI(uri);
    }

    /**
     * A raw-socket peer: answers each request with a {@code 102 Processing}; {@code /answered} then with a 200 in a
     * write of its own, anything else with nothing more, until the client closes the connection.
     */
    private static final class Peer implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

        Peer() throws IOException {
            Thread t = new Thread(() -> {
                while (true) {
                    try (Socket s = server.accept()) {
                        s.setTcpNoDelay(true);
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        for (String line = readHead(in); line != null; line = readHead(in)) {
                            out.write("HTTP/1.1 102 Processing\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            if (!line.startsWith("GET /answered ")) {
                                in.read(); // until the client closes
                                break;
                            }
                            Thread.sleep(100); // read apart from the 102
                            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                                    .getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    } catch (IOException | InterruptedException e) {
                        if (server.isClosed()) {
                            return;
                        }
                    }
                }
            }, "raw-peer");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** A request's head, read whole: its first line, or null when the client closed first. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            String read = head.toString(StandardCharsets.ISO_8859_1);
            if (read.endsWith("\r\n\r\n")) {
                return read.substring(0, read.indexOf("\r\n"));
            }
        }
        return null;
    }
}
