package io.tapline.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handlers on a Vert.x client of its own, against a raw-socket peer. Their behaviour behind the sidecar and the
 * replay worker is tested there ({@code SidecarProxyTest}, {@code KeepAliveRaceTest}).
 */
@Timeout(30)
class StrayResponseBytesTest {

    private static final String STRAY_WARNING = "WARN io.tapline.http.StrayResponseBytes - a peer 127.0.0.1:";

    private final Vertx vertx = Vertx.vertx();
    /** What is logged (slf4j-simple writes to standard error as it is at each line). */
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private PrintStream errBefore;

    @BeforeEach
    void captureLog() {
        errBefore = System.err;
        System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        vertx.close().await();
        System.setErr(errBefore);
    }

    private String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    /** How a peer sends a 408 on a connection that awaits no answer, ahead of closing it. */
    enum TimeoutAtIdle {
        WHOLE("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        /** the status line cut by a read, between its code's first digit and the rest */
        SPLIT("HTTP/1.1 4", "08 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        /** no reason, the status line ending right after the code */
        NO_REASON("HTTP/1.0 408\r\n\r\n"),
        /** what follows it looks like another answer: dropped with it, the connection is closing */
        FOLLOWED_BY_AN_ANSWER("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL");

        final List<String> writes;

        TimeoutAtIdle(String... writes) {
            this.writes = List.of(writes);
        }
    }

    @ParameterizedTest
    @EnumSource(TimeoutAtIdle.class)
    void a408OnAnIdleConnectionClosesItQuietly(TimeoutAtIdle timeout) throws Exception {
        // RFC 9110 15.5.9, RFC 9112 9.5: a server may send a 408 on an idle persistent connection before closing it
        try (Peer peer = new Peer(timeout.writes)) {
            HttpClientAgent client = client(new PoolOptions());
            assertEquals("first", get(client, peer.port()));
            assertTrue(peer.firstClosedByClient.get(10, TimeUnit.SECONDS), "the connection is closed");
            // the next request goes on a new connection, and gets that connection's answer, nothing of the 408's
            assertEquals("second", get(client, peer.port()));
            assertEquals(1, peer.requestsOnFirst);
        }
        assertFalse(log().contains(STRAY_WARNING), log());
        assertFalse(log().contains("belong to no answer"), log());
    }

    /** Bytes no request awaits that are not a 408's status line. */
    enum StrayAtIdle {
        ANSWER("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"),
        OTHER_4XX("HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n"),
        LONGER_CODE("HTTP/1.1 4080 Request Timeout\r\n\r\n"),
        NOT_HTTP("HELLO\r\n"),
        /** a status line cut by a read once its code is told from a 408's */
        SPLIT_OTHER("HTTP/1.1 409", " Conflict\r\nContent-Length: 0\r\n\r\n");

        final List<String> writes;

        StrayAtIdle(String... writes) {
            this.writes = List.of(writes);
        }
    }

    @ParameterizedTest
    @EnumSource(StrayAtIdle.class)
    void otherBytesOnAnIdleConnectionAreStillStrayBytes(StrayAtIdle stray) throws Exception {
        try (Peer peer = new Peer(stray.writes)) {
            HttpClientAgent client = client(new PoolOptions());
            assertEquals("first", get(client, peer.port()));
            assertTrue(peer.firstClosedByClient.get(10, TimeUnit.SECONDS), "the connection is closed");
            assertEquals("second", get(client, peer.port()));
            assertEquals(1, peer.requestsOnFirst);
        }
        assertTrue(log().contains(STRAY_WARNING), log());
    }

    @Test
    void a408PastTheEndOfAnAnswerIsNotBytesPastThatAnswer() throws Exception {
        // read with the answer before it, as when the client read nothing for longer than the peer's keep-alive timeout
        try (Peer peer = new Peer(List.of(), "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")) {
            HttpClientAgent client = client(new PoolOptions());
            int past = client.request(new RequestOptions().setHost("127.0.0.1").setPort(peer.port()).setURI("/"))
                    .compose(req -> req.send().compose(resp -> resp.body()
                            .map(b -> StrayResponseBytes.pastLastAnswer(req.connection()))))
                    .await();
            assertEquals(0, past);
            assertTrue(peer.firstClosedByClient.get(10, TimeUnit.SECONDS), "the connection is closed");
            assertEquals("second", get(client, peer.port()));
        }
        assertFalse(log().contains(STRAY_WARNING), log());
    }

    @Test
    void aReadOfOnlyTheStartOfA408sStatusLineClosesTheConnectionAtOnceQuietly() throws Exception {
        // the rest may never come before the peer closes: the connection leaves the pool now, not when it does, so no
        // request is handed a connection no answer can come on
        try (Peer peer = new Peer(List.of("HTTP/1.1 4"))) {
            HttpClientAgent client = client(new PoolOptions().setHttp1MaxSize(1));
            assertEquals("first", get(client, peer.port()));
            assertTrue(peer.firstClosedByClient.get(10, TimeUnit.SECONDS), "the connection is closed");
            assertEquals(1, peer.requestsOnFirst, "no request is sent on it");
            assertEquals("second", get(client, peer.port()));
        }
        assertFalse(log().contains(STRAY_WARNING), log());
    }

    private HttpClientAgent client(PoolOptions pool) {
        return vertx.httpClientBuilder().with(new HttpClientOptions()).with(pool)
                .withConnectHandler(c -> {
                    UpstreamReads.install(c);
                    StrayResponseBytes.install(c, new StrayResponseBytes.Peers("a peer"));
                })
                .build();
    }

    private static String get(HttpClientAgent client, int port) {
        return client.request(new RequestOptions().setHost("127.0.0.1").setPort(port).setURI("/"))
                .compose(req -> req.send().compose(HttpClientResponse::body))
                .map(Buffer::toString)
                .await();
    }

    /**
     * A raw-socket peer: on its first connection it answers one request ({@code first}, with {@code pastFirst} in the
     * same write), then, idle, writes {@code idleWrites} apart (as reads of their own) and waits for the client to
     * close the connection; on the next it answers {@code second}.
     */
    private static final class Peer implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final CompletableFuture<Boolean> firstClosedByClient = new CompletableFuture<>();
        volatile int requestsOnFirst;

        Peer(List<String> idleWrites) throws IOException {
            this(idleWrites, "");
        }

        Peer(List<String> idleWrites, String pastFirst) throws IOException {
            Thread t = new Thread(() -> {
                try (Socket first = server.accept()) {
                    first.setTcpNoDelay(true);
                    InputStream in = first.getInputStream();
                    OutputStream out = first.getOutputStream();
                    readHead(in);
                    requestsOnFirst = 1;
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst" + pastFirst)
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (String w : idleWrites) {
                        Thread.sleep(200); // read apart, on a connection that awaits no answer
                        out.write(w.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                    // until the client closes: a request sent instead is counted
                    while (true) {
                        if (in.read() < 0) {
                            firstClosedByClient.complete(true);
                            break;
                        }
                        requestsOnFirst = 2;
                        readHead(in);
                    }
                    try (Socket second = server.accept()) {
                        readHead(second.getInputStream());
                        second.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"
                                .getBytes(StandardCharsets.US_ASCII));
                        second.getOutputStream().flush();
                        second.getInputStream().read(); // until the client closes
                    }
                } catch (IOException | InterruptedException e) {
                    firstClosedByClient.complete(false);
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

    @Test
    void bytesPastAConnectsAnswerAreTheTunnelsNotStrayBytes() throws Exception {
        // A 2xx answer to a CONNECT makes the connection a tunnel (RFC 9110 9.3.6): what comes after it, also while
        // the client has sent nothing, is the tunnel's, not bytes no request awaits.
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread peer = new Thread(() -> {
                try (Socket s = server.accept()) {
                    readHead(s.getInputStream());
                    s.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    Thread.sleep(200); // read alone: the tunnel's bytes come on a connection awaiting no answer
                    s.getOutputStream().write("tunnelled".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    s.getInputStream().read(); // until the client closes
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            }, "raw-peer");
            peer.setDaemon(true);
            peer.start();
            HttpClientAgent client = vertx.httpClientBuilder().with(new HttpClientOptions())
                    .withConnectHandler(c -> StrayResponseBytes.install(c, new StrayResponseBytes.Peers("a peer")))
                    .build();
            HttpClientResponse answer = client.request(new RequestOptions().setMethod(HttpMethod.CONNECT)
                    .setHost("127.0.0.1").setPort(server.getLocalPort()).setURI("example.com:443"))
                    .compose(r -> {
                        r.exceptionHandler(e -> { }); // the tunnel's close at the test's end ends the request too
                        return r.connect();
                    }).await();
            assertEquals(200, answer.statusCode());
            NetSocket tunnel = answer.netSocket();
            CompletableFuture<String> got = new CompletableFuture<>();
            Buffer read = Buffer.buffer();
            tunnel.handler(b -> {
                read.appendBuffer(b);
                if (read.length() >= "tunnelled".length()) {
                    got.complete(read.toString(StandardCharsets.US_ASCII));
                }
            });
            tunnel.closeHandler(v -> got.complete("closed after " + read));
            assertEquals("tunnelled", got.get(10, TimeUnit.SECONDS));
            tunnel.close().await();
        }
    }

    private static void readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            if (head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                return;
            }
        }
    }
}
