package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.avro.CallKind;
import io.tapline.avro.Interaction;
import io.tapline.avro.UnattributedCall;
import io.tapline.http.RequestHead;
import io.tapline.logging.TaplineLogging;
import io.tapline.redaction.Redactor;
import io.tapline.serde.PlainAvro;
import io.tapline.text.ShownText;
import io.tapline.topics.TaplineTopics;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import org.apache.avro.specific.SpecificRecord;
import io.tapline.avro.OutboundCall;
import io.tapline.sidecar.SidecarOptions;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy and capture path end to end in-process: real loopback HTTP, Kafka's MockProducer, plain Avro. */
@Timeout(120)
class SidecarProxyTest {

    static TestOrigin origin;
    static MockProducer<String, byte[]> producer;
    static SidecarImpl sidecar;
    static HttpClient http;

    static final Serializer<SpecificRecord> AVRO = PlainAvro.SERIALIZER;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarOptions o = options(origin).captureMaxBodyBytes(1024).maxRequestBodyBytes(10_000_000)
                .upstreamTimeout(Duration.ofSeconds(1)).outboundGrace(Duration.ofMillis(50));
        sidecar = SidecarImpl.start(o, producer, AVRO);
        origin.egressPort = sidecar.egressPort();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** What the sidecar logs from this object's creation until it is closed. */
    static final class CapturedLog implements AutoCloseable {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        CapturedLog() {
            TaplineLogging.output(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        }

        String text() {
            TaplineLogging.flush(Duration.ofSeconds(10));
            return bytes.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            TaplineLogging.output(System.err);
        }
    }

    static SidecarOptions options(TestOrigin origin) {
        return new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + origin.port()).service("shop").instance("test-1")
                .addEgress("inv", "http://127.0.0.1:" + origin.port())
                .redactionKey("test-key-0123456789abcdef");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        try {
            // Every path the tests took (published, dropped, late, failed upstream, aborted, tunnels) gave back the
            // capture memory it took: a leak here would end capture for good once the budget filled up.
            awaitMetric(sidecar, "tapline_sidecar_capture_memory_bytes", 0);
            assertEquals(0.0, metric(sidecar, "tapline_sidecar_capture_memory_bytes"), "capture memory still held");
        } finally {
            sidecar.close();
            origin.close();
        }
    }

    @BeforeEach
    void clear() throws InterruptedException {
        // let captures of the previous test (grace period, queue) drain before starting from an empty history
        awaitCapturesSettled(sidecar);
        Thread.sleep(50);
        producer.clear();
        origin.seen.clear();
        sidecar.setCaptureEnabled(true);
    }

    static Interaction decode(byte[] bytes) {
        try {
            return new SpecificDatumReader<>(Interaction.class).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for exactly {@code n} interactions (records on the interactions topic). */
    static List<ProducerRecord<String, byte[]>> awaitRecords(int n) throws InterruptedException {
        return awaitRecords(producer, n);
    }

    /** Waits for exactly {@code n} interactions published through {@code p}. */
    static List<ProducerRecord<String, byte[]>> awaitRecords(MockProducer<String, byte[]> p, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (interactions(p).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<ProducerRecord<String, byte[]>> h = interactions(p);
        assertEquals(n, h.size(), "published interactions");
        return h;
    }

    static List<ProducerRecord<String, byte[]>> interactions(MockProducer<String, byte[]> p) {
        return p.history().stream().filter(r -> r.topic().equals(TaplineTopics.INTERACTIONS)).toList();
    }

    /** A client socket to {@code port} on loopback. */
    static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(5000); // a connection the sidecar leaves open fails the test with a read timeout
        return s;
    }

    static List<UnattributedCall> unattributed() {
        return producer.history().stream().filter(r -> r.topic().equals(TaplineTopics.UNATTRIBUTED)).map(r -> {
            try {
                return new SpecificDatumReader<>(UnattributedCall.class).read(null,
                        DecoderFactory.get().binaryDecoder(r.value(), null));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }

    static String base() {
        return "http://127.0.0.1:" + sidecar.port();
    }

    static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldForwardAndPublishOneInteractionKeyedByServiceAndRoute() throws Exception {
        HttpResponse<String> r = get("/owners/42?page=1&password=hunter2", "X-Request", "a");
        assertEquals(200, r.statusCode());
        assertEquals("hello", r.body());
        TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
        assertNotNull(seen);
        assertEquals("/owners/42?page=1&password=hunter2", seen.uri(), "the app gets the request unchanged");
        TraceContext generated = TraceContext.parse(seen.headers().get("traceparent"));
        assertNotNull(generated, "the sidecar adds a traceparent when the caller sent none");
        assertTrue(seen.headers().get("x-forwarded-for").startsWith("127.0.0.1"));

        ProducerRecord<String, byte[]> rec = awaitRecords(1).get(0);
        assertEquals("shop GET /owners/{id}", rec.key());
        Interaction i = decode(rec.value());
        assertEquals(generated.traceId(), i.getTraceId());
        assertEquals("shop", i.getService());
        assertEquals("test-1", i.getInstance());
        assertEquals("GET", i.getRequest().getMethod());
        assertEquals("/owners/42", i.getRequest().getPath());
        assertTrue(i.getRequest().getRawQuery().startsWith("page=1&password=tapline:hmac:"), i.getRequest().getRawQuery());
        assertEquals(200, i.getResponse().getStatus());
        assertEquals("hello", StandardCharsets.UTF_8.decode(i.getResponse().getBody()).toString());
        assertTrue(i.getLatencyMicros() > 0);
        assertFalse(i.getCompletedAt().isBefore(i.getStartedAt()));
        assertTrue(i.getRedactions().stream().anyMatch(x -> x.getField().equals("password")));
    }

    @Test
    void shouldRedactTheRecordKeyByThePathRules() throws Exception {
        assertEquals(200, get("/users/jane%40example.com/cards/4111-1111-1111-1111/orders/7").statusCode());
        ProducerRecord<String, byte[]> rec = awaitRecords(1).get(0);
        Redactor r = new Redactor("test-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8), Redactor.Rules.defaults());
        assertEquals("shop GET /users/" + r.token("jane@example.com") + "/cards/" + r.token("4111-1111-1111-1111") + "/orders/{id}", rec.key());
        assertEquals("/users/" + r.token("jane@example.com") + "/cards/" + r.token("4111-1111-1111-1111") + "/orders/7",
                decode(rec.value()).getRequest().getPath());
    }

    @Test
    void shouldRunOnNioByDefaultAndOnTheNativeTransportWhereNettyShipsIt() throws Exception {
        assertEquals("nio", sidecar.transport()); // every other test here runs on the default transport
        String arch = System.getProperty("os.arch");
        boolean shipped = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
                && (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"));
        MockProducer<String, byte[]> epollProducer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl epoll = SidecarImpl.start(options(origin).noEgress().nativeTransport(true), epollProducer, AVRO)) {
            assertEquals(shipped ? "native" : "nio", epoll.transport(), "native where Netty ships it, else the NIO fallback");
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + epoll.port() + "/hello"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("hello", r.body());
            assertNotNull(origin.seen.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldKeepTheCallersTraceparent() throws Exception {
        String tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        get("/hello", "traceparent", tp);
        assertEquals(tp, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("traceparent"));
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", decode(awaitRecords(1).get(0).value()).getTraceId());
    }

    @Test
    void shouldReplaceAnUpperCaseTraceparentTheAppWouldNotPropagate() throws Exception {
        get("/hello", "traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01");
        String sent = origin.seen.poll(5, TimeUnit.SECONDS).headers().get("traceparent");
        TraceContext upstream = TraceContext.parse(sent);
        assertNotNull(upstream, "the app gets a valid context: " + sent);
        assertNotEquals("4bf92f3577b34da6a3ce929d0e0e4736", upstream.traceId(), "a new trace, as the app's tracer would start");
        assertEquals(upstream.traceId(), decode(awaitRecords(1).get(0).value()).getTraceId(), "recorded under the id the app propagates");
    }

    @Test
    void shouldStartANewTraceForARequestCarryingTwoTraceparents() throws Exception {
        // W3C's test suite (test_traceparent_duplicated): two traceparent lines are invalid, the trace is restarted. A
        // tracer reading them joined ("a,b", as Node.js and WSGI servers give them) restarts it anyway, so keeping
        // the first put the request and the app's calls under different trace ids.
        String a = "00-12345678901234567890123456789011-1234567890123456-01";
        String b = "00-12345678901234567890123456789012-1234567890123456-01";
        get("/hello", "traceparent", a, "traceparent", b);
        String sent = origin.seen.poll(5, TimeUnit.SECONDS).headers().get("traceparent");
        TraceContext upstream = TraceContext.parse(sent);
        assertNotNull(upstream, "the app gets one valid traceparent: " + sent);
        assertNotEquals("12345678901234567890123456789011", upstream.traceId());
        assertNotEquals("12345678901234567890123456789012", upstream.traceId());
        Interaction i = decode(awaitRecords(1).get(0).value());
        assertEquals(upstream.traceId(), i.getTraceId(), "recorded under the id the app propagates");
        assertEquals(List.of(a, b), i.getRequest().getHeaders().stream().filter(h -> h.getName().equals("traceparent"))
                .map(h -> h.getValue()).toList(), "the record keeps what the client sent");
    }

    @Test
    void shouldDropTheCallersTracestateWhenItStartsANewTrace() throws Exception {
        // W3C processing model: a tracestate without a valid traceparent is discarded; given to the app beside the
        // sidecar's new traceparent, the app's tracer would carry another trace's vendor state into this one.
        String valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        for (String[] headers : List.of(new String[] {"tracestate", "vendor=opaque"},
                new String[] {"traceparent", valid.toUpperCase(Locale.ROOT), "tracestate", "vendor=opaque"},
                new String[] {"traceparent", valid, "traceparent", valid, "tracestate", "vendor=opaque"})) {
            get("/hello", headers);
            TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
            assertNotNull(TraceContext.parse(seen.headers().get("traceparent")), String.join(" ", headers));
            assertNull(seen.headers().get("tracestate"), String.join(" ", headers));
        }
        get("/hello", "traceparent", valid, "tracestate", "vendor=opaque");
        assertEquals("vendor=opaque", origin.seen.poll(5, TimeUnit.SECONDS).headers().get("tracestate"),
                "kept beside the caller's own traceparent");
        awaitRecords(4);
    }

    @Test
    void shouldStreamLargeBodiesUnchangedWhileCapturingOnlyTheCap() throws Exception {
        byte[] upload = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(upload);
        HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(base() + "/count"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(upload))) // chunked
                .header("content-type", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(Integer.toString(upload.length), up.body(), "the app received every byte");
        Interaction i = decode(awaitRecords(1).get(0).value());
        // the first KiB, less the bytes after its last delimiter (a cut body ends at its last whole word)
        int kept = i.getRequest().getBody().remaining();
        assertTrue(kept > 1024 - 64 && kept <= 1024, "kept " + kept);
        assertTrue(i.getRequest().getTruncated());
        assertEquals(upload.length, i.getRequest().getOriginalSize());
        byte[] firstK = new byte[kept];
        i.getRequest().getBody().get(firstK);
        assertArrayEquals(java.util.Arrays.copyOf(upload, kept), firstK);

        producer.clear();
        HttpResponse<byte[]> down = http.send(HttpRequest.newBuilder(URI.create(base() + "/download?n=5000000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(5_000_000, down.body().length);
        for (int k = 0; k < down.body().length; k += 99_991) {
            assertEquals((byte) ((k % 8192) % 251), down.body()[k]);
        }
        Interaction d = decode(awaitRecords(1).get(0).value());
        assertTrue(d.getResponse().getTruncated());
        assertEquals(5_000_000, d.getResponse().getOriginalSize());
        assertEquals(1024, d.getResponse().getBody().remaining());
    }

    @Test
    void shouldPassCompressedBodiesThroughAndCaptureThemDecodedAndRedacted() throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/gzip")).header("Accept-Encoding", "gzip").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals("gzip", r.headers().firstValue("content-encoding").orElse(null));
        String plain = new String(new GZIPInputStream(new java.io.ByteArrayInputStream(r.body())).readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(plain.contains("someone@example.com"), "the client gets the original compressed bytes");
        Interaction i = decode(awaitRecords(1).get(0).value());
        String captured = StandardCharsets.UTF_8.decode(i.getResponse().getBody()).toString();
        assertTrue(captured.contains("compressed hello"), captured);
        assertFalse(captured.contains("someone@example.com"), captured);
        assertNull(i.getResponse().getContentEncoding(), "the captured copy is decoded");
        assertTrue(i.getResponse().getHeaders().stream().anyMatch(h -> h.getName().equalsIgnoreCase("content-encoding") && h.getValue().equals("gzip")));
    }

    @Test
    void shouldDropHopByHopHeaders() throws Exception {
        String resp = raw("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                + "TE: deflate\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nX-End: 2\r\n\r\n");
        assertTrue(resp.startsWith("HTTP/1.1 200"), resp);
        TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
        for (String hop : List.of("x-hop", "keep-alive", "te", "proxy-authorization")) {
            assertFalse(seen.headers().containsKey(hop), hop + " must not be forwarded");
        }
        assertEquals("2", seen.headers().get("x-end"));
        assertEquals("x", seen.headers().get("host"), "Host is preserved");
    }

    @Test
    void shouldAnswer502WhenTheAppIsDownAnd504WhenItIsTooSlowAndPublishNeither() throws Exception {
        // The sidecar's own answer is not the app's behaviour: as a case it would fail every healthy candidate.
        String noAppResponse = "tapline_sidecar_dropped_total{reason=\"no_app_response\"}";
        double before = metric(sidecar, noAppResponse);
        assertEquals(504, get("/slow").statusCode());
        awaitMetric(sidecar, noAppResponse, before + 1);
        assertEquals(200, get("/hello").statusCode());
        Interaction next = decode(awaitRecords(1).get(0).value());
        assertEquals("/hello", next.getRequest().getPath(), "only the answered request is published");

        int deadPort = closedPort();
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        CapturedLog log = new CapturedLog();
        try (log; SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + deadPort), p2, AVRO)) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/users/ann@example.com")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(502, r.statusCode());
            }
            awaitMetric(s, noAppResponse, 3);
            assertEquals(3.0, metric(s, "tapline_sidecar_captured_total"), "captured, then not published");
            assertEquals(List.of(), interactions(p2), "the sidecar's 502 is not published");
        }
        // The operator hears of an app that does not answer: one warning, not one per request, and no path in it.
        List<String> warnings = log.text().lines().filter(l -> l.contains("the app did not answer")).toList();
        assertEquals(1, warnings.size(), log.text());
        assertTrue(warnings.get(0).contains("WARN") && warnings.get(0).contains("502") && warnings.get(0).contains("Connection refused"), warnings.get(0));
        assertFalse(warnings.get(0).contains("ann@example.com"), warnings.get(0));
    }

    @Test
    void shouldWarnWhenTheAppDoesNotAnswerAWebSocketHandshake() throws Exception {
        // A client that only opens WebSockets through a sidecar with a wrong --app gets 502s: the operator must hear
        // of it as for any other request.
        int deadPort = closedPort();
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        CapturedLog log = new CapturedLog();
        try (log; SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + deadPort), p2, AVRO);
             Socket client = new Socket("127.0.0.1", s.port())) {
            client.setSoTimeout(5000);
            client.getOutputStream().write(("GET /chat/ann@example.com HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = readUntil(client.getInputStream(), "\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 502"), answer);
        }
        List<String> warnings = log.text().lines().filter(l -> l.contains("the app did not answer")).toList();
        assertEquals(1, warnings.size(), log.text());
        assertTrue(warnings.get(0).contains("502") && warnings.get(0).contains("Connection refused"), warnings.get(0));
        assertFalse(warnings.get(0).contains("ann@example.com"), warnings.get(0));
    }

    @Test
    void shouldReleaseWhatItStartedWhenTheManagementPortIsTaken() throws Exception {
        int listen;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            listen = free.getLocalPort();
        }
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            SidecarOptions o = options(origin).listen("127.0.0.1", listen).noEgress().management("127.0.0.1", taken.getLocalPort());
            assertThrows(io.tapline.config.ConfigException.class, () -> SidecarImpl.start(o, p2, AVRO));
        }
        // the proxy's listener was closed with the rest: its port is free again, nothing answers on it
        try (java.net.ServerSocket again = new java.net.ServerSocket(listen, 50, java.net.InetAddress.getLoopbackAddress())) {
            assertEquals(listen, again.getLocalPort());
        }
        assertTrue(p2.closed(), "the producer is closed");
    }

    @Test
    void shouldNameTheListenerWhosePortIsTaken() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            io.tapline.config.ConfigException egress = assertThrows(io.tapline.config.ConfigException.class,
                    () -> SidecarImpl.start(options(origin).egressListen("127.0.0.1", port), p2, AVRO));
            assertTrue(egress.getMessage().startsWith("option --egress-listen: cannot listen on 127.0.0.1:" + port + ": "),
                    egress.getMessage());
            MockProducer<String, byte[]> p3 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            io.tapline.config.ConfigException inbound = assertThrows(io.tapline.config.ConfigException.class,
                    () -> SidecarImpl.start(options(origin).listen("127.0.0.1", port), p3, AVRO));
            assertTrue(inbound.getMessage().startsWith("option --listen: cannot listen on 127.0.0.1:" + port + ": "),
                    inbound.getMessage());
            assertFalse(inbound.getMessage().contains("Listen["), inbound.getMessage());
        }
    }

    @Test
    void shouldRejectMalformedRequestsWithTheRightStatus() throws Exception {
        // RFC 9112 §6.1: a request with both Transfer-Encoding and Content-Length is a smuggling risk. It is refused
        // (400, which §6.1 allows), the connection is closed after the answer, and nothing reaches the app.
        Refused both = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n");
        assertTrue(both.head().startsWith("HTTP/1.1 400"), both.head());
        assertEquals("malformed request\n", both.rest(), "the connection is closed after the 400");
        assertEquals(null, origin.seen.poll(300, TimeUnit.MILLISECONDS), "nothing is forwarded");
        assertTrue(raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n").startsWith("HTTP/1.1 413"));
        // A 413 says Connection: close, and means it (RFC 9112 9.6): a request pipelined behind the refused one, where
        // its unread body would be, is never read as a request.
        Refused refused = refusedAndClosed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n"
                + "GET /after413 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(refused.head().startsWith("HTTP/1.1 413"), refused.head());
        assertFalse(refused.rest().contains("HTTP/1.1 200"), "nothing after the 413");
        assertEquals(null, origin.seen.poll(300, TimeUnit.MILLISECONDS), "the pipelined request is not forwarded");
        assertTrue(raw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n").startsWith("HTTP/1.1 431"));
        String garbage = raw("GET /hello HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n");
        assertTrue(garbage.startsWith("HTTP/1.1 400"), garbage);
        assertEquals(200, get("/hello").statusCode(), "the sidecar still serves");
    }

    @Test
    void shouldRefuseAContentLengthThatIsNotOneLength() throws Exception {
        // RFC 9112 6.3: an invalid Content-Length leaves the body's end unknown; forwarded, the app could frame the
        // bytes differently from the sidecar. 400, the connection closed, nothing forwarded.
        for (String cl : List.of("abc", "-1", "5, 6", "0x5", "+5")) {
            Refused r = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: " + cl + "\r\n\r\nhello");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), cl + ": " + r.head());
        }
        Refused twice = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        assertTrue(twice.head().startsWith("HTTP/1.1 400"), twice.head());
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
        assertEquals(200, get("/hello").statusCode(), "the sidecar still serves");
    }

    @Test
    void shouldRefuseHeadsThatTheAppCouldFrameOrRouteDifferently() throws Exception {
        // RFC 9112 §6.1: a transfer coding the proxy does not implement is refused (501, as nginx does). Forwarding it
        // would hand the app gzip-coded bytes as if they were the body, since the proxy re-chunks what it decoded.
        Refused gzip = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n");
        assertTrue(gzip.head().startsWith("HTTP/1.1 501"), gzip.head());
        assertEquals("Transfer-Encoding gzip is not implemented\n", gzip.rest(), "the connection is closed after the 501");
        // Every Transfer-Encoding line counts: chunked applied twice, or not the final coding, leaves the length unknown (§6.3).
        for (String te : List.of("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity")) {
            Refused r = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\n" + te + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), te + ": " + r.head());
        }
        // RFC 9112 §3.2: an HTTP/1.1 request without Host, with two, or with an invalid one gets 400.
        for (String host : List.of("", "Host: x\r\nHost: y\r\n", "Host: a b\r\n", "Host: a/b\r\n", "Host:\r\n",
                "Host: a..b\r\n", "Host: a?b\r\n", "Host: [::1\r\n", "Host: bücher.example\r\n", "Host: a:http\r\n")) {
            Refused r = refusedAndClosed("GET /hello HTTP/1.1\r\n" + host + "\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), host + ": " + r.head());
        }
        assertEquals(null, origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");

        assertTrue(rawToClose("GET /hello HTTP/1.0\r\n\r\n").startsWith("HTTP/1.0 200"), "HTTP/1.0 needs no Host");
        assertEquals("127.0.0.1:" + origin.port(), origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"));
        for (String host : List.of("[::1]:8080", "xn--bcher-kva.example", "a.example.", "a_b:8080")) {
            assertTrue(raw("GET /hello HTTP/1.1\r\nHost: " + host + "\r\n\r\n").startsWith("HTTP/1.1 200"), host);
            assertEquals(host, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"));
        }
        assertNull(RequestHead.check(MultiMap.caseInsensitiveMultiMap().add("Host", "x")
                .add("Transfer-Encoding", "chunked").add("Transfer-Encoding", ", "), HttpVersion.HTTP_1_1,
                HostAndPort.create("x", -1)),
                "empty list elements are no codings");
    }

    @Test
    void shouldRefuseARequestTargetInNoFormTheRequestMayTake() throws Exception {
        // RFC 9112 3.2: a request's target is in origin form (/path), absolute form (http://host/path), the asterisk
        // form for a server-wide OPTIONS, or the authority form for CONNECT alone. Anything else was forwarded as it
        // came ("GET @evil/x" reached the app as its target, appended to --app's base path if any; "GET ?a=1" became
        // "/?a=1"); nginx answers 400. A CONNECT was forwarded to the app and its answer relayed as a plain one while the
        // client's next bytes were read as requests: the inbound listener does not tunnel (the egress does), so 501.
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"400\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        List<String> targets = List.of("x", "@evil/x", "?a=1", "*", "a.example:80", "ftp://a/x");
        for (String target : targets) {
            Refused r = refusedAndClosed("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), target + ": " + r.head());
            assertEquals("invalid request target\n", r.rest(), target + ": nothing served after the 400");
        }
        Refused connect = refusedAndClosed("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(connect.head().startsWith("HTTP/1.1 501"), connect.head());
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
        awaitMetric(sidecar, rejected400, before400 + targets.size());
        // the forms a request may take are served
        for (String line : List.of("GET /hello", "OPTIONS *", "GET http://x/hello", "GET HTTP://x/hello?a=1")) {
            assertTrue(raw(line + " HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"), line);
            assertNotNull(origin.seen.poll(5, TimeUnit.SECONDS), line);
        }
    }

    @Test
    void shouldRefuseAnAbsoluteFormTargetWhoseAuthorityIsInvalid() throws Exception {
        // RFC 9112 3.2.2: the authority of an absolute-form target replaces the Host line. One that does not parse
        // (user info, which RFC 9110 4.2.4 makes an error; a port past 65535; an empty host; "..") was dropped in
        // silence and the Host line's taken instead: the app got "Host: stale.example" for a target that named
        // another host, a host confusion between the sidecar and whatever in front of it read the target (nginx: 400).
        // The egress listener's forward proxy refused them already (400, naming what is wrong).
        List<String> targets = List.of("http://bank.example@other.example/x", "http://u:p@other.example/x",
                "http://other.example:99999/x", "http:///x", "http://a..b/x", "http://other.example\\@evil.example/x");
        for (String target : targets) {
            Refused r = refusedAndClosed("GET " + target + " HTTP/1.1\r\nHost: stale.example\r\n\r\n"
                    + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), target + ": " + r.head());
            assertEquals("invalid request target\n", r.rest(), target + ": nothing served after the 400");
        }
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
        // a valid one is served, its authority as Host
        assertTrue(raw("GET http://other.example:9/hello HTTP/1.1\r\nHost: stale.example\r\n\r\n").startsWith("HTTP/1.1 200"));
        assertEquals("other.example:9", origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"));
    }

    @Test
    void shouldRefuseAControlCharacterInTheRequestTarget() throws Exception {
        // RFC 3986 has no control character in a URI, and nginx (since 1.21.1) answers 400 to one in the request line.
        // Netty's decoder takes NUL, DEL, ESC and the other controls as target bytes, and the sidecar forwarded them:
        // "GET /a\0b" reached the app as "/a\0b", which a C library reads as "/a", and a named egress route's call went
        // on so to its dependency (the forward proxy refused it already, reading its target as a URL).
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"400\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        List<String> targets = List.of("/a\u0000b", "/a\u0001b", "/a\u001b[31mb", "/a\u007fb", "/a?q=\u0000", "/a\u001fb");
        for (String target : targets) {
            Refused r = refusedAndClosed(sidecar.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), ShownText.oneLine(target) + ": " + r.head());
            assertEquals("invalid request target\n", r.rest(), ShownText.oneLine(target) + ": nothing served after the 400");
        }
        Refused route = refusedAndClosed(sidecar.egressPort(), "GET /inv/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(route.head().startsWith("HTTP/1.1 400"), "named egress route: " + route.head());
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
        awaitMetric(sidecar, rejected400, before400 + targets.size());
        // a tab is no target byte either: Netty's decoder splits the request line at it, and the head does not parse
        assertTrue(refusedAndClosed(sidecar.port(), "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n").head().startsWith("HTTP/1.1 400"));
        // bytes above 0x7F are no controls: sent on as the client sent them (see the raw non-ASCII test)
        assertTrue(raw("GET /caf\u00c3\u00a9 HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"));
        assertNotNull(origin.seen.poll(5, TimeUnit.SECONDS));
    }

    /**
     * A named route's target is put after the route's base path ({@code /api/NAME/rest} is {@code /api/rest}), so a dot
     * segment climbed out of it at a dependency that resolves them: {@code /api/../admin} reached it as
     * {@code /api/../admin} ({@code /admin} there), and was recorded so, not as the path the dependency served; also
     * written {@code %2e%2e}, with {@code \} or {@code %2f} between segments, or {@code ..;} as Tomcat reads it. Refused
     * now (400, counted), as nginx refuses a path climbing above its root; dot segments that stay inside the base path
     * are forwarded and recorded as the app sent them.
     */
    @Test
    void shouldRefuseANamedRouteTargetWhoseDotSegmentsClimbOutOfTheRoutesBasePath() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"400\"}";
        try (SidecarImpl s = SidecarImpl.start(options(origin).addEgress("api", "http://127.0.0.1:" + origin.port() + "/api/"),
                p2, AVRO)) {
            List<String> climbing = List.of("/../admin", "/..", "/..?q=1", "/v1/../../admin", "/%2e%2e/admin", "/%2E./admin",
                    "/..%2fadmin", "/v1%2F..%2F..%2Fadmin", "/..\\admin", "/v1%5c..%5c..%5cadmin", "/..;/admin", "//../admin");
            for (String rest : climbing) {
                String answer = rawToClose(s.egressPort(), "GET /api" + rest + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 400"), rest + ": " + answer);
                assertTrue(answer.endsWith("the target climbs out of egress route 'api' with a dot segment (..)\n"), answer);
            }
            // the unnamed route to the dependency's root: above its root too (a dependency would read /../x as /x)
            String root = rawToClose(s.egressPort(), "GET /inv/../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(root.startsWith("HTTP/1.1 400"), root);
            assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them reached the dependency");
            awaitMetric(s, rejected400, climbing.size() + 1);

            // inside the base path: forwarded as sent, and recorded as the dependency received it
            List<String> inside = List.of("/v1/../hello", "/./hello", "/v1/..", "/...", "/hello?next=../../admin");
            for (String rest : inside) {
                String answer = rawToClose(s.egressPort(), "GET /api" + rest + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 200"), rest + ": " + answer);
                assertEquals("/api" + rest, origin.seen.poll(5, TimeUnit.SECONDS).uri(), rest);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p2.history().size() < inside.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<String> recorded = p2.history().stream().map(r -> {
                try {
                    io.tapline.avro.HttpRequest q = new SpecificDatumReader<>(UnattributedCall.class).read(null,
                            DecoderFactory.get().binaryDecoder(r.value(), null)).getCall().getRequest();
                    return q.getPath() + (q.getRawQuery() == null ? "" : "?" + q.getRawQuery());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sorted().toList();
            // each call is queued for publishing as its exchange ends, on its own connection's event loop: calls made on
            // different connections are recorded in no promised order
            assertEquals(inside.stream().map(r -> "/api" + r).sorted().toList(), recorded);
        }
    }

    /**
     * With an {@code --app} URL that has a base path, the client's target goes after it ({@code /x} is
     * {@code /base/x}), so a dot segment climbed out of it at an app that resolves them: {@code GET /../admin} reached
     * the app as {@code /base/../admin}, {@code /admin} there, outside what the operator exposed; also written
     * {@code %2e%2e}, {@code ..;}, with {@code \} or {@code %5c} between segments, in the absolute form
     * ({@code GET http://x/../admin}, which reaches the app in origin form after the base path too) and in a WebSocket
     * handshake. Refused now as the listener's other malformed heads are (400, counted, {@code Connection: close},
     * nothing pipelined behind it read); dot segments that stay inside the base path are forwarded as sent. Without a
     * base path nothing is looked at: {@code /../admin} is {@code /admin}, which a client may ask for anyway.
     */
    @Test
    void shouldRefuseAnInboundTargetWhoseDotSegmentsClimbOutOfTheAppsBasePath() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"400\"}";
        String refusal = "the target climbs out of the app's base path with a dot segment (..)\n";
        try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + origin.port() + "/base"), p2, AVRO)) {
            List<String> climbing = List.of("/../admin", "/..", "/..?q=1", "/v1/../../admin", "/%2e%2e/admin", "/%2E./admin",
                    "/..%2fadmin", "/..\\admin", "/v1%5c..%5c..%5cadmin", "/..;/admin", "//../admin",
                    "http://x/../admin", "HTTP://x:9/%2e%2e/admin", "http://x/v1/..;/..;/admin");
            for (String target : climbing) {
                Refused r = refusedAndClosed(s.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(r.head().startsWith("HTTP/1.1 400"), target + ": " + r.head());
                assertTrue(r.head().toLowerCase(java.util.Locale.ROOT).contains("connection: close"), target + ": " + r.head());
                assertEquals(refusal, r.rest(), target + ": nothing served after the 400");
            }
            Refused ws = refusedAndClosed(s.port(), "GET /../ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertTrue(ws.head().startsWith("HTTP/1.1 400"), "WebSocket handshake: " + ws.head());
            assertEquals(refusal, ws.rest());
            assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them reached the app");
            awaitMetric(s, rejected400, climbing.size() + 1);

            // inside the base path: forwarded as sent, after it
            List<String> inside = List.of("/v1/../hello", "/./hello", "/v1/..", "/...", "/hello?next=../../admin",
                    "http://x/v1/../hello");
            for (String target : inside) {
                String answer = rawToClose(s.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 200"), target + ": " + answer);
                assertEquals("/base" + target.replace("http://x", ""), origin.seen.poll(5, TimeUnit.SECONDS).uri(), target);
            }
        }
        // no base path: the target is the app's to read, as it would be without the sidecar
        assertTrue(rawToClose(sidecar.port(), "GET /../admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .startsWith("HTTP/1.1 200"));
        assertEquals("/../admin", origin.seen.poll(5, TimeUnit.SECONDS).uri());
    }

    @Test
    void shouldForwardOptionsAsteriskAsAsteriskBehindAnAppBasePath() throws Exception {
        // OPTIONS * asks about the server as a whole (RFC 9112 3.2.4): the app gets it as '*', not after --app's base
        // path ('/base*', no target of any form), as replay sends a recorded OPTIONS * to a --target with a base path
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + origin.port() + "/base"), p2, AVRO)) {
            String answer = rawToClose(s.port(), "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertEquals("*", origin.seen.poll(5, TimeUnit.SECONDS).uri());
        }
    }

    @Test
    void shouldRefuseAHeaderFieldWithAnEmptyName() throws Exception {
        // RFC 9110 5.1: a field name is a token, one character at least. Netty's decoder takes ": v" as a field with
        // an empty name, which the sidecar forwarded to the app (and recorded) as a line ": v"; nginx answers 400,
        // and so does Netty for a name holding a character no token may ("X(Bad): v").
        for (String line : List.of(": v", ":", ":v")) {
            Refused r = refusedAndClosed("GET /hello HTTP/1.1\r\nHost: x\r\n" + line + "\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400"), line + ": " + r.head());
            assertEquals("header field without a name\n", r.rest(), line);
        }
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
        assertTrue(raw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n").startsWith("HTTP/1.1 200"), "an empty value is one");
        assertEquals("", origin.seen.poll(5, TimeUnit.SECONDS).headers().get("x-empty"));
    }

    @Test
    void shouldAnswerWhatTheDecoderRefusesAsNginxDoesAndCountIt() throws Exception {
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"400\"}";
        String rejected505 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"505\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        double before505 = Math.max(0, metric(sidecar, rejected505));
        // A chunk size that is not hex: 400 before any response began, where Vert.x alone would only close.
        Refused badChunk = refusedAndClosed("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "zz\r\nabc\r\n0\r\n\r\n");
        assertTrue(badChunk.head().startsWith("HTTP/1.1 400"), badChunk.head());
        assertEquals("malformed request body\n", badChunk.rest(), "answered, then the connection is closed");
        // Another major version, including HTTP/2's prior-knowledge preface: 505 in an HTTP/1.1 status line.
        for (String head : List.of("GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) {
            Refused r = refusedAndClosed(head);
            assertTrue(r.head().startsWith("HTTP/1.1 505 "), r.head());
            assertEquals("HTTP version HTTP/2.0 is not supported\n", r.rest());
        }
        // A head the decoder cannot read at all: 400 with a reason, in an HTTP/1.1 status line (Netty's stand-in says 1.0).
        Refused garbage = refusedAndClosed("GET /hello HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n");
        assertTrue(garbage.head().startsWith("HTTP/1.1 400"), garbage.head());
        assertTrue(garbage.head().toLowerCase(Locale.ROOT).contains("connection: close"), garbage.head());
        assertEquals(null, origin.seen.poll(300, TimeUnit.MILLISECONDS), "no request reached the app whole");
        awaitMetric(sidecar, rejected400, before400 + 2);
        awaitMetric(sidecar, rejected505, before505 + 2);

        // A later HTTP/1 minor version is served as HTTP/1.1 (RFC 9110 2.5), where Vert.x alone answered 501.
        String later = raw("GET /hello HTTP/1.2\r\nHost: x\r\n\r\n");
        assertTrue(later.startsWith("HTTP/1.1 200"), later);
        assertEquals("/hello", origin.seen.poll(5, TimeUnit.SECONDS).uri());
    }

    /**
     * RFC 9112 2.3: the version is {@code "HTTP/" DIGIT "." DIGIT}, case-sensitive. Vert.x's decoder reads it
     * leniently: {@code HTTP/1.10} was served as HTTP/1.1, {@code http/1.1}, {@code HTTP/01.1} and {@code HTTPS/1.1}
     * answered 501 in the client's spelling. Now 400 on both listeners (nginx 1.22 answers 400 to all but
     * {@code HTTP/1.10}, which it serves), another major version 505, a later HTTP/1 minor version served as HTTP/1.1.
     */
    @Test
    void shouldAnswerAMalformedHttpVersion400AndAnotherMajorVersion505OnBothListeners() throws Exception {
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"400\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        List<String> malformed = List.of("http/1.1", "Http/1.1", "HTTP/01.1", "HTTP/1.01", "HTTP/1.10", "HTTP/11.1",
                "HTTPS/1.1", "HTTP/1", "HTTP/1.1 ");
        for (int port : List.of(sidecar.port(), sidecar.egressPort())) {
            String path = port == sidecar.port() ? "/hello" : "/inv/hello";
            for (String version : malformed) {
                Refused r = refused400AndClosed(port, "GET " + path + " " + version + "\r\nHost: x\r\n\r\n"
                        + "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(r.rest().equals("malformed HTTP version\n") || r.rest().equals("malformed request\n"),
                        port + " '" + version + "', nothing served behind it: " + r.rest());
            }
            for (String version : List.of("HTTP/2.0", "HTTP/3.0", "HTTP/0.9")) {
                Refused r = refusedAndClosed(port, "GET " + path + " " + version + "\r\nHost: x\r\n\r\n"
                        + "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(r.head().startsWith("HTTP/1.1 505 "), port + " " + version + ": " + r.head());
                assertEquals("HTTP version " + version + " is not supported\n", r.rest());
            }
            assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
            assertStillServed(port, path, List.of("HTTP/1.1", "HTTP/1.2", "HTTP/1.9"));
        }
        awaitMetric(sidecar, rejected400, before400 + malformed.size());
    }

    /**
     * A lower-case or zero-padded spelling of a version other than 1.0 and 1.1 is malformed as written (RFC 9112 2.3),
     * though Vert.x's decoder reads it as that version, upper-cased and without leading zeros: {@code http/1.2},
     * {@code Http/1.2} and {@code HTTP/1.02} were served as HTTP/1.1, {@code http/2.0} answered 505. Now 400 on both
     * listeners, as nginx 1.22 answers the lower-case ones; the spellings the RFC takes are answered as before.
     */
    @Test
    void shouldAnswerAMisspeltVersionOfAnotherVersion400AsWrittenOnBothListeners() throws Exception {
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"400\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        List<String> misspelt = List.of("http/1.2", "Http/1.2", "HTTP/1.02", "http/2.0");
        for (int port : List.of(sidecar.port(), sidecar.egressPort())) {
            String path = port == sidecar.port() ? "/hello" : "/inv/hello";
            for (String version : misspelt) {
                Refused r = refused400AndClosed(port, "GET " + path + " " + version + "\r\nHost: x\r\n\r\n"
                        + "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals("malformed HTTP version\n", r.rest(), port + " '" + version + "', nothing served behind it");
            }
            assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
            Refused major = refusedAndClosed(port, "GET " + path + " HTTP/2.0\r\nHost: x\r\n\r\n");
            assertTrue(major.head().startsWith("HTTP/1.1 505 "), port + ": " + major.head());
            assertStillServed(port, path, List.of("HTTP/1.1", "HTTP/1.2"));
        }
        awaitMetric(sidecar, rejected400, before400 + misspelt.size());
    }

    /**
     * Asserts that the listener at {@code port} still serves {@code path} (the app's {@code /hello}, directly or by a
     * route) in each of the well-formed {@code versions} and in HTTP/1.0 without Host, each on a connection of its
     * own: a version is refused as it is written, never the version it reads as.
     */
    private static void assertStillServed(int port, String path, List<String> versions) throws Exception {
        for (String version : versions) {
            String answer = rawToClose(port, "GET " + path + " " + version + "\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200"), port + " " + version + ": " + answer);
            assertEquals("/hello", origin.seen.poll(5, TimeUnit.SECONDS).uri());
        }
        assertTrue(rawToClose(port, "GET " + path + " HTTP/1.0\r\n\r\n").startsWith("HTTP/1.0 200"));
        assertNotNull(origin.seen.poll(5, TimeUnit.SECONDS));
    }

    private record Refused(String head, String rest) {
    }

    /**
     * Sends raw bytes, reads the response head, then everything until the sidecar closes the connection (a
     * connection left open fails the read with the socket timeout).
     */
    private Refused refusedAndClosed(String request) throws IOException {
        return refusedAndClosed(sidecar.port(), request);
    }

    /** {@link #refusedAndClosed(String)} on the listener at {@code port} (the egress listener's, say). */
    private static Refused refusedAndClosed(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            return new Refused(head, new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
        }
    }

    /** {@link #refusedAndClosed(int, String)}, asserting that the answer is a 400 saying that the connection closes. */
    private static Refused refused400AndClosed(int port, String request) throws IOException {
        Refused r = refusedAndClosed(port, request);
        String said = port + " '" + request.substring(0, request.indexOf('\r')) + "': " + r.head();
        assertTrue(r.head().startsWith("HTTP/1.1 400 "), said);
        assertTrue(r.head().toLowerCase(Locale.ROOT).contains("\r\nconnection: close"), said);
        return r;
    }

    @Test
    void shouldForwardAHostLineNamingAnyIpv6LiteralAndRefuseOneNamingNoAddress() throws Exception {
        // Vert.x's parser of the Host line cannot read an IPv6 literal with an IPv4 part ([::ffff:127.0.0.1]:8080, RFC
        // 3986 ls32), which curl, Python and Java send for such a URL: it was refused 400 "invalid Host header". It
        // reads [zz::1] and [v1.x] as hosts, and they were forwarded.
        List<String> valid = List.of("[::ffff:127.0.0.1]:8080", "[::127.0.0.1]", "[::1]:8080");
        for (String host : valid) {
            assertTrue(raw("GET /hello HTTP/1.1\r\nHost: " + host + "\r\n\r\n").startsWith("HTTP/1.1 200"), host);
            assertEquals(host, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"), "the Host line as sent");
        }
        assertEquals(Set.copyOf(valid), awaitRecords(valid.size()).stream()
                .map(r -> decode(r.value()).getRequest().getAuthority()).collect(Collectors.toSet()), "and recorded so");
        for (String host : List.of("[zz::1]:8080", "[v1.x]", "[1::2::3]", "[::ffff:256.0.0.1]:8080", "[::1]x")) {
            Refused r = refusedAndClosed("GET /hello HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertTrue(r.head().startsWith("HTTP/1.1 400") && r.rest().equals("invalid Host header\n"), host + ": " + r);
        }
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "none of them is forwarded");
    }

    @Test
    void shouldForwardAndRecordAHostLineWithAnEmptyPortAsNamingNoPort() throws Exception {
        // Host: h: (an empty port, which RFC 3986 allows: the scheme's default) was read by Vert.x as port 0: the app
        // got Host: h:0 and X-Forwarded-Host: h:0, and the record named h:0. nginx passes h: in $http_host, h in $host.
        for (String[] c : new String[][] {{"h:", "h"}, {"[::1]:", "[::1]"}}) {
            assertTrue(raw("GET /hello HTTP/1.1\r\nHost: " + c[0] + "\r\n\r\n").startsWith("HTTP/1.1 200"), c[0]);
            Map<String, String> seen = origin.seen.poll(5, TimeUnit.SECONDS).headers();
            assertEquals(c[1], seen.get("host"), c[0]);
            assertEquals(c[1], seen.get("x-forwarded-host"), c[0]);
            assertEquals(c[1], decode(awaitRecords(1).get(0).value()).getRequest().getAuthority(), c[0] + ": recorded");
            producer.clear();
        }
    }

    @Test
    void shouldForwardNothingReadBehindARefusedOrALastRequest() throws Exception {
        // A head refused by RequestHead is answered "Connection: close", but Netty's decoder frames its body its own
        // way: a Transfer-Encoding it does not take for chunked is no body at all, so what the client sent as the body
        // is decoded as the next request. That request must not reach the app (while the client only sees the 400),
        // and neither must one pipelined behind a request that said it was the last (RFC 9112 9.6).
        String smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
        List<String> heads = List.of(
                "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
                "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
                "GET /hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                "GET /hello HTTP/1.1\r\nHost: a..b\r\n\r\n",
                "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: x-trace, close\r\n\r\n",
                "GET /hello HTTP/1.0\r\n\r\n");
        for (int round = 0; round < 5; round++) {
            for (String head : heads) {
                assertEquals(200, get("/hello").statusCode()); // a pooled app connection ready to carry a request at once
                origin.seen.clear();
                String answered = rawToClose(head + smuggled);
                assertFalse(answered.contains("/smuggled"), answered);
                TestOrigin.Seen seen;
                while ((seen = origin.seen.poll(150, TimeUnit.MILLISECONDS)) != null) {
                    assertNotEquals("/smuggled", seen.uri(), "forwarded behind: " + head);
                }
            }
        }
        assertEquals(200, get("/hello").statusCode(), "the sidecar still serves");
    }

    @Test
    void shouldRefuseAChunkedBodyThatGrowsPastTheLimit() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        CapturedLog log = new CapturedLog();
        try (log; SidecarImpl s = SidecarImpl.start(options(origin).maxRequestBodyBytes(100_000), p2, AVRO);
             Socket sock = new Socket("127.0.0.1", s.port())) {
            sock.setSoTimeout(5000);
            OutputStream out = sock.getOutputStream();
            InputStream in = sock.getInputStream();
            // read concurrently: the answer comes while we are still sending, before the proxy closes the connection
            CompletableFuture<String> response = CompletableFuture.supplyAsync(() -> {
                try {
                    return readUntil(in, "\r\n\r\n");
                } catch (IOException e) {
                    return "read failed: " + e;
                }
            });
            out.write("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[10_000];
            try {
                for (int k = 0; k < 30; k++) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException closedByProxy) {
                // the proxy answered and closed while we were still sending: expected
            }
            String head = response.get(10, TimeUnit.SECONDS);
            assertTrue(head.startsWith("HTTP/1.1 413"), head);
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"no_app_response\"}", 1);
            Thread.sleep(200);
            // the upload to the app is reset after the 413: that is no failure of the app's
            assertFalse(s.metrics().scrape().contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""),
                    s.metrics().scrape());
        }
        assertFalse(log.text().contains("the app did not answer"), log.text());
    }

    @Test
    void shouldServeHttp10ClientsWithoutChunking() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /download?n=100000 HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] all = s.getInputStream().readAllBytes(); // HTTP/1.0: the body ends when the connection closes
            String text = new String(all, StandardCharsets.ISO_8859_1);
            assertTrue(text.startsWith("HTTP/1.0 200") || text.startsWith("HTTP/1.1 200"), text.substring(0, Math.min(200, text.length())));
            int headEnd = text.indexOf("\r\n\r\n");
            assertFalse(text.substring(0, headEnd).toLowerCase().contains("transfer-encoding"));
            assertEquals(100_000, all.length - headEnd - 4);
        }
    }

    @Test
    void shouldRelayTrailersAfterAChunkedBodyToHttp11ClientsOnly() throws Exception {
        String http11 = rawToClose("GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n");
        String head = http11.substring(0, http11.indexOf("\r\n\r\n") + 2).toLowerCase(Locale.ROOT);
        assertTrue(head.startsWith("http/1.1 200") && head.contains("\r\ntransfer-encoding: chunked\r\n"), head);
        assertTrue(head.contains("\r\ntrailer: x-checksum\r\n"), head);
        assertTrue(http11.endsWith("\r\n0\r\nX-Checksum: sha256:abc\r\n\r\n"), http11);
        assertEquals("trailers", origin.seen.poll(5, TimeUnit.SECONDS).headers().get("te"), "the app learns the client takes trailers");

        String http10 = rawToClose("GET /trailers HTTP/1.0\r\nTE: trailers\r\n\r\n");
        assertTrue(http10.endsWith("\r\n\r\npart-1;part-2"), "close-delimited, no room for trailers: " + http10);
        assertFalse(http10.toLowerCase(Locale.ROOT).contains("trailer:"), http10);
        assertFalse(origin.seen.poll(5, TimeUnit.SECONDS).headers().containsKey("te"), "an HTTP/1.0 client gets no trailers");
    }

    static String rawToClose(String request) throws IOException {
        return rawToClose(sidecar.port(), request);
    }

    static String rawToClose(int port, String request) throws IOException {
        try (Socket s = connect(port)) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void shouldHonourExpectContinue() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String interim = readUntil(in, "\r\n\r\n");
            assertTrue(interim.startsWith("HTTP/1.1 100"), interim);
            out.write("hello".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String finalResp = readUntil(in, "hello");
            assertTrue(finalResp.startsWith("HTTP/1.1 200"), finalResp);
        }
        assertFalse(origin.seen.poll(5, TimeUnit.SECONDS).headers().containsKey("expect"));
    }

    @Test
    void shouldIgnoreTheExpectationOfAnHttp10Client() throws Exception {
        // RFC 9110 10.1.1: a server must not send a 100 (Continue) to an HTTP/1.0 client, which cannot parse it; the
        // body comes at once and the final answer is the only one
        String answer = rawToClose("POST /echo HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
        assertTrue(answer.matches("(?s)HTTP/1\\.[01] 200 .*"), answer);
        assertFalse(answer.contains(" 100 "), answer);
        assertTrue(answer.endsWith("\r\n\r\nhello"), answer);
        assertFalse(origin.seen.poll(5, TimeUnit.SECONDS).headers().containsKey("expect"));
    }

    @Test
    void shouldAnswer413InsteadOf100ContinueWhenTheDeclaredBodyIsTooLarge() throws Exception {
        // RFC 9110 10.1.1: the final status instead of 100, so the client never sends a body that would be refused;
        // then the connection closes as after any 413 (the client may still send the body, which is never read).
        Refused refused = refusedAndClosed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n\r\n");
        assertTrue(refused.head().startsWith("HTTP/1.1 413"), refused.head());
        assertFalse(refused.rest().contains("HTTP/1.1"), "nothing but the 413's own body, then the connection closed: " + refused.rest());
        assertNull(origin.seen.poll(300, TimeUnit.MILLISECONDS), "nothing is forwarded");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "request buffering {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void shouldNotTimeOutASlowUploadWhileItKeepsMoving(boolean buffering) throws Exception {
        // The upstream timeout is 1 s. This upload takes 2 s, a chunk every 200 ms, and the app answers once it has
        // read it all: the body's progress keeps the exchange alive, whether the sidecar reads it before connecting
        // (buffering) or the app reads it as it comes.
        int chunks = 10;
        byte[] chunk = new byte[1000];
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl sc = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofSeconds(1))
                .requestBufferBytes(buffering ? 64 * 1024 : 0), p2, AVRO)) {
            slowUpload(sc, chunks, chunk, buffering);
        }
    }

    private static void slowUpload(SidecarImpl sidecar, int chunks, byte[] chunk, boolean buffering) throws Exception {
        try (Socket s = connect(sidecar.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: " + chunks * chunk.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int k = 0; k < chunks; k++) {
                out.write(chunk);
                out.flush();
                Thread.sleep(200);
            }
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertEquals(Integer.toString(chunks * chunk.length), readUntil(s.getInputStream(), Integer.toString(chunks * chunk.length)));
        }
        // An upload that stops is no progress. Read before connecting, the client is the one late: 408 (nginx's
        // client_body_timeout). Streamed, the app is waiting for the rest: 504.
        try (Socket s = connect(sidecar.port())) {
            s.getOutputStream().write("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it"
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith(buffering ? "HTTP/1.1 408" : "HTTP/1.1 504"), head);
        }
    }

    /**
     * An app answering in a later minor version of HTTP/1 ({@code HTTP/1.2 200 OK}) is read as HTTP/1.1 (RFC 9110
     * §2.5): its answer is relayed and captured, and its connection kept for the next request. Vert.x's client refuses
     * every version but 1.0 and 1.1, and the client got a 502.
     */
    @Test
    void shouldRelayAnAnswerInALaterMinorVersionOfHttp1AsHttp11() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        try (RawServer app = new RawServer(c -> {
            connections.incrementAndGet();
            InputStream in = c.getInputStream();
            int served = 0;
            while (!readUntil(in, "\r\n\r\n").isEmpty()) {
                String body = "minor-" + ++served;
                c.getOutputStream().write(("HTTP/1.2 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            // one event loop: one pool of app connections, so the second request is the first one's connection's
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress()
                    .eventLoops(1), p2, AVRO)) {
                for (int k = 1; k <= 2; k++) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write("GET /v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                        String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(all.startsWith("HTTP/1.1 200 OK\r\n"), all);
                        assertTrue(all.endsWith("\r\n\r\nminor-" + k), all);
                    }
                }
                assertEquals(1, connections.get(), "the app's connection is kept for the second request");
                List<String> captured = new ArrayList<>();
                for (ProducerRecord<String, byte[]> rec : awaitRecords(p2, 2)) {
                    captured.add(StandardCharsets.UTF_8.decode(decode(rec.value()).getResponse().getBody()).toString());
                }
                captured.sort(null);
                assertEquals(List.of("minor-1", "minor-2"), captured);
            }
        }
    }

    @Test
    void shouldDropA102ProcessingAndRelayEarlyHintsBeforeTheFinalResponse() throws Exception {
        AtomicInteger served = new AtomicInteger();
        // An app that answers every request on its keep-alive connection with 102, then 103, then the real 200.
        try (RawServer app = new RawServer(c -> {
            InputStream in = c.getInputStream();
            while (!readUntil(in, "\r\n\r\n").isEmpty()) {
                String body = "final-" + served.incrementAndGet();
                c.getOutputStream().write(("HTTP/1.1 102 Processing\r\n\r\n"
                        + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress(), p2, AVRO)) {
                // twice: the second request reuses the pooled app connection, where nothing of the first may be left
                for (int k = 1; k <= 2; k++) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write("GET /work HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(all.startsWith("HTTP/1.1 103 Early Hints\r\n"), all);
                        assertTrue(all.toLowerCase(java.util.Locale.ROOT).contains("link: </style.css>; rel=preload\r\n"), all);
                        assertFalse(all.contains(" 102 "), all);
                        int fin = all.indexOf("HTTP/1.1 200 OK\r\n");
                        assertTrue(fin > 0, all);
                        assertTrue(all.endsWith("\r\n\r\nfinal-" + k), all);
                    }
                }
                List<String> captured = new ArrayList<>();
                for (ProducerRecord<String, byte[]> rec : awaitRecords(p2, 2)) {
                    Interaction i = decode(rec.value());
                    assertEquals(200, i.getResponse().getStatus(), "the interaction records the final response");
                    captured.add(StandardCharsets.UTF_8.decode(i.getResponse().getBody()).toString());
                }
                captured.sort(null);
                assertEquals(List.of("final-1", "final-2"), captured);
            }
        }
    }

    @Test
    void shouldRelayAHalfCloseThroughAConnectTunnelInBothDirections() throws Exception {
        // The client half-closes first (a request, then FIN, then it reads the answer): the target reads to the end
        // of the request, answers and closes.
        try (RawServer target = new RawServer(c -> {
            String request = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            c.getOutputStream().write(("got " + request.length() + " bytes: " + request).getBytes(StandardCharsets.ISO_8859_1));
        });
             Socket c = connectThroughTunnel(target.port())) {
            c.getOutputStream().write("question".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            assertEquals("got 8 bytes: question", new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
        }
        // The target half-closes first (a banner, then FIN) and still reads what the client sends afterwards.
        CompletableFuture<String> targetRead = new CompletableFuture<>();
        try (RawServer target = new RawServer(c -> {
            c.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            targetRead.complete(new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
        });
             Socket c = connectThroughTunnel(target.port())) {
            assertEquals("banner", new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1), "the target's FIN is relayed");
            c.getOutputStream().write("after the banner".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            assertEquals("after the banner", targetRead.get(5, TimeUnit.SECONDS), "the other direction kept flowing");
        }
    }

    @Test
    void shouldKeepForTheTunnelWhatTheClientSendsBehindAConnectHeadBeforeItsAnswer() throws Exception {
        // A TLS record starts with control bytes (0x16 0x03 0x01), which an HTTP decoder skips as the blank lines
        // before a request: the target must get them all, in order, in the same write as the head or after it.
        byte[] hello = "\u0016\u0003\u0001client-hello\r\nwith a line break".getBytes(StandardCharsets.ISO_8859_1);
        try (RawServer target = new RawServer(c -> {
            byte[] got = c.getInputStream().readNBytes(hello.length + 5);
            c.getOutputStream().write(("got " + new String(got, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1));
        });
             Socket s = connect(sidecar.egressPort())) {
            byte[] head = ("CONNECT 127.0.0.1:" + target.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] first = new byte[head.length + hello.length];
            System.arraycopy(head, 0, first, 0, head.length);
            System.arraycopy(hello, 0, first, head.length, hello.length);
            s.getOutputStream().write(first);
            s.getOutputStream().flush();
            Thread.sleep(100); // a second write before the answer too
            s.getOutputStream().write("later".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(s.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            assertEquals("got " + new String(hello, StandardCharsets.ISO_8859_1) + "later",
                    new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
        }
        // an HTTP request sent behind the head goes through the tunnel too, not to the egress listener
        try (Socket s = connect(sidecar.egressPort())) {
            s.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("hello"), answer);
            assertEquals("/hello", origin.seen.poll(5, TimeUnit.SECONDS).uri());
        }
        // a CONNECT that fails closes the connection: what follows its head is not read as a request
        String failed = rawToClose(sidecar.egressPort(), "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "GET http://127.0.0.1:" + origin.port() + "/hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assertTrue(failed.startsWith("HTTP/1.1 502") && !failed.contains("hello"), failed);
        assertNull(origin.seen.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void shouldRefuseAnHttp11ConnectWithoutOneValidHostAsAnyOtherRequest() throws Exception {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host, with two Host lines or an invalid one is answered 400; the
        // egress listener refused such heads for every method but CONNECT, which it tunneled. The tunnel goes where the
        // target says: a Host naming another authority (the proxy's, as some clients send) is not refused.
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"400\"}";
        String proxied = "tapline_sidecar_proxied_total{listener=\"egress\"}";
        AtomicInteger dialled = new AtomicInteger();
        try (RawServer target = tunnelTarget(dialled)) {
            String t = "127.0.0.1:" + target.port();
            double before400 = Math.max(0, metric(sidecar, rejected400));
            double beforeProxied = metric(sidecar, proxied);
            String[][] refused = {
                    {"CONNECT " + t + " HTTP/1.1\r\n\r\n", "HTTP/1.1 request without Host"},
                    {"CONNECT " + t + " HTTP/1.1\r\nHost: " + t + "\r\nHost: " + t + "\r\n\r\n", "more than one Host header"},
                    {"CONNECT " + t + " HTTP/1.1\r\nHost: " + t + "\r\nHost: other.example:443\r\n\r\n", "more than one Host header"},
                    {"CONNECT " + t + " HTTP/1.1\r\nHost: a..b:443\r\n\r\n", "invalid Host header"},
                    {"CONNECT " + t + " HTTP/1.1\r\nHost: " + t + "\r\n: v\r\n\r\n", "header field without a name"},
            };
            for (String[] c : refused) {
                // what follows a refused CONNECT's head is not read as a request either
                String answer = rawToClose(sidecar.egressPort(), c[0] + "GET http://" + t + "/x HTTP/1.1\r\nHost: " + t + "\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.endsWith(c[1] + "\n"), c[0] + " -> " + answer);
                assertTrue(answer.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), answer);
            }
            assertEquals(before400 + refused.length, metric(sidecar, rejected400), rejected400);
            assertEquals(beforeProxied, metric(sidecar, proxied), "a refused CONNECT is in rejected_total only");
            assertEquals(0, dialled.get(), "no refused CONNECT reached its target");

            // curl's CONNECT (Host: the target's host:port), a Host naming another authority, one without the port
            // (RFC 9110 §9.3.6's example), and an HTTP/1.0 CONNECT without Host, as any HTTP/1.0 request may come
            String[] tunneled = {
                    "CONNECT " + t + " HTTP/1.1\r\nHost: " + t + "\r\nUser-Agent: curl/8.5.0\r\nProxy-Connection: Keep-Alive\r\n\r\n",
                    "CONNECT " + t + " HTTP/1.1\r\nHost: proxy.example:15001\r\n\r\n",
                    "CONNECT " + t + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                    "CONNECT " + t + " HTTP/1.0\r\n\r\n",
            };
            for (String head : tunneled) {
                try (Socket s = connect(sidecar.egressPort())) {
                    s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                    String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(answer.matches("HTTP/1\\.[01] 200 [^\r]*\r\n(?s).*") && answer.endsWith("\r\n\r\nfrom-target"),
                            head + " -> " + answer);
                }
            }
            assertEquals(tunneled.length, dialled.get());
            assertEquals(before400 + refused.length, metric(sidecar, rejected400), rejected400);
        }
    }

    /** A CONNECT's target: it counts the connections dialled to it and greets each with {@code from-target}. */
    private static RawServer tunnelTarget(AtomicInteger dialled) throws IOException {
        return new RawServer(c -> {
            dialled.incrementAndGet();
            c.getOutputStream().write("from-target".getBytes(StandardCharsets.US_ASCII));
        });
    }

    /**
     * A CONNECT whose HTTP version is malformed as written ({@code http/1.1}, {@code HTTP/1.02}: RFC 9112 2.3) is
     * refused 400 like any other request so spelt, and closed: no tunnel is opened, so its target is never dialled and
     * what the client sends behind the head reaches nobody. The same CONNECT in a well-formed version is tunneled.
     */
    @Test
    void shouldRefuseAConnectInAMalformedHttpVersionWithoutDiallingItsTarget() throws Exception {
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"400\"}";
        AtomicInteger dialled = new AtomicInteger();
        try (RawServer target = tunnelTarget(dialled)) {
            String t = "127.0.0.1:" + target.port();
            double before400 = Math.max(0, metric(sidecar, rejected400));
            List<String> malformed = List.of("http/1.1", "Http/1.1", "HTTP/01.1", "HTTP/1.01", "HTTP/1.02", "http/1.2");
            for (String version : malformed) {
                Refused r = refused400AndClosed(sidecar.egressPort(), "CONNECT " + t + " " + version + "\r\nHost: " + t
                        + "\r\n\r\nGET http://127.0.0.1:" + origin.port() + "/hello HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals("malformed HTTP version\n", r.rest(), "'" + version + "', nothing tunneled or served behind it");
            }
            assertEquals(before400 + malformed.size(), metric(sidecar, rejected400), rejected400);
            assertNull(origin.seen.poll(200, TimeUnit.MILLISECONDS), "what followed a refused head was not forwarded");

            try (Socket s = connectThroughTunnel(target.port())) {
                assertEquals("from-target", new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
            }
            assertEquals(1, dialled.get(), "the target was dialled for the well-formed CONNECT alone");
        }
    }

    /** A client socket with a CONNECT tunnel through the shared sidecar's egress listener to {@code port}. */
    static Socket connectThroughTunnel(int port) throws IOException {
        return connectThroughTunnel(sidecar.egressPort(), port);
    }

    static Socket connectThroughTunnel(int egressPort, int port) throws IOException {
        Socket s = connect(egressPort);
        s.getOutputStream().write(("CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String head = readUntil(s.getInputStream(), "\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        return s;
    }

    @Test
    void shouldAttributeOutboundCallsByTraceContextUnderConcurrency() throws Exception {
        int n = 24;
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/call?marker=m" + k)).header("X-Propagate", "yes").build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int k = 0; k < n; k++) {
            assertEquals("{\"marker\":\"m" + k + "\"}", calls.get(k).get(20, TimeUnit.SECONDS).body());
        }
        List<ProducerRecord<String, byte[]>> recs = awaitRecords(n);
        for (ProducerRecord<String, byte[]> rec : recs) {
            Interaction i = decode(rec.value());
            assertEquals(1, i.getOutboundCalls().size(), "exactly its own call: " + i.getRequest().getRawQuery());
            OutboundCall c = i.getOutboundCalls().get(0);
            assertEquals(Attribution.TRACE_CONTEXT, c.getAttribution());
            assertEquals(i.getRequest().getRawQuery(), c.getRequest().getRawQuery(), "the call carries the same marker");
            assertEquals("inv", c.getDestination());
            // Recorded as the dependency received it: the route name is not part of the dependency's path.
            assertEquals("/items", c.getRequest().getPath());
            assertEquals("127.0.0.1:" + origin.port(), c.getRequest().getAuthority());
            assertTrue(c.getStartOffsetMicros() >= 0 && c.getDurationMicros() >= 40_000, "timed relative to the inbound request");
        }
    }

    @Test
    void shouldAttributeTheSoleInFlightRequestWithoutPropagation() throws Exception {
        assertEquals("{\"marker\":\"solo\"}", get("/call?marker=solo").body());
        Interaction i = decode(awaitRecords(1).get(0).value());
        assertEquals(1, i.getOutboundCalls().size());
        assertEquals(Attribution.SOLE_IN_FLIGHT, i.getOutboundCalls().get(0).getAttribution());
    }

    @Test
    void shouldNotGuessWhenSeveralRequestsAreInFlightWithoutPropagation() throws Exception {
        long before = sidecar.metrics().scrape().lines().filter(l -> l.startsWith("tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        int n = 8;
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/call?marker=c" + k)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            assertEquals(200, c.get(20, TimeUnit.SECONDS).statusCode());
        }
        List<String> attached = new ArrayList<>();
        for (ProducerRecord<String, byte[]> rec : awaitRecords(n)) {
            Interaction i = decode(rec.value());
            for (OutboundCall c : i.getOutboundCalls()) {
                assertEquals(i.getRequest().getRawQuery(), c.getRequest().getRawQuery(), "a call attached by the fallback must be its own");
                attached.add(c.getRequest().getRawQuery());
            }
        }
        long after = sidecar.metrics().scrape().lines().filter(l -> l.startsWith("tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        assertTrue(after > before, "overlapping calls without trace context are counted as unattributed");

        // Every call lands exactly once: attached to its own interaction, or published on its own, never guessed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (attached.size() + unattributed().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<UnattributedCall> orphans = unattributed();
        assertEquals(after - before, orphans.size(), "each unattributed call is published");
        List<String> all = new ArrayList<>(attached);
        for (UnattributedCall orphan : orphans) {
            assertEquals(Attribution.UNATTRIBUTED, orphan.getCall().getAttribution());
            assertEquals("inv", orphan.getCall().getDestination());
            assertEquals("/items", orphan.getCall().getRequest().getPath());
            // >= 2 in flight, or 1 when the sole-in-flight check declined because a request started or ended while
            // the call began (CorrelationRegistry.soleInFlight): both are "not guessed", never a lone capture's call
            assertTrue(orphan.getInFlight() >= 1, "requests were in flight: " + orphan.getInFlight());
            all.add(orphan.getCall().getRequest().getRawQuery());
        }
        all.sort(null);
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            expected.add("marker=c" + k);
        }
        expected.sort(null);
        assertEquals(expected, all, "each inbound request's one call, exactly once");
    }

    @Test
    void shouldForwardProxyStyleRequestsAndTunnelConnect() throws Exception {
        HttpClient viaProxy = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(java.net.ProxySelector.of(new java.net.InetSocketAddress("127.0.0.1", sidecar.egressPort()))).build();
        HttpResponse<String> r = viaProxy.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.port() + "/hello?x=1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("hello", r.body());
        assertEquals("/hello?x=1", origin.seen.poll(5, TimeUnit.SECONDS).uri(), "origin-form upstream");

        try (Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertTrue(readUntil(in, "\r\n\r\n").startsWith("HTTP/1.1 200"));
            out.write("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(in, "hello").contains("hello"), "bytes flow through the tunnel");
        }
        // targets the egress cannot take are refused with what it does take, not looked up as a route or dialled
        String ftp = rawToClose(sidecar.egressPort(), "GET ftp://127.0.0.1/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(ftp.startsWith("HTTP/1.1 400") && ftp.contains("egress takes http:// targets"), ftp);
        for (String target : List.of("127.0.0.1:0", "127.0.0.1:70000", ":443", "127.0.0.1:https", "127.0.0.1",
                "127.0.0.1:", "user@127.0.0.1:" + origin.port(), "127.0.0.1:" + origin.port() + "/x", "[::1]")) {
            String r2 = rawToClose(sidecar.egressPort(), "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n");
            assertTrue(r2.startsWith("HTTP/1.1 400") && r2.contains("CONNECT target must be host:port"), target + ": " + r2);
        }
    }

    @Test
    void shouldCountTheEgressListenersOwnRefusalsAndFailedTunnels() throws Exception {
        // What the egress refuses itself (a target in no form it takes, a route it does not have, a CONNECT target that
        // is not host:port) and a tunnel whose target cannot be reached are answered by the sidecar, as on the inbound
        // listener: counted there, they were counted nowhere on the egress one, so an app misusing its proxy went unseen.
        String rejected400 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"400\"}";
        String rejected404 = "tapline_sidecar_rejected_total{listener=\"egress\",status=\"404\"}";
        String failed502 = "tapline_sidecar_upstream_errors_total{listener=\"egress\",status=\"502\"}";
        double before400 = Math.max(0, metric(sidecar, rejected400));
        double before404 = Math.max(0, metric(sidecar, rejected404));
        double before502 = Math.max(0, metric(sidecar, failed502));
        int eg = sidecar.egressPort();
        String head = " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        assertTrue(rawToClose(eg, "GET https://127.0.0.1:" + origin.port() + "/x" + head).startsWith("HTTP/1.1 400"));
        assertTrue(rawToClose(eg, "GET ftp://127.0.0.1/x" + head).startsWith("HTTP/1.1 400"));
        assertTrue(rawToClose(eg, "GET http://127.0.0.1:70000/x" + head).startsWith("HTTP/1.1 400"));
        assertTrue(rawToClose(eg, "GET /no-such-route/x" + head).startsWith("HTTP/1.1 404"));
        assertTrue(rawToClose(eg, "CONNECT 127.0.0.1" + head).startsWith("HTTP/1.1 400"));
        int closed = closedPort();
        assertTrue(rawToClose(eg, "CONNECT 127.0.0.1:" + closed + head).startsWith("HTTP/1.1 502"));
        assertEquals(before400 + 4, metric(sidecar, rejected400), rejected400);
        assertEquals(before404 + 1, metric(sidecar, rejected404), rejected404);
        assertEquals(before502 + 1, metric(sidecar, failed502), failed502);
        assertNull(origin.seen.poll(100, TimeUnit.MILLISECONDS), "nothing refused reached a dependency");
    }

    @Test
    void shouldTunnelConnectToAnIpv6Literal() throws Exception {
        java.net.ServerSocket v6;
        try {
            v6 = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback on this machine: " + e);
            return;
        }
        try (v6; Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT [::1]:" + v6.getLocalPort() + " HTTP/1.1\r\nHost: [::1]:" + v6.getLocalPort() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(s.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            try (Socket accepted = v6.accept()) {
                out.write("ping".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                accepted.setSoTimeout(5000);
                byte[] got = accepted.getInputStream().readNBytes(4);
                assertEquals("ping", new String(got, StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void shouldSendADependencyItsOwnAuthorityNotTheEgressListeners() throws Exception {
        String authority = "127.0.0.1:" + origin.port();
        // A named route: the app addresses the sidecar's egress port; the dependency must see its own Host.
        try (Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /inv/hello HTTP/1.1\r\nHost: 127.0.0.1:" + sidecar.egressPort() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(s.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
        }
        assertEquals(authority, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"), "named route");
        // The forward proxy: the absolute-form target's authority wins over the Host header (RFC 9112 3.2.2).
        try (Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET http://" + authority + "/hello HTTP/1.1\r\nHost: wrong.example\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(s.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
        }
        assertEquals(authority, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"), "forward proxy");
    }

    @Test
    void shouldSendTheAppAnOriginFormTargetWhenTheClientSendsTheAbsoluteForm() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET http://other.example:9/hello?q=1 HTTP/1.1\r\nHost: stale.example\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(s.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
        }
        TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
        assertEquals("/hello?q=1", seen.uri());
        // RFC 9112 3.2.2: the absolute-form target's authority replaces the Host line
        assertEquals("other.example:9", seen.headers().get("host"));
    }

    @Test
    void shouldForwardAbsoluteTargetsAsRfc3986ReadsThemNotAsJavaNetUriDoes() throws Exception {
        // Path and query bytes that java.net.URI refuses reach the dependency as sent, as on the inbound listener.
        String exact = "/hello|x?f={a}&p=%zz";
        String r = rawToClose(sidecar.egressPort(), "GET http://127.0.0.1:" + origin.port() + exact
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertEquals(exact, origin.seen.poll(5, TimeUnit.SECONDS).uri());

        // A Docker Compose name (java.net.URI finds no host in it): dialled, not refused as "no host", and recorded
        // under that name. Nothing resolves it here, so the answer is the sidecar's own 502 or 504.
        String compose = rawToClose(sidecar.egressPort(), "GET http://inventory_svc:" + origin.port()
                + "/items HTTP/1.1\r\nHost: inventory_svc\r\nConnection: close\r\n\r\n");
        assertTrue(compose.startsWith("HTTP/1.1 502") || compose.startsWith("HTTP/1.1 504"), compose);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (unattributed().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(List.of("127.0.0.1:" + origin.port(), "inventory_svc:" + origin.port()),
                unattributed().stream().map(c -> c.getCall().getDestination()).toList());

        // RFC 9110 4.2.4: user info in an http URL is an error (it disguises the host); nothing is dialled
        String userinfo = rawToClose(sidecar.egressPort(), "GET http://bank.example@127.0.0.1:" + origin.port()
                + "/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(userinfo.startsWith("HTTP/1.1 400") && userinfo.contains("user info"), userinfo);
        assertNull(origin.seen.poll(200, TimeUnit.MILLISECONDS));

        // The inbound listener takes such a name from an absolute-form target as the Host it forwards (RFC 9112 3.2.2)
        String inbound = rawToClose("GET http://shop_web:9/hello HTTP/1.1\r\nHost: stale.example\r\nConnection: close\r\n\r\n");
        assertTrue(inbound.startsWith("HTTP/1.1 200"), inbound);
        assertEquals("shop_web:9", origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"));
    }

    @Test
    void shouldForwardAnOptionsRequestForTheWholeServerAsAnAsteriskTarget() throws Exception {
        // RFC 9112 3.2.4: OPTIONS with an absolute-form target without path or query asks about the server as a whole;
        // the last proxy sends it to the origin as "OPTIONS *", not as "OPTIONS /" (about the resource at /)
        String r = rawToClose(sidecar.egressPort(), "OPTIONS http://127.0.0.1:" + origin.port()
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 200"), r);
        assertEquals("*", origin.seen.poll(5, TimeUnit.SECONDS).uri());
        // with a path, or for another method, the empty path is still "/"
        for (String request : List.of("OPTIONS http://127.0.0.1:" + origin.port() + "/", "GET http://127.0.0.1:" + origin.port(),
                "OPTIONS http://127.0.0.1:" + origin.port() + "?x=1")) {
            assertTrue(rawToClose(sidecar.egressPort(), request + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .startsWith("HTTP/1.1 200"), request);
            assertTrue(origin.seen.poll(5, TimeUnit.SECONDS).uri().startsWith("/"), request);
        }
    }

    /** One request whose app loops over a dependency: its captured calls, each holding bodies, are bounded. */
    @Test
    void shouldCaptureAtMostMaxCallsPerInteractionAndStillProxyTheRest() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        String tp = "00-" + "ab".repeat(16) + "-00f067aa0ba902b7-01";
        int extra = 20;
        try (SidecarImpl s = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofSeconds(30)), p2, AVRO);
             Socket inbound = new Socket("127.0.0.1", s.port())) {
            // The inbound request stays in flight: the origin never answers /slow.
            inbound.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: x\r\ntraceparent: " + tp + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (metric(s, "tapline_sidecar_in_flight_requests") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1.0, metric(s, "tapline_sidecar_in_flight_requests"));
            for (int i = 0; i < PendingInteraction.MAX_CALLS + extra; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/hello"))
                        .header("traceparent", tp).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), "every call is proxied");
            }
            assertEquals(extra, metric(s, "tapline_sidecar_outbound_over_limit_total"));
        } finally {
            origin.seen.clear();
        }
    }

    @Test
    void shouldBoundCaptureMemoryByBytesAndDropCapturesThatOutgrowIt() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        // room for one captured body of 1 KiB, not two
        try (SidecarImpl s = SidecarImpl.start(options(origin).captureMaxBodyBytes(1024).captureMaxMemoryBytes(1024), p2, AVRO);
             Socket upload = new Socket("127.0.0.1", s.port())) {
            upload.setSoTimeout(5000);
            OutputStream out = upload.getOutputStream();
            out.write("POST /echo HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] part = "x".repeat(1500).getBytes(StandardCharsets.US_ASCII);
            out.write(("5dc\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 1024); // the upload's first KiB fills the budget

            // a new request while the budget is full is proxied untouched and not captured at all
            HttpResponse<String> meanwhile = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, meanwhile.statusCode());
            assertEquals("hello", meanwhile.body());
            assertEquals(1.0, metric(s, "tapline_sidecar_dropped_total{reason=\"memory_full\"}"), "not captured");
            assertEquals(0.0, metric(s, "tapline_sidecar_dropped_total{reason=\"capture_memory\"}"));

            // the upload ends: its 3000-byte echo streams back whole, but its response copy finds no room
            out.write(("5dc\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String echoed = readUntil(upload.getInputStream(), "x".repeat(3000));
            assertTrue(echoed.startsWith("HTTP/1.1 200"), echoed);
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"capture_memory\"}", 1); // captured, then dropped
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0); // dropped whole, its memory given back
            assertEquals(0, p2.history().size(), "a capture missing part of a body is never published");

            // with the memory back, capture goes on
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            assertEquals(1, p2.history().size());
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
        }
    }

    @Test
    void shouldStopCopyingAnUploadThatOutlivesItsPublishedExchange() throws Exception {
        // /early answers without reading the upload: the exchange ends and is published while the client still
        // sends; the chunks after that must neither take capture memory (nothing would give it back) nor be copied
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        // (streamed from the first byte: a body read before connecting would only reach the app whole)
        try (SidecarImpl s = SidecarImpl.start(options(origin).captureMaxBodyBytes(1024).requestBufferBytes(0), p2, AVRO);
             Socket c = new Socket("127.0.0.1", s.port())) {
            c.setSoTimeout(5000);
            OutputStream out = c.getOutputStream();
            out.write(("POST /early HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + "y".repeat(99) + "\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(c.getInputStream(), "early").startsWith("HTTP/1.1 401"));
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
            for (int k = 0; k < 4; k++) {
                out.write(("1f4\r\n" + "z".repeat(500) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // the same connection still works once the upload is done, and the memory stayed free
            out.write("GET /hello HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(c.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
            awaitMetric(s, "tapline_sidecar_published_total", 2);
            assertEquals(0.0, metric(s, "tapline_sidecar_capture_memory_bytes"), "memory taken after publication");
            Interaction first = decode(p2.history().get(0).value());
            assertEquals(100, first.getRequest().getBody().remaining(), "the copy ends with its exchange");
            assertTrue(first.getRequest().getTruncated(), "a body still streaming is recorded as cut");
        }
    }

    @Test
    void shouldFreeAnExchangeAtOnceWhenItsClientLeavesBeforeTheResponse() throws Exception {
        // /slow never answers: with a 30 s upstream timeout, only the client's close can end the exchange early
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofSeconds(30)), p2, AVRO)) {
            try (Socket c = new Socket("127.0.0.1", s.port())) {
                c.getOutputStream().write(("POST /slow HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\n" + "x".repeat(100))
                        .getBytes(StandardCharsets.US_ASCII));
                c.getOutputStream().flush();
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 1);
                awaitMetric(s, "tapline_sidecar_pending_interactions", 1);
                awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 100);
            }
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            awaitMetric(s, "tapline_sidecar_pending_interactions", 0);
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0); // the upload's copy and the head given back
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"client_closed\"}", 1);
            // and the proxy still serves; what it publishes is the answered exchange only
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            assertEquals(1, p2.history().size());
            assertEquals(200, decode(p2.history().get(0).value()).getResponse().getStatus());
        }
    }

    @Test
    void shouldFreeAnExchangeAtOnceWhenItsClientLeavesWhileTheAppHasStoppedSendingItsAnswer() throws Exception {
        // The app sends a head and the first bytes of its answer, then nothing: the client's close is the only thing
        // that can end the exchange before the 30 s upstream timeout (and nothing can with none).
        java.util.concurrent.CountDownLatch appConnectionClosed = new java.util.concurrent.CountDownLatch(1);
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (RawServer app = new RawServer(answersThenAwaitsClose("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes",
                appConnectionClosed));
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port())
                     .upstreamTimeout(Duration.ofSeconds(30)), p2, AVRO)) {
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write("GET /stalls HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                c.getOutputStream().flush();
                assertTrue(readUntil(c.getInputStream(), "first bytes").startsWith("HTTP/1.1 200"));
                awaitMetric(s, "tapline_sidecar_pending_interactions", 1);
            }
            assertTrue(appConnectionClosed.await(10, TimeUnit.SECONDS), "the app's request is still open");
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            awaitMetric(s, "tapline_sidecar_pending_interactions", 0);
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
            assertFalse(s.metrics().scrape().contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""),
                    "the client left: not the app failing");
        }
    }

    @Test
    void shouldNotBlameTheAppForAClientThatLeftBeforeItsResponse() throws Exception {
        // The sidecar resets the app's request when its client leaves; that reset fails the upstream response, which
        // must not be reported as the app failing (a warning saying the client got a 502 it never got).
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        CapturedLog log = new CapturedLog();
        try (log; SidecarImpl s = SidecarImpl.start(options(origin), p2, AVRO)) {
            for (int k = 1; k <= 3; k++) {
                try (Socket c = new Socket("127.0.0.1", s.port())) {
                    c.getOutputStream().write("GET /delay?ms=2000 HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    c.getOutputStream().flush();
                    awaitMetric(s, "tapline_sidecar_in_flight_requests", 1); // the app has the request
                    if (k == 3) {
                        c.shutdownOutput(); // a half-close ends the exchange the same way
                        assertEquals(-1, c.getInputStream().read());
                    }
                }
                awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"client_closed\"}", k);
            }
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            Thread.sleep(200);
            assertFalse(s.metrics().scrape().contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""),
                    s.metrics().scrape());
        }
        assertFalse(log.text().contains("the app did not answer"), log.text());
    }

    @Test
    void shouldNotBlameTheAppForAnUploadWhoseChunkedFramingBreaksAfterItsFirstBytes() throws Exception {
        // The first chunk reaches the app, then a chunk size that is not hex: the client gets the 400 of
        // MalformedRequests and the upload to the app is reset. That is the client's fault: no warning and no
        // upstream error saying the app failed, no unhandled-exception line per request, no 502 after the 400.
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        CapturedLog log = new CapturedLog();
        try (log; SidecarImpl s = SidecarImpl.start(options(origin), p2, AVRO)) {
            for (int k = 1; k <= 3; k++) {
                try (Socket c = new Socket("127.0.0.1", s.port())) {
                    c.setSoTimeout(5000);
                    c.getOutputStream().write("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    c.getOutputStream().flush();
                    awaitMetric(s, "tapline_sidecar_in_flight_requests", 1);
                    Thread.sleep(100); // the first chunk is on its way to the app
                    c.getOutputStream().write("zz\r\n".getBytes(StandardCharsets.US_ASCII));
                    String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(all.startsWith("HTTP/1.1 400"), all);
                    assertTrue(all.endsWith("\r\n\r\nmalformed request body\n"), all);
                }
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            }
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"no_app_response\"}", 3); // the sidecar's own answer
            Thread.sleep(200);
            assertFalse(s.metrics().scrape().contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""),
                    s.metrics().scrape());
        }
        String logged = log.text();
        assertFalse(logged.contains("the app did not answer"), logged);
        assertFalse(logged.contains("ERROR"), logged);
    }

    @Test
    void shouldNotPublishTheCallsOfARequestItDidNotCaptureAsUnattributed() throws Exception {
        // a route cap of 1/s: the later requests are proxied uncaptured; their calls carry their trace id and must
        // stay out with them, not be published on their own (and counted as a sign the app does not propagate)
        TestOrigin own = new TestOrigin();
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(own).routeCap("GET /call", 1).outboundGrace(Duration.ofMillis(50)), p2, AVRO)) {
            own.egressPort = s.egressPort();
            for (int k = 0; k < 5; k++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=" + k))
                        .header("X-Propagate", "1").build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
            }
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"route_cap\"}", 4);
            awaitMetric(s, "tapline_sidecar_outbound_sampled_out_total", 4);
            assertEquals(0.0, metric(s, "tapline_sidecar_unattributed_published_total"));
            assertEquals(1.0, metric(s, "tapline_sidecar_outbound_calls_total{attribution=\"trace_context\"}"));
            assertEquals(0.0, metric(s, "tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}"));
            assertEquals(List.of(TaplineTopics.INTERACTIONS), p2.history().stream().map(ProducerRecord::topic).toList());
        } finally {
            own.close();
        }
    }

    @Test
    void shouldNotPublishALateCallOfARequestItDidNotCaptureAsUnattributed() throws Exception {
        // a fire-and-forget call the app makes after answering a route-capped request: within the grace period it
        // stays out with its request, as a captured request's late call goes with it (published unattributed, the
        // calls of a hot capped route went out at the route's full rate)
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).routeCap("GET /hello", 1).outboundGrace(Duration.ofSeconds(30)), p2, AVRO)) {
            TraceContext captured = TraceContext.generate();
            TraceContext capped = TraceContext.generate();
            for (TraceContext t : List.of(captured, capped)) {
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello"))
                        .header("traceparent", t.header()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"route_cap\"}", 1);

            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/items"))
                    .header("traceparent", capped.header()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            awaitMetric(s, "tapline_sidecar_outbound_sampled_out_total", 1);
            assertEquals(0.0, metric(s, "tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}"));

            // a trace no request had: published on its own, as before
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/items"))
                    .header("traceparent", TraceContext.generate().header()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            awaitMetric(s, "tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}", 1);
            assertEquals(1.0, metric(s, "tapline_sidecar_outbound_sampled_out_total"));
        }
    }

    @Test
    void shouldPauseOnlyTheTopicWhoseSchemaFailedAndCountUnattributedDropsApart() throws Exception {
        // the registry is down: the Interaction schema id is known (serializes), the UnattributedCall one is not
        Serializer<SpecificRecord> registryDown = (topic, data) -> {
            if (data instanceof UnattributedCall) {
                throw new org.apache.kafka.common.errors.SerializationException("registry unreachable (ConnectException)");
            }
            return AVRO.serialize(topic, data);
        };
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(20)), p2, registryDown)) {
            for (int k = 0; k < 5; k++) {
                // a call with no inbound request in flight: unattributed, and its serialization fails
                http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/hello")).build(),
                        HttpResponse.BodyHandlers.ofString());
                awaitMetric(s, "tapline_sidecar_unattributed_dropped_total{reason=\"serialization\"}", k + 1);
                for (int j = 0; j < 4; j++) {
                    http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                            HttpResponse.BodyHandlers.ofString());
                }
                awaitMetric(s, "tapline_sidecar_published_total", 4 * (k + 1)); // not paused by the other topic
            }
            assertEquals(20.0, metric(s, "tapline_sidecar_captured_total"));
            assertEquals(0.0, metric(s, "tapline_sidecar_dropped_total{reason=\"serialization\"}"),
                    "the interactions' drop counters count interactions only");
        }
    }

    @Test
    void shouldPayForCapturedHeadsFromTheCaptureMemory() throws Exception {
        // 8 KiB of capture memory; the request, and the outbound call the app makes with it, carry 6 KiB of headers
        TestOrigin own = new TestOrigin();
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(own).captureMaxMemoryBytes(8192).outboundGrace(Duration.ofMillis(20)), p2, AVRO)) {
            own.egressPort = s.egressPort();
            HttpRequest.Builder big = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=1"))
                    .header("X-Propagate", "1").header("X-Outbound-Auth", "Bearer " + "t".repeat(6000));
            assertEquals(200, http.send(big.build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "proxied all the same");
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"capture_memory\"}", 1);
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
            // a request whose heads fit is captured, with its call
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=2"))
                    .header("X-Propagate", "1").build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            assertEquals(1, decode(p2.history().get(0).value()).getOutboundCalls().size());
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
        } finally {
            own.close();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void shouldCutAChunkedUploadAtTheLimitAlsoAfterAnEarlyAnswer(boolean capture) throws Exception {
        // the copy of a captured upload stops with its exchange; the body limit must not stop with it
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        // (streamed from the first byte, so the app answers before the body ends)
        try (SidecarImpl s = SidecarImpl.start(options(origin).maxRequestBodyBytes(100_000).captureEnabled(capture)
                .requestBufferBytes(0), p2, AVRO);
             Socket c = new Socket("127.0.0.1", s.port())) {
            c.setSoTimeout(3000);
            OutputStream out = c.getOutputStream();
            out.write(("POST /early HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + "y".repeat(99) + "\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(c.getInputStream(), "early").startsWith("HTTP/1.1 401"));
            byte[] chunk = new byte[10_000];
            String after;
            try {
                for (int k = 0; k < 30; k++) { // 300 KB, three times the limit
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                out.write("0\r\n\r\nGET /hello HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                after = readUntil(c.getInputStream(), "hello");
            } catch (SocketTimeoutException e) {
                after = "open, no answer: " + e;
            } catch (IOException e) {
                after = "closed: " + e;
            }
            // the answer was written in full, so the upload is cut by closing the connection: not answered, nor left open
            assertFalse(after.startsWith("HTTP/1.1 200"), "capture " + capture + ": 300 KB went past the 100 KB limit; " + after);
            assertFalse(after.startsWith("open"), "capture " + capture + ": the connection stayed open past the limit; " + after);
        }
    }

    @Test
    void shouldGiveBackTheAnswersCopyWhenAnUploadOutgrowsTheLimitWhileTheAnswerStreams() throws Exception {
        // The app answers at once and streams its answer while the client is still uploading; the upload then passes
        // the limit: the client's response is reset and the exchange ends as the sidecar's own 413 (not published).
        // What was copied of the app's answer until then must go back to the capture memory, or each such exchange
        // keeps its share for good and capture ends once the memory is spent.
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (RawServer app = new RawServer(c -> {
                readUntil(c.getInputStream(), "\r\n\r\n");
                c.getOutputStream().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                c.getOutputStream().flush();
                while (c.getInputStream().read() >= 0) {
                    // the upload, until the sidecar resets the request
                }
            });
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port())
                     .maxRequestBodyBytes(1000).requestBufferBytes(0), p2, AVRO);
             Socket c = connect(s.port())) {
            OutputStream out = c.getOutputStream();
            out.write("POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readUntil(c.getInputStream(), "hello").startsWith("HTTP/1.1 200"), "the answer streams");
            out.write(("7d0\r\n" + "y".repeat(2000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"no_app_response\"}", 1);
            awaitMetric(s, "tapline_sidecar_capture_memory_bytes", 0);
            assertEquals(0, interactions(p2).size());
            // the sidecar's refusal, counted as a 413 written before the answer began is
            awaitMetric(s, "tapline_sidecar_rejected_total{listener=\"inbound\",status=\"413\"}", 1);
        }
    }

    @Test
    void shouldNotAttachTheCallsOfAnUncapturedRequestToACapturedOneOfTheSameTrace() throws Exception {
        // a caller's fan-out: two requests under one trace id; the route cap captures one and not the other
        TestOrigin own = new TestOrigin();
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(own).routeCap("GET /call", 1), p2, AVRO)) {
            own.egressPort = s.egressPort();
            String tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            CompletableFuture<HttpResponse<String>> a = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=a"))
                    .header("X-Propagate", "1").header("traceparent", tp).build(), HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> b = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call?marker=b"))
                    .header("X-Propagate", "1").header("traceparent", tp).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, a.get().statusCode());
            assertEquals(200, b.get().statusCode());
            awaitMetric(s, "tapline_sidecar_published_total", 1);
            awaitMetric(s, "tapline_sidecar_dropped_total{reason=\"route_cap\"}", 1);
            Interaction captured = decode(p2.history().stream().filter(r -> r.topic().equals(TaplineTopics.INTERACTIONS))
                    .findFirst().orElseThrow().value());
            // its own call, when the sibling was over by then; none when both were in flight (never the sibling's alone)
            for (OutboundCall call : captured.getOutboundCalls()) {
                assertEquals(captured.getRequest().getRawQuery(), call.getRequest().getRawQuery(), "a call of the other request");
            }
            assertTrue(captured.getOutboundCalls().size() <= 1, captured.getOutboundCalls()::toString);
        } finally {
            own.close();
        }
    }

    @Test
    void shouldKeepOutTheCallsOfARequestBegunWhileCaptureWasOff() throws Exception {
        // Decided at its start, the request stays uncaptured once capture is switched on: the calls it makes then, under
        // its trace id, were published as unattributed (no interaction claims them), a burst at every /capture/on
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        String tp = "00-" + "cd".repeat(16) + "-00f067aa0ba902b7-01";
        try (SidecarImpl s = SidecarImpl.start(options(origin).captureEnabled(false).upstreamTimeout(Duration.ofSeconds(30)), p2, AVRO);
             Socket inbound = new Socket("127.0.0.1", s.port())) {
            // in flight for the whole test: the origin never answers /slow
            inbound.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: x\r\ntraceparent: " + tp + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 1);
            s.setCaptureEnabled(true);
            HttpResponse<String> call = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/hello"))
                    .header("traceparent", tp).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, call.statusCode(), "proxied all the same");
            assertEquals(0.0, metric(s, "tapline_sidecar_outbound_calls_total{attribution=\"unattributed\"}"));
            assertEquals(1.0, metric(s, "tapline_sidecar_outbound_sampled_out_total"), "out with its request");

            // a request begun once capture is on is captured, its calls with it
            String on = "00-" + "ce".repeat(16) + "-00f067aa0ba902b7-01";
            try (Socket second = new Socket("127.0.0.1", s.port())) {
                second.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: x\r\ntraceparent: " + on + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 2);
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/hello"))
                        .header("traceparent", on).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
                assertEquals(1.0, metric(s, "tapline_sidecar_outbound_calls_total{attribution=\"trace_context\"}"));
            }
        } finally {
            origin.seen.clear();
        }
    }

    /** Waits (up to 10 s) until no capture is pending or queued: the previous exchanges' records are published. */
    static void awaitCapturesSettled(SidecarImpl s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !(s.metrics().scrape().contains("tapline_sidecar_pending_interactions 0\n")
                && s.metrics().scrape().contains("tapline_sidecar_queue_items 0\n"))) {
            Thread.sleep(10);
        }
    }

    static void awaitMetric(SidecarImpl s, String name, double value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (metric(s, name) != value && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(value, metric(s, name), name);
    }

    static double metric(SidecarImpl s, String name) {
        return s.metrics().scrape().lines().filter(l -> l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1).trim())).findFirst().orElse(-1);
    }

    @Test
    void shouldRecordATunnelOpenedDuringASoleInFlightRequest() throws Exception {
        // the app opens a CONNECT tunnel while serving: recorded as an opaque TUNNEL call with byte counts (the app
        // answers after 900 ms, inside the shared sidecar's 1 s upstream timeout)
        CompletableFuture<HttpResponse<String>> slow = http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/delay?ms=900")).build(),
                HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (origin.seen.isEmpty() && sidecar.metrics().scrape().contains("tapline_sidecar_in_flight_requests 0") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(100);
        try (Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            readUntil(in, "\r\n\r\n");
            out.write("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            readUntil(in, "hello");
        }
        assertEquals("hello", slow.get(10, TimeUnit.SECONDS).body());
        Interaction i = decode(awaitRecords(1).get(0).value());
        assertEquals(1, i.getOutboundCalls().size());
        OutboundCall t = i.getOutboundCalls().get(0);
        assertEquals(CallKind.TUNNEL, t.getKind());
        assertEquals(Attribution.SOLE_IN_FLIGHT, t.getAttribution());
        assertEquals("CONNECT", t.getRequest().getMethod());
        assertTrue(t.getBytesUp() > 0 && t.getBytesDown() > 0);
    }

    @Test
    void shouldCountATunnelClosingAfterItsInteractionWasPublishedAsLateNotOverTheLimit() throws Exception {
        double late = metric(sidecar, "tapline_sidecar_outbound_late_total");
        double overLimit = metric(sidecar, "tapline_sidecar_outbound_over_limit_total");
        CompletableFuture<HttpResponse<String>> request = http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/delay?ms=300")).build(),
                HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (sidecar.metrics().scrape().contains("tapline_sidecar_in_flight_requests 0") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        // opened while the request is the only one in flight (SOLE_IN_FLIGHT), closed once its interaction is published
        try (Socket s = connectThroughTunnel(origin.port())) {
            assertEquals("hello", request.get(10, TimeUnit.SECONDS).body());
            Interaction i = decode(awaitRecords(1).get(0).value());
            assertEquals(0, i.getOutboundCalls().size(), "the tunnel was still open when the interaction was published");
        }
        awaitMetric(sidecar, "tapline_sidecar_outbound_late_total", late + 1);
        assertEquals(late + 1, metric(sidecar, "tapline_sidecar_outbound_late_total"), "a tunnel ending after the grace period is late");
        assertEquals(overLimit, metric(sidecar, "tapline_sidecar_outbound_over_limit_total"), "and not over the per-interaction limit");
    }

    @Test
    void shouldStopAndResumeCaptureThroughTheManagementPort() throws Exception {
        HttpResponse<String> off = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.managementPort() + "/capture/off"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, off.statusCode());
        assertEquals(200, get("/hello").statusCode());
        Thread.sleep(300);
        // An outbound call made while capture is off (no trace context, nothing in flight) is not captured either.
        try (Socket s = new Socket("127.0.0.1", sidecar.egressPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /inv/hello HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(s.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
        }
        Thread.sleep(300);
        assertEquals(0, producer.history().size(), "nothing captured while off");
        assertTrue(sidecar.metrics().scrape().contains("tapline_sidecar_capture_enabled 0"));
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.managementPort() + "/capture/on"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        get("/hello");
        awaitRecords(1);
    }

    @Test
    void shouldAnswerAnotherMethodOrPathOfTheCaptureSwitchWith405Or404() throws Exception {
        // Every request under /capture that was not GET /capture or POST /capture/on|off got 405 "use GET /capture, ...":
        // a misspelt POST /capture/of as much as GET /captureX, and HEAD /capture, which a GET resource takes.
        String base = "http://127.0.0.1:" + sidecar.managementPort();
        String[][] cases = {
                {"GET", "/capture/off", "405", "POST"}, {"PUT", "/capture/on", "405", "POST"},
                {"POST", "/capture", "405", "GET, HEAD"}, {"DELETE", "/capture", "405", "GET, HEAD"},
                {"POST", "/capture/of", "404", null}, {"POST", "/capture/on/x", "404", null}, {"GET", "/captureX", "404", null},
                {"HEAD", "/capture", "200", null},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + c[1]))
                    .method(c[0], HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(Integer.parseInt(c[2]), r.statusCode(), c[0] + " " + c[1] + ": " + r.body());
            assertEquals(c[3], r.headers().firstValue("Allow").orElse(null), c[0] + " " + c[1]);
        }
        assertTrue(sidecar.metrics().scrape().contains("tapline_sidecar_capture_enabled 1"), "capture stays as it was");
    }

    @Test
    void shouldSwitchCaptureOnlyWithTheManagementTokenWhenOneIsSet() throws Exception {
        // a producer of its own: closing this sidecar closes it
        MockProducer<String, byte[]> own = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).managementToken("switch-token-123"), own, AVRO)) {
            URI off = URI.create("http://127.0.0.1:" + s.managementPort() + "/capture/off");
            assertEquals(401, http.send(HttpRequest.newBuilder(off).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertTrue(s.metrics().scrape().contains("tapline_sidecar_capture_enabled 1"), "switched without the token");
            assertEquals(200, http.send(HttpRequest.newBuilder(off).header("Authorization", "Bearer switch-token-123")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertTrue(s.metrics().scrape().contains("tapline_sidecar_capture_enabled 0"));
        }
    }

    @Test
    void shouldDropAndCountWhenTheQueueIsFullWithoutFailingRequests() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (SidecarImpl s = SidecarImpl.start(options(origin).captureQueueMaxBytes(64), p2, AVRO)) {
            for (int k = 0; k < 20; k++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!s.metrics().scrape().contains("tapline_sidecar_dropped_total{reason=\"queue_full\"} 20") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(s.metrics().scrape().contains("tapline_sidecar_dropped_total{reason=\"queue_full\"} 20"), s.metrics().scrape());
            assertEquals(0, p2.history().size());
        }
    }

    /**
     * An app that reads a request head, writes {@code answer} (a head and the start of a body, or nothing) and then
     * stays silent until the sidecar closes or resets the connection, which counts {@code closed} down.
     */
    private static RawServer.Script answersThenAwaitsClose(String answer, java.util.concurrent.CountDownLatch closed) {
        return c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            try {
                c.setSoTimeout(30_000);
                c.getInputStream().read();
            } catch (IOException reset) {
                // closed by a reset: as good as a FIN
            }
            closed.countDown();
        };
    }

    /** A WebSocket through the sidecar on {@code port} to an echoing app, once it has echoed a "ping". */
    private static java.net.http.WebSocket echoingWebSocket(int port) throws Exception {
        CompletableFuture<String> echoed = new CompletableFuture<>();
        java.net.http.WebSocket sock = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"),
                new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket webSocket, CharSequence data, boolean last) {
                        echoed.complete(data.toString());
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        sock.sendText("ping", true);
        assertEquals("ping", echoed.get(5, TimeUnit.SECONDS));
        return sock;
    }

    @Test
    void shouldTunnelWebSocketUpgradesUncaptured() throws Exception {
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        try {
            io.vertx.core.http.HttpServer ws = v.createHttpServer().webSocketHandler(sock -> sock.textMessageHandler(sock::writeTextMessage))
                    .requestHandler(req -> req.response().end("hello")) // a plain request, captured as any
                    .listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + ws.actualPort()), p2, AVRO)) {
                java.net.http.WebSocket sock = echoingWebSocket(s.port());
                awaitMetric(s, "tapline_sidecar_websocket_upgrades_total{listener=\"inbound\"}", 1);
                sock.abort();
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0); // the WebSocket has ended
                // A capture is published only after its grace period, so looking at once finds nothing either way.
                // Once a later request is published and nothing is pending or queued, the WebSocket left nothing.
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/hello")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode());
                awaitMetric(s, "tapline_sidecar_published_total", 1);
                awaitMetric(s, "tapline_sidecar_pending_interactions", 0);
                awaitMetric(s, "tapline_sidecar_queue_items", 0);
                assertEquals(List.of("/hello"), p2.history().stream().map(r -> decode(r.value()).getRequest().getPath()).toList(),
                        "WebSocket traffic is not captured");
            }
        } finally {
            v.close().await();
        }
    }

    /** Sends a WebSocket handshake on {@code c} and reads the 101 that answers it. */
    private static void upgradeToWebSocket(Socket c) throws IOException {
        c.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertTrue(readUntil(c.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 101"));
    }

    /** What a test does through a WebSocket tunnel, given its sidecar {@code s} and the client's upgraded connection {@code c}. */
    private interface TunnelBody {
        void run(SidecarImpl s, Socket c) throws Exception;
    }

    /**
     * Runs {@code body} through a WebSocket tunnel of its own: an app on a Vert.x of its own, whose WebSockets
     * {@code app} serves (given that Vert.x too, for timers), a sidecar of its own in front of it, and a raw client
     * connection upgraded through the sidecar, so that the test writes and reads frames byte for byte and sees the
     * tunnel's end as the client does. All of it is closed after {@code body}, also when it fails.
     */
    private static void throughAWebSocketTunnel(java.util.function.BiConsumer<io.vertx.core.Vertx,
            io.vertx.core.http.ServerWebSocket> app, TunnelBody body) throws Exception {
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        try {
            io.vertx.core.http.HttpServer ws = v.createHttpServer().webSocketHandler(sock -> app.accept(v, sock))
                    .listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + ws.actualPort()), p2, AVRO);
                 Socket c = connect(s.port())) {
                upgradeToWebSocket(c);
                body.run(s, c);
            }
        } finally {
            v.close().await();
        }
    }

    /** A final frame with {@code opcode}, masked as a client sends it; a 7- or 16-bit length (under 64 KiB). */
    private static byte[] maskedFrame(int opcode, byte[] payload) {
        byte[] mask = {1, 2, 3, 4};
        int lengthBytes = payload.length < 126 ? 0 : 2;
        byte[] frame = new byte[2 + lengthBytes + mask.length + payload.length];
        frame[0] = (byte) (0x80 | opcode);
        frame[1] = (byte) (0x80 | (lengthBytes == 0 ? payload.length : 126));
        if (lengthBytes == 2) {
            frame[2] = (byte) (payload.length >> 8);
            frame[3] = (byte) payload.length;
        }
        int at = 2 + lengthBytes;
        System.arraycopy(mask, 0, frame, at, mask.length);
        for (int i = 0; i < payload.length; i++) {
            frame[at + mask.length + i] = (byte) (payload[i] ^ mask[i % mask.length]);
        }
        return frame;
    }

    /**
     * A WebSocket client that ends its connection (FIN) after sending a frame: the tunnel closes both ways at once, as
     * it does for one that sent nothing. It used to wait for its last write to the app to complete first, which for a
     * WebSocket's upstream (a stream of the HTTP client connection) never happens: both connections stayed open (the
     * client's in CLOSE-WAIT) until the tunnel idle timeout, 5 min by default, and the WebSocket counted as in flight
     * all that time, so no call without trace context could be given to the only request in flight.
     */
    @Test
    void shouldCloseAWebSocketTunnelWhoseClientEndsItsConnectionAfterSendingAFrame() throws Exception {
        throughAWebSocketTunnel((v, sock) -> sock.textMessageHandler(sock::writeTextMessage), (s, c) -> {
            c.getOutputStream().write(maskedFrame(0x1, "ping".getBytes(StandardCharsets.US_ASCII)));
            c.getOutputStream().flush();
            byte[] echo = c.getInputStream().readNBytes(2 + 4);
            assertEquals("ping", new String(echo, 2, 4, StandardCharsets.US_ASCII), "echoed through the tunnel");
            assertEquals(1.0, metric(s, "tapline_sidecar_in_flight_requests"), "the open WebSocket is in flight");

            c.shutdownOutput();
            assertEquals(-1, c.getInputStream().read(), "the sidecar closes the tunnel");
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
        });
    }

    /**
     * Closing at once loses nothing: 6 MB of frames to an app reading them slowly, then the last frame with the FIN
     * right behind it, and the app still gets the last frame (the tunnel reads the FIN only once the app took the
     * bytes before it, and a close sends what was written first).
     */
    @Test
    void shouldDeliverTheLastFrameOfAWebSocketClientThatEndsItsConnectionRightAfterIt() throws Exception {
        CompletableFuture<String> received = new CompletableFuture<>();
        AtomicInteger bulk = new AtomicInteger();
        throughAWebSocketTunnel((v, sock) -> {
            sock.textMessageHandler(received::complete);
            sock.binaryMessageHandler(b -> {
                bulk.incrementAndGet();
                sock.pause(); // a slow reader: the tunnel's writes to it queue up
                v.setTimer(5, t -> sock.resume());
            });
        }, (s, c) -> {
            byte[] big = maskedFrame(0x2, new byte[60_000]);
            for (int k = 0; k < 100; k++) {
                c.getOutputStream().write(big);
            }
            c.getOutputStream().write(maskedFrame(0x1, "last words".getBytes(StandardCharsets.US_ASCII)));
            c.shutdownOutput(); // the FIN right behind the frame
            assertEquals("last words", received.get(20, TimeUnit.SECONDS));
            assertEquals(100, bulk.get(), "every frame before it arrived");
            assertEquals(-1, c.getInputStream().read(), "the sidecar closes the tunnel");
        });
    }

    @Test
    void shouldAnswer504WhenTheAppNeverAnswersAWebSocketHandshake() throws Exception {
        // as for any request: no answer within proxy.upstream.timeout (1 s here) is a 504, not a client left waiting
        try (Socket s = connect(sidecar.port())) {
            s.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 504"), head);
        }
        awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
    }

    /**
     * A WebSocket handshake is an exchange like any other: its client leaving frees the app's connection at once, and
     * an app that refuses it and then stalls its refusal's body holds nothing past the upstream timeout.
     */
    @Test
    void shouldFreeTheAppConnectionOfAWebSocketHandshakeItsClientLeftOrTheAppStalled() throws Exception {
        String handshake = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        for (boolean refuses : new boolean[] {false, true}) {
            java.util.concurrent.CountDownLatch appConnectionClosed = new java.util.concurrent.CountDownLatch(1);
            try (RawServer app = new RawServer(answersThenAwaitsClose(
                    refuses ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000\r\n\r\nno" : "", appConnectionClosed));
                 SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port())
                         .upstreamTimeout(Duration.ofSeconds(refuses ? 2 : 30)), p2, AVRO)) {
                try (Socket c = connect(s.port())) {
                    c.getOutputStream().write(handshake.getBytes(StandardCharsets.US_ASCII));
                    c.getOutputStream().flush();
                    if (refuses) {
                        // the refusal is relayed; its body never ends: the upstream timeout still applies
                        assertTrue(readUntil(c.getInputStream(), "no").startsWith("HTTP/1.1 403"));
                        assertTrue(appConnectionClosed.await(10, TimeUnit.SECONDS), "the app's stalled refusal is still open");
                    } else {
                        awaitMetric(s, "tapline_sidecar_in_flight_requests", 1);
                    }
                }
                assertTrue(appConnectionClosed.await(10, TimeUnit.SECONDS), "the app's handshake is still open");
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            }
        }
    }

    /**
     * An app that breaks off its refusal of a WebSocket upgrade mid-body has it cut for the client, as any answer broken
     * off is, and counted so. Before, the relay ended it: a chunked refusal got its last chunk, a short body that read
     * as whole.
     */
    @Test
    void shouldCutARefusalOfAWebSocketUpgradeTheAppBreaksOffMidBody() throws Exception {
        MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (RawServer app = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            Thread.sleep(100); // then the connection closes, the refusal unfinished
        }); SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()), p2, AVRO)) {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write(webSocketHandshake("/ws", "Upgrade").getBytes(StandardCharsets.US_ASCII));
                c.getOutputStream().flush();
                InputStream in = c.getInputStream();
                for (int b = in.read(); b >= 0; b = in.read()) {
                    got.write(b);
                }
            } catch (IOException reset) {
                // the cut: what came before it is in got
            }
            String all = got.toString(StandardCharsets.ISO_8859_1);
            assertTrue(all.startsWith("HTTP/1.1 403") && all.contains("\r\n\r\n5\r\nfirst\r\n"), all);
            assertFalse(all.endsWith("0\r\n\r\n"), "a broken refusal reached the client ended as if whole: " + all);
            awaitMetric(s, "tapline_sidecar_upstream_aborted_total{listener=\"inbound\",reason=\"closed\"}", 1);
            awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
        }
    }

    @Test
    void shouldNotTakeARequestForTheOnlyOneInFlightWhileAWebSocketIsOpen() throws Exception {
        // The app serves a WebSocket and /call, which calls a dependency through the egress without trace context:
        // with the WebSocket open, two inbound exchanges are in flight, and the call may be either's.
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        AtomicInteger egressPort = new AtomicInteger();
        try {
            io.vertx.core.http.HttpClient client = v.createHttpClient();
            io.vertx.core.http.HttpServer app = v.createHttpServer().webSocketHandler(sock -> sock.textMessageHandler(sock::writeTextMessage))
                    .requestHandler(req -> client.request(io.vertx.core.http.HttpMethod.GET, egressPort.get(), "127.0.0.1", "/inv/items?marker=ws")
                            .compose(r -> r.send().compose(io.vertx.core.http.HttpClientResponse::body))
                            .onComplete(ar -> req.response().end(ar.succeeded() ? ar.result().toString() : ar.cause().toString())))
                    .listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.actualPort())
                    .outboundGrace(Duration.ofMillis(50)), p2, AVRO)) {
                egressPort.set(s.egressPort());
                java.net.http.WebSocket sock = echoingWebSocket(s.port());
                assertEquals(1.0, metric(s, "tapline_sidecar_in_flight_requests"), "the open WebSocket is in flight");

                assertEquals("{\"marker\":\"ws\"}", http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/call")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                Interaction i = decode(awaitRecords(p2, 1).get(0).value());
                assertEquals(List.of(), i.getOutboundCalls(), "not guessed onto the request");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (p2.history().stream().noneMatch(r -> r.topic().equals(TaplineTopics.UNATTRIBUTED)) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, p2.history().stream().filter(r -> r.topic().equals(TaplineTopics.UNATTRIBUTED)).count(), "published on its own");

                sock.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0); // no longer in flight once closed
            }
        } finally {
            v.close().await();
        }
    }

    @Test
    void shouldForwardAWebSocketHandshakeWithoutHopByHopHeadersAndWithForwardingHeaders() throws Exception {
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        try {
            BlockingQueue<io.vertx.core.MultiMap> heads = new LinkedBlockingQueue<>();
            io.vertx.core.http.HttpServer ws = v.createHttpServer().requestHandler(req -> {
                heads.add(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
                if (req.path().equals("/refuse")) {
                    req.response().setStatusCode(403).setChunked(true).end("nope!");
                } else {
                    req.toWebSocket().onSuccess(sock -> sock.handler(sock::write));
                }
            }).listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + ws.actualPort()), p2, AVRO)) {
                String handshake = " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Secret\r\n"
                        + "X-Secret: s\r\nProxy-Authorization: Basic dTpw\r\nKeep-Alive: 5\r\nX-Forwarded-For: 1.2.3.4\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
                try (Socket sock = connect(s.port())) {
                    sock.getOutputStream().write(("GET /ws" + handshake).getBytes(StandardCharsets.US_ASCII));
                    String head = readUntil(sock.getInputStream(), "\r\n\r\n");
                    assertTrue(head.startsWith("HTTP/1.1 101"), head);
                    assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), head);
                }
                io.vertx.core.MultiMap seen = heads.poll(5, TimeUnit.SECONDS);
                assertEquals("websocket", seen.get("upgrade"));
                assertEquals("Upgrade", seen.get("connection"));
                for (String hop : List.of("x-secret", "proxy-authorization", "keep-alive")) {
                    assertFalse(seen.contains(hop), hop + " is not forwarded: " + seen);
                }
                assertEquals("1.2.3.4, 127.0.0.1", seen.get("x-forwarded-for"), "the real peer appended, as on any request");
                assertEquals("x", seen.get("x-forwarded-host"));

                try (Socket sock = connect(s.port())) {
                    sock.getOutputStream().write(("GET /refuse" + handshake).getBytes(StandardCharsets.US_ASCII));
                    String refused = readUntil(sock.getInputStream(), "\r\n0\r\n\r\n"); // the chunked body's end
                    assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
                    assertTrue(refused.contains("\r\n5\r\nnope!\r\n"), "the app's refusal keeps its body: " + refused);
                }
                // each WebSocket was in flight until it ended: closed by the client, or refused
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            }
        } finally {
            v.close().await();
        }
    }

    @Test
    void shouldCloseAfterABodyOfUnknownLengthToAnHttp10KeepAliveClient() throws Exception {
        for (String connection : List.of("keep-alive", "keep-alive, x-trace")) {
            try (Socket s = connect(sidecar.port())) {
                s.getOutputStream().write(("GET /download?n=1000 HTTP/1.0\r\nConnection: " + connection + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] all = s.getInputStream().readAllBytes(); // a read timeout when the sidecar keeps the connection open
                String text = new String(all, StandardCharsets.ISO_8859_1);
                assertTrue(text.startsWith("HTTP/1.0 200"), text.substring(0, Math.min(200, text.length())));
                assertEquals(1000, all.length - (text.indexOf("\r\n\r\n") + 4), "the body, ended by the close");
                // before, Vert.x's keep-alive replaced the close: the head said keep-alive over a body the close ended
                String head = text.substring(0, text.indexOf("\r\n\r\n") + 2).toLowerCase(Locale.ROOT);
                assertTrue(head.contains("\r\nconnection: close\r\n") && !head.contains("keep-alive"), head);
            }
        }
        // with a length, keep-alive is kept
        try (Socket s = connect(sidecar.port())) {
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < 2; i++) {
                out.write("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String head = readUntil(s.getInputStream(), "\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.0 200") && head.toLowerCase(java.util.Locale.ROOT).contains("content-length: 5"), head);
                assertEquals("hello", new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void shouldKeepAnHttp10ClientsConnectionOpenForKeepAliveAmongItsConnectionOptions() throws Exception {
        // RFC 9112 9.3: keep-alive among the options (a list, any case), not only alone; before, the sidecar read such a
        // request as not the last while Vert.x, reading only a line that is keep-alive exactly, closed the connection
        try (Socket s = connect(sidecar.port())) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("GET /hello?a HTTP/1.0\r\nConnection: keep-alive, X-Trace\r\nX-After: 1\r\n\r\n"
                    + "GET /hello?b HTTP/1.0\r\nconnection: x-trace\r\nX-After: 2\r\nConnection: Keep-Alive\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 2; i++) {
                String head = readUntil(in, "\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.0 200") && head.toLowerCase(Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), head);
                assertEquals("hello", new String(in.readNBytes(5), StandardCharsets.US_ASCII));
            }
            out.write("GET /hello?c HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String last = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(last.startsWith("HTTP/1.0 200") && last.endsWith("hello"), last);
        }
        for (String query : List.of("a", "b")) {
            TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
            assertEquals("/hello?" + query, seen.uri());
            assertFalse(seen.headers().containsKey("connection") || seen.headers().containsKey("x-trace"), seen.headers().toString());
        }
        // recorded as the client sent them, lines in their order
        List<List<String>> recorded = awaitRecords(3).stream().map(r -> decode(r.value()))
                .filter(i -> !"c".equals(String.valueOf(i.getRequest().getRawQuery())))
                .sorted(java.util.Comparator.comparing(i -> String.valueOf(i.getRequest().getRawQuery())))
                .map(i -> i.getRequest().getHeaders().stream().map(h -> h.getName() + ": " + h.getValue()).toList()).toList();
        assertEquals(List.of(List.of("Connection: keep-alive, X-Trace", "X-After: 1"),
                List.of("connection: x-trace", "X-After: 2", "Connection: Keep-Alive")), recorded);
        // close among the options ends it, also with a line that is keep-alive alone: nothing behind it is served
        for (String connection : List.of("keep-alive, close", "keep-alive\r\nConnection: close")) {
            try (Socket s = connect(sidecar.port())) {
                s.getOutputStream().write(("GET /hello HTTP/1.0\r\nConnection: " + connection + "\r\n\r\n"
                        + "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertEquals(1, all.split("HTTP/1.0 200").length - 1, connection + ": " + all);
                assertFalse(all.toLowerCase(Locale.ROOT).contains("keep-alive"), connection + ": " + all);
            }
        }
    }

    @Test
    void shouldCloseAfterTheResponseWhenCloseIsOneOfTheClientsConnectionOptions() throws Exception {
        // RFC 9112 9.6: "close" among the Connection options, not only alone, ends the connection after the response
        for (String connection : List.of("x-trace, close", "Close", "keep-alive,close")) {
            try (Socket s = connect(sidecar.port())) {
                s.getOutputStream().write(("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: " + connection + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] all = s.getInputStream().readAllBytes(); // a read timeout when the sidecar keeps the connection open
                String text = new String(all, StandardCharsets.ISO_8859_1);
                assertTrue(text.startsWith("HTTP/1.1 200") && text.endsWith("hello"), connection + ": " + text);
                assertTrue(text.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), connection + ": " + text);
            }
        }
        // a long chunked body too: the close waits for all of it
        try (Socket s = connect(sidecar.port())) {
            s.getOutputStream().write("GET /download?n=2000000 HTTP/1.1\r\nHost: x\r\nConnection: x-trace, close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(text.startsWith("HTTP/1.1 200") && text.endsWith("\r\n0\r\n\r\n"), text.substring(0, Math.min(200, text.length())));
        }
    }

    /**
     * A WebSocket handshake answered without a 101 is an answer like any other: a client that said {@code close} among
     * its Connection options has its connection closed after it (RFC 9112 9.6), on both listeners, whether the app
     * refused the upgrade (400, 426) or the sidecar answered for an app it could not reach (502, 504). Before, the
     * answer came and the connection stayed open. A handshake the app accepts is tunneled as before.
     */
    @Test
    void shouldCloseAfterARefusedWebSocketHandshakeWhenCloseIsOneOfTheClientsConnectionOptions() throws Exception {
        int deadPort = closedPort();
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        try {
            io.vertx.core.http.HttpServer app = v.createHttpServer().requestHandler(req -> {
                if (req.path().equals("/ws")) {
                    req.toWebSocket().onSuccess(sock -> sock.textMessageHandler(sock::writeTextMessage));
                } else {
                    req.response().setStatusCode(req.path().endsWith("/old") ? 426 : 400).end("refused");
                }
            }).listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            String appUrl = "http://127.0.0.1:" + app.actualPort();
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            SidecarOptions o = options(origin).app(appUrl).addEgress("refusing", appUrl)
                    .addEgress("dead", "http://127.0.0.1:" + deadPort);
            try (SidecarImpl s = SidecarImpl.start(o, p2, AVRO)) {
                String[][] handshakes = {
                        {Integer.toString(s.port()), "/bad", "400"},
                        {Integer.toString(s.port()), "/old", "426"},
                        {Integer.toString(sidecar.port()), "/slow", "504"},
                        {Integer.toString(s.egressPort()), "/refusing/old", "426"},
                        {Integer.toString(s.egressPort()), appUrl + "/bad", "400"},
                        {Integer.toString(s.egressPort()), "/dead/ws", "502"},
                };
                for (String connection : List.of("Upgrade, close", "upgrade,Close", "Upgrade\r\nConnection: close")) {
                    for (String[] h : handshakes) {
                        String what = h[1] + " on port " + h[0] + " with Connection: " + connection;
                        try (Socket c = connect(Integer.parseInt(h[0]))) {
                            c.getOutputStream().write(webSocketHandshake(h[1], connection).getBytes(StandardCharsets.US_ASCII));
                            String head = readUntil(c.getInputStream(), "\r\n\r\n");
                            assertTrue(head.startsWith("HTTP/1.1 " + h[2]), what + ": " + head);
                            String rest;
                            try {
                                rest = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                            } catch (SocketTimeoutException e) {
                                throw new AssertionError(what + ": the connection is still open 5 s after the answer", e);
                            }
                            assertFalse(rest.contains("HTTP/1.1"), what + ": " + rest);
                            assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), what + ": " + head);
                        }
                    }
                }
                // accepted: switched and tunneled, the close being no longer HTTP's to act on
                try (Socket c = connect(s.port())) {
                    c.getOutputStream().write(webSocketHandshake("/ws", "Upgrade, close").getBytes(StandardCharsets.US_ASCII));
                    String head = readUntil(c.getInputStream(), "\r\n\r\n");
                    assertTrue(head.startsWith("HTTP/1.1 101"), head);
                    c.getOutputStream().write(maskedFrame(0x1, "ping".getBytes(StandardCharsets.US_ASCII)));
                    byte[] echo = c.getInputStream().readNBytes(2 + 4);
                    assertEquals("ping", new String(echo, 2, 4, StandardCharsets.US_ASCII), "echoed through the tunnel");
                }
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            }
        } finally {
            v.close().await();
        }
    }

    /** A WebSocket handshake for {@code target} whose Connection header says {@code connection}. */
    private static String webSocketHandshake(String target, String connection) {
        return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: " + connection + "\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    @Test
    void shouldTakeRequestLinesAsLongAsTheHeadLimit() throws Exception {
        String query = "q=" + "a".repeat(8000);
        String answer = rawToClose("GET /hello?" + query + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer.substring(0, Math.min(200, answer.length())));
        assertEquals("/hello?" + query, origin.seen.poll(5, TimeUnit.SECONDS).uri());
        String tooLong = rawToClose("GET /hello?q=" + "a".repeat(20000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(tooLong.startsWith("HTTP/1.1 414"), tooLong.substring(0, Math.min(200, tooLong.length())));
    }

    @Test
    void shouldKeepContentLengthWhenTheClientNamesItInConnection() throws Exception {
        try (Socket s = connect(sidecar.port())) {
            s.getOutputStream().write("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello"
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = readUntil(s.getInputStream(), "hello");
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("hello"), answer);
        }
        assertEquals(5, origin.seen.poll(5, TimeUnit.SECONDS).bodyBytes(), "the body reached the app");
    }

    @Test
    void shouldKeepTheForwardedHeadersAndTheTraceContextWhenTheClientNamesThemInConnection() throws Exception {
        // A client naming an end-to-end header in Connection has a proxy drop it (RFC 9110 7.6.1): the hop-by-hop
        // header abuse of Traefik's CVE-2024-45410. "Connection: x-forwarded-for, x-forwarded-proto" took away what an
        // ingress in front had said of the client (its address, https), and the sidecar then wrote its own (the
        // ingress's address, http); "Connection: traceparent" took away the trace context the sidecar kept and records
        // the exchange under, so the app's calls came back without it. Other named headers are still dropped.
        String traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assertTrue(raw("GET /hello HTTP/1.1\r\nHost: x\r\n"
                + "Connection: keep-alive, traceparent, tracestate, x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-custom\r\n"
                + "traceparent: " + traceparent + "\r\ntracestate: v=1\r\nX-Forwarded-For: 203.0.113.7\r\n"
                + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nX-Custom: 1\r\n\r\n").startsWith("HTTP/1.1 200"));
        java.util.Map<String, String> seen = origin.seen.poll(5, TimeUnit.SECONDS).headers();
        assertEquals(traceparent, seen.get("traceparent"));
        assertEquals("v=1", seen.get("tracestate"));
        assertEquals("203.0.113.7, 127.0.0.1", seen.get("x-forwarded-for"));
        assertEquals("https", seen.get("x-forwarded-proto"));
        assertEquals("shop.example", seen.get("x-forwarded-host"));
        assertNull(seen.get("x-custom"), "a header the proxy does not manage is still dropped");
    }

    /**
     * The same abuse through a WebSocket handshake, whose upstream head is built apart from a plain request's: with
     * {@code Connection: Upgrade, x-forwarded-proto, ...} the app got the sidecar's {@code http} and the ingress's
     * address instead of what the ingress said, and no trace context.
     */
    @Test
    void shouldKeepTheForwardedHeadersAndTheTraceContextOfAWebSocketHandshakeThatNamesThemInConnection() throws Exception {
        io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
        try {
            BlockingQueue<io.vertx.core.MultiMap> heads = new LinkedBlockingQueue<>();
            io.vertx.core.http.HttpServer ws = v.createHttpServer().requestHandler(req -> {
                heads.add(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
                req.toWebSocket().onSuccess(sock -> sock.handler(sock::write));
            }).listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            String traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + ws.actualPort()), p2, AVRO);
                 Socket c = connect(s.port())) {
                c.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade, traceparent, tracestate, x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-custom\r\n"
                        + "traceparent: " + traceparent + "\r\ntracestate: v=1\r\nX-Forwarded-For: 203.0.113.7\r\n"
                        + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nX-Custom: 1\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String head = readUntil(c.getInputStream(), "\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.1 101"), head);
                io.vertx.core.MultiMap seen = heads.poll(5, TimeUnit.SECONDS);
                assertEquals(traceparent, seen.get("traceparent"), seen.toString());
                assertEquals("v=1", seen.get("tracestate"));
                assertEquals("203.0.113.7, 127.0.0.1", seen.get("x-forwarded-for"));
                assertEquals("https", seen.get("x-forwarded-proto"));
                assertEquals("shop.example", seen.get("x-forwarded-host"));
                assertNull(seen.get("x-custom"), "a header the proxy does not manage is still dropped");
                assertEquals("Upgrade", seen.get("connection"), "this hop's own upgrade request");
            }
        } finally {
            v.close().await();
        }
    }

    @Test
    void shouldAnswer502ToA101ForARequestThatAskedForNoUpgradeAndNeverReuseThatConnection() throws Exception {
        // An app that switches protocols on a plain GET (RFC 9110 7.8 forbids it: the request named no protocol). The
        // connection then speaks "foo": whatever arrives on it is recorded, and answered with bytes that parse as HTTP.
        List<String> intoSwitched = java.util.Collections.synchronizedList(new ArrayList<>());
        try (RawServer app = new RawServer(c -> {
            InputStream in = c.getInputStream();
            String head;
            while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
                if (head.startsWith("GET /switch ")) {
                    c.getOutputStream().write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        intoSwitched.add(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                        c.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoo".getBytes(StandardCharsets.US_ASCII));
                    }
                    return;
                }
                c.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlegit".getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress()
                    .eventLoops(1), p2, AVRO)) {
                try (Socket c = connect(s.port())) {
                    // pipelined: a client must not take the 101 for an interim response and the next answer for the first request's
                    c.getOutputStream().write(("GET /switch HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    String first = readUntil(c.getInputStream(), "\r\n\r\n");
                    assertTrue(first.startsWith("HTTP/1.1 502 "), first);
                }
                for (int k = 0; k < 5; k++) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write("GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(all.startsWith("HTTP/1.1 200") && all.endsWith("\r\n\r\nlegit"), all);
                    }
                }
                assertEquals(List.of(), intoSwitched, "requests sent into the connection the app switched to another protocol");
            }
        }
    }

    @Test
    void shouldAddNoContentLengthToA304ThatCameWithout() throws Exception {
        // RFC 9110 8.6: a 304 may carry Content-Length only as the 200's would be; "0" would tell a cache the
        // representation is empty. The app sends none (chunked 304 and plain 304 alike), so none may reach the client.
        try (RawServer app = new RawServer(c -> {
            InputStream in = c.getInputStream();
            String head;
            while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
                String framing = head.startsWith("GET /chunked ") ? "Transfer-Encoding: chunked\r\n" : "";
                c.getOutputStream().write(("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n" + framing + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress(), p2, AVRO);
                 Socket c = connect(s.port())) {
                for (String path : List.of("/plain", "/chunked")) {
                    c.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    String answer = readUntil(c.getInputStream(), "\r\n\r\n");
                    String lower = answer.toLowerCase(java.util.Locale.ROOT);
                    assertTrue(answer.startsWith("HTTP/1.1 304 "), answer);
                    assertTrue(lower.contains("etag: \"v1\"\r\n"), answer);
                    assertFalse(lower.contains("content-length"), answer);
                    assertFalse(lower.contains("transfer-encoding"), answer);
                }
            }
        }
    }

    @Test
    void shouldNotReuseAnAppConnectionThatSentBytesPastItsAnswer() throws Exception {
        // An app that sends a body with an answer that has none by definition (a HEAD's, a 204's, a 304's: RFC 9112
        // 6.3), or any byte past an answer's end. Those bytes are no answer to anything; a pooled connection holding
        // them fails the next request sent on it (they read as the start of its status line: a 502 to another
        // client). nginx closes such a connection. The bytes come with the head, or a moment after it.
        try (RawServer app = new RawServer(c -> {
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            String head;
            while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
                String answer = head.startsWith("HEAD ") ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                        : head.startsWith("GET /204 ") ? "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"
                        : head.startsWith("GET /304 ") ? "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello"
                        : head.startsWith("GET /past ") ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokextra"
                        : head.startsWith("GET /late ") ? "HTTP/1.1 204 No Content\r\n\r\n"
                        // in two writes (|), the second holding the head's rest, the end of the answer and the bytes
                        : head.startsWith("GET /split-head ") ? "HTTP/1.1 200 OK\r\nContent-|Length: 2\r\n\r\nokhello"
                        : head.startsWith("GET /split-chunked ")
                                ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r|\n\r\nhello"
                        : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlegit";
                String[] writes = answer.split("\\|");
                for (int w = 0; w < writes.length; w++) {
                    if (w > 0) {
                        Thread.sleep(100); // the first part is read alone, and held by the client's decoder
                    }
                    out.write(writes[w].getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                if (head.startsWith("GET /late ")) {
                    Thread.sleep(200);
                    out.write("hello".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress()
                    .eventLoops(1), p2, AVRO)) {
                for (String first : List.of("HEAD /head", "GET /204", "GET /304", "GET /past", "GET /late",
                        "GET /split-head", "GET /split-chunked")) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write((first + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        String answer = readUntil(c.getInputStream(), "\r\n\r\n");
                        assertFalse(answer.startsWith("HTTP/1.1 502 "), first + ": " + answer);
                        if (first.equals("GET /past") || first.equals("GET /split-head")) {
                            assertEquals("ok", new String(c.getInputStream().readNBytes(2), StandardCharsets.US_ASCII));
                        }
                        if (first.equals("GET /split-chunked")) { // read to its end: the answer is not given up
                            assertTrue(readUntil(c.getInputStream(), "\r\n0\r\n\r\n").endsWith("2\r\nok\r\n0\r\n\r\n"));
                        }
                        if (first.equals("GET /late")) {
                            Thread.sleep(400); // the stray bytes reach the idle pooled connection
                        }
                    }
                    for (int k = 0; k < 2; k++) {
                        try (Socket c = connect(s.port())) {
                            c.getOutputStream().write("GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                    .getBytes(StandardCharsets.US_ASCII));
                            String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                            assertTrue(all.startsWith("HTTP/1.1 200") && all.endsWith("\r\n\r\nlegit"), "after " + first + ": " + all);
                        }
                    }
                }
            }
        }
    }

    @Test
    void shouldCloseAnAppConnectionThatSentAWholeAnswerWhileIdleNotHandItToTheNextRequest() throws Exception {
        // An app that, its answer read and its connection back in the pool, sends a whole well-formed answer that no
        // request awaits. Handed to the next request on that connection, another client's, it would be that client's
        // answer (the desync a proxy must never make). Vert.x's client failed the connection for it, with an ERROR
        // naming nothing (Received HTTP message with no request in progress); it is the stray-bytes warning now,
        // naming the app, and the next request goes on a new connection.
        String evil = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!";
        AtomicInteger connections = new AtomicInteger();
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        try (RawServer app = new RawServer(c -> {
            int connection = connections.incrementAndGet();
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            for (int request = 1; ; request++) {
                String head = readUntil(in, "\r\n\r\n");
                if (head.isEmpty()) {
                    return;
                }
                seen.add(connection + "/" + request + " " + head.substring(0, head.indexOf(" HTTP/1.1")));
                String body = "c" + connection;
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (connection == 1 && request == 1) {
                    Thread.sleep(200); // the answer is relayed, its connection back in the pool
                    out.write(evil.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
        }); CapturedLog log = new CapturedLog()) {
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG); // the warning comes at most every 10 s
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress()
                    .eventLoops(1), p2, AVRO)) {
                for (String path : List.of("/first", "/second")) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertFalse(all.contains("EVIL!"), path + ": " + all);
                        assertTrue(all.startsWith("HTTP/1.1 200 ") && all.endsWith("\r\n\r\nc" + (path.equals("/first") ? 1 : 2)),
                                path + ": " + all);
                    }
                    Thread.sleep(400); // the whole answer reaches the idle pooled connection
                }
            }
            assertEquals(List.of("1/1 GET /first", "2/1 GET /second"), List.copyOf(seen));
            String text = log.text();
            assertTrue(text.contains("io.tapline.http.StrayResponseBytes - an upstream 127.0.0.1:" + app.port()
                    + " sent " + evil.length() + " byte(s) that belong to no answer"), text);
            assertFalse(text.contains(" ERROR "), text);
            assertFalse(text.contains("io.vertx.core.net.impl.ConnectionBase"), text);
        } finally {
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        }
    }

    @Test
    void shouldLogNoErrorForARequestWhoseClientLeftWhileItsAppConnectionWasBeingSetUp() throws Exception {
        // An HTTP/1.0 client asks for keep-alive and pipelines a second request; the app's answer to the first is
        // close-delimited, so the sidecar closes the client's connection after it while the second request is waiting
        // for an app connection. That request is reset, as it should be, but it had no exception handler yet: Vert.x
        // logged "ERROR ... HttpClientRequestImpl - Stream reset: 0" for each such request, naming nothing.
        try (RawServer app = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write("HTTP/1.0 200 OK\r\n\r\nclose-delimited".getBytes(StandardCharsets.US_ASCII));
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            CapturedLog log = new CapturedLog();
            try (log; SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).noEgress()
                    .eventLoops(1), p2, AVRO)) {
                for (int k = 0; k < 3; k++) {
                    try (Socket c = connect(s.port())) {
                        c.getOutputStream().write(("GET /first HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
                                + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        String all = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(all.startsWith("HTTP/1.0 200") && all.endsWith("close-delimited"), all);
                    }
                }
                awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
            }
            assertEquals(List.of(), log.text().lines().filter(l -> l.contains(" ERROR ")).toList(), log.text());
        }
    }

    /** A port an app listened on and no longer does: connecting to it is refused. */
    private static int closedPort() throws Exception {
        TestOrigin dead = new TestOrigin();
        int port = dead.port();
        dead.close();
        return port;
    }

    // ------------------------------------------------------------------ raw socket helpers

    static String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readUntil(s.getInputStream(), "\r\n\r\n");
        }
    }

    @Test
    void shouldForwardARequestTargetHoldingRawNonAsciiBytesAsTheClientSentIt() throws Exception {
        // Some clients send UTF-8 in the request target unencoded. It reached the app as other bytes (each byte written
        // as two: /caf\xc3\x83\xc2\xa9), through the inbound listener, a named egress route and the forward proxy alike,
        // and was recorded so, which replay sent on as the same wrong bytes.
        java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer app = new RawServer(c -> {
            InputStream in = c.getInputStream();
            String head;
            while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
                lines.add(head.substring(0, head.indexOf("\r\n")));
                c.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            MockProducer<String, byte[]> p2 = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                    .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                    .addEgress("raw", "http://127.0.0.1:" + app.port()).redactionKey("test-key-0123456789abcdef")
                    .outboundGrace(Duration.ofMillis(50));
            try (SidecarImpl s = SidecarImpl.start(o, p2, AVRO)) {
                String utf8 = "/caf\u00c3\u00a9/x?q=\u00c3\u00a9"; // the bytes of /café/x?q=é, one char per byte
                String[][] sent = {
                        {Integer.toString(s.port()), "GET " + utf8 + " HTTP/1.1", "GET " + utf8 + " HTTP/1.1"},
                        {Integer.toString(s.port()), "GET /x\u00ff?a=\u00e9 HTTP/1.1", "GET /x%FF?a=%E9 HTTP/1.1"},
                        {Integer.toString(s.egressPort()), "GET /raw" + utf8 + " HTTP/1.1", "GET " + utf8 + " HTTP/1.1"},
                        {Integer.toString(s.egressPort()), "GET http://127.0.0.1:" + app.port() + utf8 + " HTTP/1.1",
                                "GET " + utf8 + " HTTP/1.1"},
                };
                for (String[] c : sent) {
                    try (Socket client = connect(Integer.parseInt(c[0]))) {
                        client.getOutputStream().write((c[1] + "\r\nHost: x\r\nConnection: close\r\n\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                        String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
                    }
                    // bytes that are UTF-8 arrive as they were sent; others percent-encoded, which RFC 3986 reads as them
                    assertEquals(c[2], lines.poll(5, TimeUnit.SECONDS), "request line the app received");
                    // the client can read the close before the sidecar has ended the exchange: an egress call made then
                    // is attached to it as the only request in flight, not published as unattributed
                    awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
                }
                // recorded as the text the client meant: replay writes it back as UTF-8, the bytes production saw
                List<io.tapline.avro.HttpRequest> recorded = new ArrayList<>();
                awaitRecords(p2, 2).forEach(r -> recorded.add(decode(r.value()).getRequest()));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (p2.history().size() < 4 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                for (ProducerRecord<String, byte[]> r : p2.history()) {
                    if (r.topic().equals(TaplineTopics.UNATTRIBUTED)) {
                        recorded.add(new SpecificDatumReader<>(UnattributedCall.class).read(null,
                                DecoderFactory.get().binaryDecoder(r.value(), null)).getCall().getRequest());
                    }
                }
                assertEquals(List.of("/caf\u00e9/x q=\u00e9", "/caf\u00e9/x q=\u00e9", "/caf\u00e9/x q=\u00e9", "/x%FF a=%E9"),
                        recorded.stream().map(r -> r.getPath() + " " + r.getRawQuery()).sorted().toList());
                // the inbound records are keyed by the route as recorded, the key replay and dedup group them by
                assertEquals(List.of("shop GET /caf\u00e9/x", "shop GET /x%FF"),
                        p2.history().stream().filter(r -> !r.topic().equals(TaplineTopics.UNATTRIBUTED)).map(ProducerRecord::key)
                                .sorted().toList());
            }
        }
    }

    static String readUntil(InputStream in, String marker) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            buf.write(b);
            if (buf.toString(StandardCharsets.ISO_8859_1).endsWith(marker)) {
                break;
            }
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }
}
