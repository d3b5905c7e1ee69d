package io.tapline.sidecar.impl;

import io.tapline.avro.Interaction;
import io.tapline.ops.ExpositionCheck;
import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitMetric;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitRecords;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.decode;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An app that closes a keep-alive connection as the sidecar reuses it: a raw-socket app answers a connection's first
 * request and meets the next one on it by closing (or resetting) the connection unanswered, which is what the sidecar
 * sees when the app's keep-alive timeout and the sidecar's reuse of the idle connection cross. One event loop, so the
 * second request takes the pooled connection the first one left.
 */
@Timeout(60)
class SidecarStaleConnectionTest {

    static final String RETRIED_CLOSED = "tapline_sidecar_upstream_retries_total{listener=\"inbound\",reason=\"closed\"}";
    static final String HELD = SidecarRequestBufferingTest.HELD;

    /** How the app meets a request. */
    enum Fate {
        ANSWER, CLOSE, RESET, PARTIAL_HEAD
    }

    /** A request the app read: on its {@code connection}-th connection, the {@code index}-th request there (from 1). */
    record Seen(int connection, int index, String head, byte[] body) {
        String line() {
            return head.substring(0, head.indexOf("\r\n"));
        }
    }

    /** The raw-socket app: the first request on every connection is answered, a later one meets {@code later}. */
    static final class App implements AutoCloseable {
        final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        /** The connections the sidecar closed while the app waited for their next request. */
        final BlockingQueue<Integer> closedBySidecar = new LinkedBlockingQueue<>();
        final AtomicInteger connections = new AtomicInteger();
        final RawServer server;

        App(Fate first, Fate later) throws IOException {
            server = new RawServer(c -> {
                int connection = connections.incrementAndGet();
                InputStream in = c.getInputStream();
                OutputStream out = c.getOutputStream();
                for (int index = 1; ; index++) {
                    String head = readUntil(in, "\r\n\r\n");
                    if (!head.endsWith("\r\n\r\n")) {
                        closedBySidecar.add(connection);
                        return;
                    }
                    seen.add(new Seen(connection, index, head, body(in, head)));
                    Fate fate = index == 1 ? first : later;
                    switch (fate) {
                        case ANSWER -> {
                            String body = "c" + connection + " " + head.substring(0, head.indexOf(' '));
                            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                                    .getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                        case CLOSE -> {
                            return; // RawServer closes the connection: a FIN, no byte of an answer
                        }
                        case RESET -> {
                            c.setSoLinger(true, 0); // the close sends a reset
                            return;
                        }
                        case PARTIAL_HEAD -> {
                            out.write("HTTP/1.1 200 OK\r\nContent-".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            return;
                        }
                    }
                }
            });
        }

        int port() {
            return server.port();
        }

        /** The requests seen so far, as "connection/index request-line". */
        List<String> lines() {
            return seen.stream().map(s -> s.connection() + "/" + s.index() + " " + s.line()).toList();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** The body after {@code head}: Content-Length bytes, or a chunked body decoded. */
    static byte[] body(InputStream in, String head) throws IOException {
        String lower = head.toLowerCase(Locale.ROOT);
        int cl = lower.indexOf("\r\ncontent-length:");
        if (cl >= 0) {
            int n = Integer.parseInt(lower.substring(cl + 17, lower.indexOf("\r\n", cl + 2)).trim());
            return in.readNBytes(n);
        }
        if (!lower.contains("\r\ntransfer-encoding: chunked")) {
            return new byte[0];
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = readUntil(in, "\r\n");
            int n = Integer.parseInt(size.trim(), 16);
            if (n == 0) {
                readUntil(in, "\r\n");
                return body.toByteArray();
            }
            body.write(in.readNBytes(n));
            readUntil(in, "\r\n");
        }
    }

    static SidecarImpl sidecar(App app, MockProducer<String, byte[]> producer, long requestBufferBytes) throws Exception {
        SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                .addEgress("dep", "http://127.0.0.1:" + app.port()).redactionKey("test-key-0123456789abcdef")
                .outboundGrace(Duration.ofMillis(50)).requestBufferBytes(requestBufferBytes).eventLoops(1);
        return SidecarImpl.start(o, producer, AVRO);
    }

    static MockProducer<String, byte[]> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }

    /** Sends {@code head} and {@code body} on {@code c}; returns the response's head and body. */
    static String exchange(Socket c, String head, byte[] body) throws IOException {
        OutputStream out = c.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        InputStream in = c.getInputStream();
        String responseHead = readUntil(in, "\r\n\r\n");
        return responseHead + new String(body(in, responseHead), StandardCharsets.US_ASCII);
    }

    static String get(Socket c, String path) throws IOException {
        return exchange(c, "GET " + path + " HTTP/1.1\r\nHost: shop\r\n\r\n", new byte[0]);
    }

    @ParameterizedTest(name = "the app's connection ends by {0}")
    @EnumSource(value = Fate.class, names = {"CLOSE", "RESET"})
    void shouldSendAGetAgainOnANewConnectionWhenAReusedOneEndsUnanswered(Fate fate) throws Exception {
        MockProducer<String, byte[]> producer = producer();
        try (App app = new App(Fate.ANSWER, fate); SidecarImpl s = sidecar(app, producer, 64 * 1024); Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            String again = get(c, "/again");
            // before: a 502 from the sidecar for a request the app would have answered on a connection of its own
            assertTrue(again.startsWith("HTTP/1.1 200 OK\r\n") && again.endsWith("c2 GET"), again);
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "1/2 GET /again HTTP/1.1", "2/1 GET /again HTTP/1.1"), app.lines());
            // the request sent again is the one the app saw the first time, header for header
            List<Seen> seen = new ArrayList<>(app.seen);
            assertTrue(seen.get(2).head().contains("\r\nconnection: close\r\n"), "the connection of the second attempt is not kept");
            assertEquals(seen.get(1).head(), seen.get(2).head().replace("connection: close\r\n", ""));
            String reason = fate == Fate.CLOSE ? "closed" : "reset";
            awaitMetric(s, "tapline_sidecar_upstream_retries_total{listener=\"inbound\",reason=\"" + reason + "\"}", 1);
            assertTrue(!s.metrics().scrape().contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""),
                    "no upstream error: the client got the app's answer");
            // one exchange recorded for the request sent twice: the app's answer to the second
            List<Interaction> recorded = awaitRecords(producer, 2).stream().map(r -> decode(r.value())).toList();
            assertEquals(List.of("/first 200 c1 GET", "/again 200 c2 GET"), recorded.stream().map(i -> i.getRequest().getPath()
                    + " " + i.getResponse().getStatus() + " " + StandardCharsets.US_ASCII.decode(i.getResponse().getBody())).toList());

            HttpResponse<byte[]> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.managementPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(1, ExpositionCheck.check(scrape.body()).value("tapline_sidecar_upstream_retries_total",
                    "listener", "inbound", "reason", reason));
        }
    }

    @Test
    void shouldSendADependencyCallAgainOnANewConnectionWhenAReusedOneEndsUnanswered() throws Exception {
        try (App app = new App(Fate.ANSWER, Fate.CLOSE); SidecarImpl s = sidecar(app, producer(), 64 * 1024);
             Socket c = connect(s.egressPort())) {
            assertTrue(get(c, "/dep/first").endsWith("c1 GET"));
            String again = get(c, "/dep/again");
            assertTrue(again.startsWith("HTTP/1.1 200 OK\r\n") && again.endsWith("c2 GET"), again);
            awaitMetric(s, "tapline_sidecar_upstream_retries_total{listener=\"egress\",reason=\"closed\"}", 1);
        }
    }

    @Test
    void shouldAnswer502ForAPostOnAReusedConnectionThatEndsUnanswered() throws Exception {
        // not idempotent: the app may have acted on it before its connection went, and would act twice
        MockProducer<String, byte[]> producer = producer();
        try (App app = new App(Fate.ANSWER, Fate.CLOSE); SidecarImpl s = sidecar(app, producer, 64 * 1024); Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            String post = exchange(c, "POST /order HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\n\r\n", "hello".getBytes(StandardCharsets.US_ASCII));
            assertTrue(post.startsWith("HTTP/1.1 502"), post);
            awaitMetric(s, "tapline_sidecar_upstream_errors_total{listener=\"inbound\",status=\"502\"}", 1);
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "1/2 POST /order HTTP/1.1"), app.lines());
            assertEquals(-1, metric(s, RETRIED_CLOSED));
            awaitMetric(s, HELD, 0);
        }
    }

    @Test
    void shouldNotSendAgainOnceAByteOfTheAnswerArrived() throws Exception {
        try (App app = new App(Fate.ANSWER, Fate.PARTIAL_HEAD); SidecarImpl s = sidecar(app, producer(), 64 * 1024);
             Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            String again = get(c, "/again");
            assertTrue(again.startsWith("HTTP/1.1 502"), again);
            awaitMetric(s, "tapline_sidecar_upstream_errors_total{listener=\"inbound\",status=\"502\"}", 1);
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "1/2 GET /again HTTP/1.1"), app.lines());
            assertEquals(-1, metric(s, RETRIED_CLOSED));
        }
    }

    @Test
    void shouldNotSendAgainARequestThatFailedOnANewConnection() throws Exception {
        // only a reused connection can be stale: an app that drops a request on a connection of its own failed it
        try (App app = new App(Fate.CLOSE, Fate.CLOSE); SidecarImpl s = sidecar(app, producer(), 64 * 1024);
             Socket c = connect(s.port())) {
            String first = get(c, "/first");
            assertTrue(first.startsWith("HTTP/1.1 502"), first);
            awaitMetric(s, "tapline_sidecar_upstream_errors_total{listener=\"inbound\",status=\"502\"}", 1);
            assertEquals(List.of("1/1 GET /first HTTP/1.1"), app.lines());
            assertEquals(-1, metric(s, RETRIED_CLOSED));
        }
    }

    @Test
    void shouldLetAnIdlePooledConnectionGoAfterTheUpstreamKeepAliveTimeout() throws Exception {
        // Closed by the sidecar before the app's own keep-alive timeout, an idle connection is never reused as the app
        // closes it. Vert.x kept it 60 s: the next request went on it and met the app closing it.
        App app = new App(Fate.ANSWER, Fate.CLOSE);
        SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + app.port()).redactionKey("test-key-0123456789abcdef")
                .upstreamKeepAliveTimeout(Duration.ofSeconds(1)).eventLoops(1);
        try (app; SidecarImpl s = SidecarImpl.start(o, producer(), AVRO); Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            assertEquals(1, app.closedBySidecar.poll(10, TimeUnit.SECONDS), "the idle connection closed by the sidecar");
            assertTrue(get(c, "/later").endsWith("c2 GET"));
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "2/1 GET /later HTTP/1.1"), app.lines());
            assertEquals(-1, metric(s, RETRIED_CLOSED));
        }
    }

    @ParameterizedTest(name = "chunked {0}")
    @ValueSource(booleans = {false, true})
    void shouldSendABodyHeldWholeAgainByteForByte(boolean chunked) throws Exception {
        byte[] body = new byte[5000];
        new Random(7).nextBytes(body);
        MockProducer<String, byte[]> producer = producer();
        try (App app = new App(Fate.ANSWER, Fate.CLOSE); SidecarImpl s = sidecar(app, producer, 64 * 1024); Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            String put;
            if (chunked) {
                ByteArrayOutputStream framed = new ByteArrayOutputStream();
                framed.write("7d0\r\n".getBytes(StandardCharsets.US_ASCII));
                framed.write(body, 0, 2000);
                framed.write("\r\nbb8\r\n".getBytes(StandardCharsets.US_ASCII));
                framed.write(body, 2000, 3000);
                framed.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                put = exchange(c, "PUT /doc HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n", framed.toByteArray());
            } else {
                put = exchange(c, "PUT /doc HTTP/1.1\r\nHost: shop\r\nContent-Length: 5000\r\n\r\n", body);
            }
            assertTrue(put.startsWith("HTTP/1.1 200 OK\r\n") && put.endsWith("c2 PUT"), put);
            List<Seen> seen = new ArrayList<>(app.seen);
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "1/2 PUT /doc HTTP/1.1", "2/1 PUT /doc HTTP/1.1"), app.lines());
            assertArrayEquals(body, seen.get(1).body());
            assertArrayEquals(body, seen.get(2).body(), "the body sent again is the one the client sent");
            awaitMetric(s, RETRIED_CLOSED, 1);
            awaitMetric(s, HELD, 0); // kept for the second attempt, given back once the answer began
            List<Interaction> recorded = awaitRecords(producer, 2).stream().map(r -> decode(r.value())).toList();
            byte[] captured = new byte[recorded.get(1).getRequest().getBody().remaining()];
            recorded.get(1).getRequest().getBody().get(captured);
            assertArrayEquals(body, captured, "the request body recorded once, as the client sent it");
        }
    }

    @ParameterizedTest(name = "request buffer {0} bytes")
    @ValueSource(longs = {0, 1000})
    void shouldNotSendAgainABodyThatStreamed(long requestBufferBytes) throws Exception {
        // a body larger than the buffer (or with none) streamed to the app as it came: no copy is left to send again
        byte[] body = new byte[3000];
        Arrays.fill(body, (byte) 'x');
        try (App app = new App(Fate.ANSWER, Fate.CLOSE); SidecarImpl s = sidecar(app, producer(), requestBufferBytes);
             Socket c = connect(s.port())) {
            assertTrue(get(c, "/first").endsWith("c1 GET"));
            String put = exchange(c, "PUT /doc HTTP/1.1\r\nHost: shop\r\nContent-Length: 3000\r\n\r\n", body);
            assertTrue(put.startsWith("HTTP/1.1 502"), put);
            assertEquals(List.of("1/1 GET /first HTTP/1.1", "1/2 PUT /doc HTTP/1.1"), app.lines());
            assertEquals(-1, metric(s, RETRIED_CLOSED));
        }
    }
}
