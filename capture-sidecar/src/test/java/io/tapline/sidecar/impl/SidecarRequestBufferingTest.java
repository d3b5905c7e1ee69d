package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitMetric;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Request bodies read before the app is asked for a connection ({@link HeldBody}): a slow client holds sidecar
 * memory, not an app connection. On real loopback sockets.
 */
@Timeout(60)
class SidecarRequestBufferingTest {

    static final String HELD = "tapline_sidecar_request_buffer_bytes{listener=\"inbound\"}";

    static TestOrigin origin;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
    }

    @AfterAll
    static void stop() {
        origin.close();
    }

    static SidecarImpl sidecar(long bufferBytes, long bufferMaxBytes) throws Exception {
        return SidecarImpl.start(options(origin).requestBufferBytes(bufferBytes).requestBufferMaxBytes(bufferMaxBytes)
                        .upstreamTimeout(Duration.ofSeconds(30)).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
    }

    static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @ParameterizedTest(name = "request buffering {0}")
    @ValueSource(booleans = {true, false})
    void shouldServeOtherClientsWhileMoreSlowUploadsThanAppConnectionsAreOpen(boolean buffering) throws Exception {
        // One event loop opens at most 512 connections to the app. 520 clients each send a request head and one
        // byte of a 1000-byte body, then nothing: streamed from the first byte, every upload holds an app connection
        // and a GET from another client waits for one until the connect timeout (504). Held, they hold none.
        List<Socket> slow = new ArrayList<>();
        try (SidecarImpl s = SidecarImpl.start(options(origin).requestBufferBytes(buffering ? 64 * 1024 : 0)
                        .connectTimeout(Duration.ofSeconds(2)).upstreamTimeout(Duration.ofSeconds(30)).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (int k = 0; k < 520; k++) {
                Socket c = connect(s.port());
                slow.add(c);
                send(c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx");
            }
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 520);
            if (buffering) {
                awaitMetric(s, HELD, 520);
            }
            try (Socket c = connect(s.port())) {
                long t0 = System.nanoTime();
                send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
                String head = readUntil(c.getInputStream(), "\r\n\r\n");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                if (buffering) {
                    assertTrue(head.startsWith("HTTP/1.1 200"), head);
                    assertTrue(ms < 1500, "answered in " + ms + " ms, not after waiting for an app connection");
                } else {
                    assertTrue(head.startsWith("HTTP/1.1 504"), "every app connection is held by a slow upload: " + head);
                }
            }
        } finally {
            for (Socket c : slow) {
                c.close();
            }
        }
    }

    @Test
    void shouldSendABodyWithinTheLimitToTheAppOnlyOnceItIsWhole() throws Exception {
        try (SidecarImpl s = sidecar(64 * 1024, 32 << 20); Socket c = connect(s.port())) {
            int before = origin.heads.get();
            send(c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "a".repeat(10));
            awaitMetric(s, HELD, 10);
            Thread.sleep(300);
            assertEquals(before, origin.heads.get(), "nothing reaches the app while the body is incomplete");
            send(c, "b".repeat(990));
            String response = readUntil(c.getInputStream(), "1000");
            assertTrue(response.startsWith("HTTP/1.1 200") && response.endsWith("\r\n\r\n1000"), response);
            awaitMetric(s, HELD, 0);
            // a chunked body, held the same way, reaches the app chunked and whole
            origin.seen.clear();
            send(c, "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            awaitMetric(s, HELD, 5);
            send(c, "6\r\n world\r\n0\r\n\r\n");
            response = readUntil(c.getInputStream(), "\r\n\r\n11");
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
            assertEquals(11, seen.bodyBytes());
            assertEquals("chunked", seen.headers().get("transfer-encoding"));
            awaitMetric(s, HELD, 0);
        }
    }

    @Test
    void shouldSendALargerBodyOnceItsFirstBytesAreReadThenStreamTheRest() throws Exception {
        try (SidecarImpl s = sidecar(1000, 32 << 20); Socket c = connect(s.port())) {
            int before = origin.heads.get();
            send(c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + "a".repeat(600));
            awaitMetric(s, HELD, 600);
            assertEquals(before, origin.heads.get());
            send(c, "b".repeat(900)); // 1500 of 5000: past the limit, the app is asked with 3500 still to come
            origin.awaitHeads(before + 1);
            awaitMetric(s, HELD, 0);
            send(c, "c".repeat(3500));
            String response = readUntil(c.getInputStream(), "5000");
            assertTrue(response.startsWith("HTTP/1.1 200") && response.endsWith("\r\n\r\n5000"), response);
        }
    }

    @Test
    void shouldSendABodyOnAtOnceWhenTheBudgetForHeldBodiesIsSpent() throws Exception {
        try (SidecarImpl s = sidecar(64 * 1024, 100); Socket a = connect(s.port()); Socket b = connect(s.port())) {
            int before = origin.heads.get();
            send(a, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "a".repeat(60));
            awaitMetric(s, HELD, 60);
            send(b, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "b".repeat(60));
            origin.awaitHeads(before + 1); // 120 > 100: b goes on to the app with what it sent; a is still held
            awaitMetric(s, HELD, 60);
            send(a, "a".repeat(940));
            send(b, "b".repeat(940));
            assertTrue(readUntil(a.getInputStream(), "1000").startsWith("HTTP/1.1 200"));
            assertTrue(readUntil(b.getInputStream(), "1000").startsWith("HTTP/1.1 200"));
            awaitMetric(s, HELD, 0);
        }
    }

    @Test
    void shouldAnswer408ToAStalledBodyAndGiveBackWhatAClientThatLeftHeld() throws Exception {
        try (SidecarImpl s = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofMillis(800)).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            origin.seen.clear();
            int before = origin.heads.get();
            try (Socket c = connect(s.port())) {
                send(c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it");
                String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(all.startsWith("HTTP/1.1 408"), all);
                assertTrue(all.toLowerCase(Locale.ROOT).contains("connection: close"), all);
            }
            assertEquals(1.0, metric(s, "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"408\"}"));
            try (Socket c = connect(s.port())) {
                send(c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nleaving");
                awaitMetric(s, HELD, 7);
            }
            awaitMetric(s, HELD, 0);
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            assertEquals(before, origin.heads.get(), "neither reached the app");
            assertNull(origin.seen.poll(100, TimeUnit.MILLISECONDS));
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
        }
    }

    /**
     * A listening port whose accept queue is full: a connection to it is neither refused nor accepted, so the
     * sidecar waits on it until {@code proxy.connect.timeout} (Linux drops the SYN of a connection the queue has no
     * room for, and the client sends it again).
     */
    static final class StalledApp implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> queued = new ArrayList<>();

        StalledApp() throws IOException {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            for (int k = 0; k < 4; k++) {
                Socket q = new Socket();
                try {
                    q.connect(server.getLocalSocketAddress(), 300);
                    queued.add(q);
                } catch (SocketTimeoutException full) {
                    q.close();
                    return;
                }
            }
            throw new IllegalStateException("the accept queue never filled up");
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            for (Socket q : queued) {
                q.close();
            }
            server.close();
        }
    }

    @Test
    void shouldHoldNoBodyThatArrivesOnceTheBudgetIsSpent() throws Exception {
        // The app takes its connect timeout to connect, so held bytes stay held. The budget is spent by the first
        // body; each of 20 bodies arriving after it used to be held all the same for its first chunk (~2,000 bytes
        // each here, up to 8 KiB), 40,000 bytes over a 100-byte budget. They stream now: nothing more is held.
        List<Socket> clients = new ArrayList<>();
        try (StalledApp app = new StalledApp();
             SidecarImpl s = SidecarImpl.start(options(origin).app(app.url()).requestBufferBytes(64 * 1024).requestBufferMaxBytes(100)
                             .connectTimeout(Duration.ofSeconds(8)).upstreamTimeout(Duration.ofSeconds(20)).eventLoops(1),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            Socket a = connect(s.port());
            clients.add(a);
            send(a, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "a".repeat(100));
            awaitMetric(s, HELD, 100);
            for (int k = 0; k < 20; k++) {
                Socket b = connect(s.port());
                clients.add(b);
                send(b, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "b".repeat(8000));
            }
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 21);
            Thread.sleep(300);
            assertEquals(100.0, metric(s, HELD), "bytes held");
            for (Socket c : clients) {
                c.close();
            }
            awaitMetric(s, HELD, 0); // given back at once by clients that left while the app was being connected to
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
    }

    /** The body of the response whose head is {@code head}, by Content-Length or chunked. */
    static String body(InputStream in, String head) throws Exception {
        String h = head.toLowerCase();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (h.contains("transfer-encoding: chunked")) {
            while (true) {
                String line = readUntil(in, "\r\n").trim();
                int n = Integer.parseInt(line.split(";")[0], 16);
                if (n == 0) {
                    readUntil(in, "\r\n");
                    break;
                }
                b.write(in.readNBytes(n));
                readUntil(in, "\r\n");
            }
        } else {
            int i = h.indexOf("content-length:");
            int n = Integer.parseInt(h.substring(i + 15, h.indexOf("\r\n", i)).trim());
            b.write(in.readNBytes(n));
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void shouldPassEveryByteOnceAroundTheLimitWhetherHeldWholeOrHandedOver() throws Exception {
        // bodies just under, at and over the limit (1000), written in random pieces: the app echoes each exactly
        Random r = new Random(1);
        try (SidecarImpl s = SidecarImpl.start(options(origin).requestBufferBytes(1000).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (int size : new int[] {1, 999, 1000, 1001, 1999, 2000, 3007, 100_000}) {
                for (boolean chunked : new boolean[] {false, true}) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < size; i++) {
                        sb.append((char) ('a' + r.nextInt(26)));
                    }
                    String sent = sb.toString();
                    try (Socket c = connect(s.port())) {
                        OutputStream out = c.getOutputStream();
                        out.write(("POST /echo HTTP/1.1\r\nHost: x\r\n" + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + size + "\r\n") + "\r\n").getBytes());
                        int pos = 0;
                        while (pos < size) {
                            int n = Math.min(size - pos, 1 + r.nextInt(700));
                            String part = sent.substring(pos, pos + n);
                            out.write((chunked ? Integer.toHexString(n) + "\r\n" + part + "\r\n" : part).getBytes());
                            out.flush();
                            pos += n;
                            if (r.nextInt(4) == 0) {
                                Thread.sleep(2);
                            }
                        }
                        if (chunked) {
                            out.write("0\r\n\r\n".getBytes());
                        }
                        out.flush();
                        String head = readUntil(c.getInputStream(), "\r\n\r\n");
                        assertTrue(head.startsWith("HTTP/1.1 200"), head);
                        assertEquals(sent, body(c.getInputStream(), head), "size " + size + " chunked " + chunked);
                    }
                }
            }
            awaitMetric(s, HELD, 0);
        }
    }

    @Test
    void shouldServeRequestsPipelinedBehindAHeldBody() throws Exception {
        try (SidecarImpl s = sidecar(1000, 32 << 20); Socket c = connect(s.port())) {
            String big = "y".repeat(5000);
            c.getOutputStream().write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + big
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                    + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
            InputStream in = c.getInputStream();
            // a body held whole, one handed over after its first 1000 bytes, a chunked one, then a GET: in order
            for (String expected : new String[] {"hello", big, "abc", "hello"}) {
                String h = readUntil(in, "\r\n\r\n");
                assertTrue(h.startsWith("HTTP/1.1 200"), h);
                assertEquals(expected, body(in, h));
            }
            awaitMetric(s, HELD, 0);
        }
    }

    @Test
    void shouldGiveBackHeldBytesOnA400A413AndA502() throws Exception {
        // a chunk size that is not hex while the body is held: 400
        try (SidecarImpl s = SidecarImpl.start(options(origin).requestBufferBytes(1000).maxRequestBodyBytes(2000).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n".getBytes());
                awaitMetric(s, HELD, 3);
                c.getOutputStream().write("zz\r\nabc\r\n".getBytes());
                String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(all.startsWith("HTTP/1.1 400"), all);
            }
            awaitMetric(s, HELD, 0);
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            // a chunked body over --proxy-max-request-body-bytes while held: 413
            try (SidecarImpl s2 = SidecarImpl.start(options(origin).requestBufferBytes(64 * 1024).maxRequestBodyBytes(2000).eventLoops(1),
                    new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
                try (Socket c = connect(s2.port())) {
                    c.getOutputStream().write("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n".getBytes());
                    c.getOutputStream().write(("x".repeat(1000) + "\r\n").getBytes());
                    awaitMetric(s2, HELD, 1000);
                    c.getOutputStream().write(("7d0\r\n" + "x".repeat(2000) + "\r\n").getBytes());
                    String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(all.startsWith("HTTP/1.1 413"), all);
                }
                awaitMetric(s2, HELD, 0);
                awaitMetric(s2, "tapline_sidecar_in_flight_requests", 0);
            }
        }
        // the app refuses the connection once the body was read: 502
        TestOrigin dead = new TestOrigin();
        int port = dead.port();
        dead.close();
        try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + port).requestBufferBytes(1000).eventLoops(1),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write(("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + "q".repeat(1500)).getBytes());
                String h = readUntil(c.getInputStream(), "\r\n\r\n");
                assertTrue(h.startsWith("HTTP/1.1 502"), h);
            }
            awaitMetric(s, HELD, 0);
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
        }
    }
}
