package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static io.tapline.sidecar.impl.SidecarRequestBufferingTest.body;
import static io.tapline.sidecar.impl.SidecarRequestBufferingTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stopping sidecar (SIGTERM) lets the requests in flight finish within its drain timeout. On loopback sockets. */
@Timeout(60)
class SidecarDrainTest {

    static TestOrigin origin;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() {
        origin.close();
    }

    static SidecarImpl sidecar(Duration drain) throws Exception {
        SidecarImpl s = SidecarImpl.start(options(origin).drainTimeout(drain).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
        origin.egressPort = s.egressPort();
        return s;
    }

    @Test
    void shouldFinishTheRequestsInFlightServingTheirCallsAndCloseIdleConnections() throws Exception {
        SidecarImpl s = sidecar(Duration.ofSeconds(10));
        CompletableFuture<Void> closed = null;
        try (Socket idle = connect(s.port()); Socket busy = connect(s.port())) {
            send(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            String idleHead = readUntil(idle.getInputStream(), "\r\n\r\n");
            assertEquals("hello", body(idle.getInputStream(), idleHead));
            int before = origin.heads.get();
            // the app answers after 1.5 s, once it has called its dependency through the egress listener
            send(busy, "GET /late-call?ms=1500&marker=m1 HTTP/1.1\r\nHost: x\r\n\r\n");
            origin.awaitHeads(before + 1);

            long t0 = System.nanoTime();
            closed = CompletableFuture.runAsync(s::close);
            assertEquals(-1, idle.getInputStream().read(), "an idle keep-alive connection is closed at once");
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 1000, "closed before the busy one ended");
            assertTrue(refusesConnections(s.port()), "no new connections while draining");

            InputStream in = busy.getInputStream();
            String head = readUntil(in, "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.toLowerCase().contains("\r\nconnection: close\r\n"), "the client is told not to reuse it: " + head);
            assertEquals("{\"marker\":\"m1\"}", body(in, head), "the app's call during the drain was served");
            assertEquals(-1, in.read(), "then the connection is closed");
            closed.get(20, TimeUnit.SECONDS);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 1000 && ms < 10_000, "the stop waited for the request, not for the drain timeout: " + ms + " ms");
        } finally {
            if (closed == null) {
                s.close();
            }
        }
    }

    /** An HTTP/1.0 client that asked for keep-alive is told the connection closes too, not keep-alive. */
    @Test
    void shouldTellAnHttp10KeepAliveClientTheConnectionCloses() throws Exception {
        SidecarImpl s = sidecar(Duration.ofSeconds(10));
        CompletableFuture<Void> closed = null;
        try (Socket busy = connect(s.port())) {
            int before = origin.heads.get();
            send(busy, "GET /late-call?ms=1000&marker=m2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            origin.awaitHeads(before + 1);
            closed = CompletableFuture.runAsync(s::close);
            String head = readUntil(busy.getInputStream(), "\r\n\r\n").toLowerCase();
            assertTrue(head.contains("\r\nconnection: close\r\n") && !head.contains("keep-alive"), head);
            closed.get(20, TimeUnit.SECONDS);
        } finally {
            if (closed == null) {
                s.close();
            }
        }
    }

    @Test
    void shouldCloseWhatIsStillOpenAtTheDrainTimeout() throws Exception {
        SidecarImpl s = sidecar(Duration.ofSeconds(1));
        try (Socket c = connect(s.port())) {
            int before = origin.heads.get();
            send(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); // never answered
            origin.awaitHeads(before + 1);
            long t0 = System.nanoTime();
            s.close();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 900 && ms < 8000, "stopped after the drain timeout: " + ms + " ms");
            assertFalse(received(c).startsWith("HTTP/1.1 200"), "the request still open at the deadline is cut");
        }
    }

    @Test
    void shouldCloseEveryConnectionAtOnceWithoutADrainTimeout() throws Exception {
        SidecarImpl s = sidecar(Duration.ZERO);
        try (Socket c = connect(s.port())) {
            int before = origin.heads.get();
            send(c, "GET /delay?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n");
            origin.awaitHeads(before + 1);
            long t0 = System.nanoTime();
            s.close();
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 2500);
            String got = received(c);
            assertFalse(got.startsWith("HTTP/1.1 200"), "cut, not waited for (a 502 may get out first): " + got);
        }
    }

    /**
     * {@code tapline_sidecar_ready} says what {@code /ready} answers, read when scraped: 1 while it answers 200, 0 once
     * the stop has begun and it answers 503 while the requests in flight drain. Without it a dashboard could not tell
     * a sidecar that is up but not ready from a ready one.
     */
    @Test
    void shouldExportWhatReadyAnswersAsTheReadyGauge() throws Exception {
        SidecarImpl s = sidecar(Duration.ofSeconds(10));
        CompletableFuture<Void> closed = null;
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        try (Socket busy = connect(s.port())) {
            assertEquals(200, management(http, s, "/ready").statusCode());
            String ready = management(http, s, "/metrics").body();
            assertTrue(ready.contains("\ntapline_sidecar_ready 1\n"), "ready, as /ready says: " + ready);

            int before = origin.heads.get();
            send(busy, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"); // in flight until released: the drain waits for it
            origin.awaitHeads(before + 1);
            closed = CompletableFuture.runAsync(s::close);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (management(http, s, "/ready").statusCode() != 503 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(503, management(http, s, "/ready").statusCode(), "not ready while draining");
            String scrape = management(http, s, "/metrics").body();
            assertTrue(scrape.contains("\ntapline_sidecar_ready 0\n"), "not ready, as /ready says: " + scrape);
            origin.release();
            closed.get(20, TimeUnit.SECONDS);
        } finally {
            origin.release();
            if (closed == null) {
                s.close();
            }
        }
    }

    private static java.net.http.HttpResponse<String> management(java.net.http.HttpClient http, SidecarImpl s, String path)
            throws Exception {
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + s.managementPort() + path))
                .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Closed from an interrupted thread (an embedding application's shutdown, a test's timeout), the sidecar still
     * closes whole, and the caller keeps its interrupt: the first wait of the close used to take it and clear it.
     */
    @Test
    void shouldCloseWhollyFromAnInterruptedThreadAndKeepTheInterrupt() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarImpl s = SidecarImpl.start(options(origin).drainTimeout(Duration.ofSeconds(10)).eventLoops(1), producer, AVRO);
        int management = s.managementPort();
        boolean interrupted;
        Thread.currentThread().interrupt();
        try {
            s.close();
        } finally {
            interrupted = Thread.interrupted();
        }
        assertTrue(interrupted, "the caller still sees its interrupt");
        assertTrue(producer.closed(), "the producer is closed");
        assertTrue(refusesConnections(management), "the management port is closed");
        assertTrue(refusesConnections(s.port()), "the proxy's listener is closed");
    }

    /** What came back before the connection ended. */
    private static String received(Socket c) throws IOException {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        try {
            c.getInputStream().transferTo(got);
        } catch (SocketException reset) {
            // what came before the reset is kept
        }
        return got.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Whether connecting to the port is refused, within 2 s. */
    private static boolean refusesConnections(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < deadline) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                Thread.sleep(20);
            } catch (ConnectException refused) {
                return true;
            }
        }
        return false;
    }
}
