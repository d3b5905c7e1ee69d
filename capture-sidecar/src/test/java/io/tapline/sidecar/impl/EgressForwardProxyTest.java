package io.tapline.sidecar.impl;

import io.tapline.avro.UnattributedCall;
import io.tapline.topics.TaplineTopics;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.CaptureFidelityTest.lines;
import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static io.tapline.sidecar.impl.SidecarRequestBufferingTest.body;
import static io.tapline.sidecar.impl.SidecarRequestBufferingTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The egress listener as the app's forward proxy (absolute-form targets): Max-Forwards on TRACE and OPTIONS,
 * Proxy-Connection read as the app's Connection, and its own answers while draining. Raw sockets on loopback.
 */
@Timeout(60)
class EgressForwardProxyTest {

    static TestOrigin origin;
    static MockProducer<String, byte[]> producer;
    static SidecarImpl sidecar;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        sidecar = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(50)), producer, AVRO);
        origin.egressPort = sidecar.egressPort();
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        origin.close();
    }

    @BeforeEach
    void clear() throws InterruptedException {
        // the captures of the previous test published first, so each test counts its own
        SidecarProxyTest.awaitCapturesSettled(sidecar);
        Thread.sleep(100);
        origin.seen.clear();
        producer.clear();
    }

    private static String target(String path) {
        return "http://127.0.0.1:" + origin.port() + path;
    }

    /** One response (head and body) read from {@code in}. */
    private static String response(InputStream in) throws Exception {
        String head = readUntil(in, "\r\n\r\n");
        return head + body(in, head);
    }

    @Test
    void shouldAnswerATraceOrOptionsWithMaxForwardsZeroItselfAndForwardOthersDecremented() throws Exception {
        try (Socket s = connect(sidecar.egressPort())) {
            InputStream in = s.getInputStream();
            send(s, "OPTIONS " + target("/hello") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nMax-Forwards: 0\r\n\r\n");
            String options = response(in);
            assertTrue(options.startsWith("HTTP/1.1 200 OK\r\n"), options);
            assertTrue(options.contains("\r\nAllow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\n"), options);
            assertTrue(options.contains("\r\ncontent-length: 0\r\n") && options.endsWith("\r\n\r\n"), options);

            send(s, "TRACE " + target("/hello?q=1") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nMax-Forwards: 0\r\nX-Probe: p\r\n"
                    + "Authorization: Bearer secret\r\nCookie: sid=1\r\n\r\n");
            String trace = response(in);
            assertTrue(trace.startsWith("HTTP/1.1 200 OK\r\n"), trace);
            assertTrue(trace.toLowerCase(Locale.ROOT).contains("\r\ncontent-type: message/http\r\n"), trace);
            assertTrue(trace.endsWith("\r\n\r\nTRACE " + target("/hello?q=1") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Max-Forwards: 0\r\nX-Probe: p\r\n\r\n"), "echoed without the credentials: " + trace);

            // neither reached the app's dependency: the next request on the connection is the first it sees
            send(s, "GET " + target("/hello") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertTrue(response(in).startsWith("HTTP/1.1 200"));
            TestOrigin.Seen first = origin.seen.poll(5, TimeUnit.SECONDS);
            assertEquals("GET", first.method());
        }
        for (String[] c : new String[][] {
                {"OPTIONS", target("/hello"), "5", "4"},
                {"TRACE", target("/hello"), "1", "0"},
                {"OPTIONS", target(""), "0010", "9"},
                {"TRACE", target("/hello"), "99999999999999999999", Long.toString(Long.MAX_VALUE - 1)},
                {"TRACE", target("/hello"), "abc", "abc"},    // invalid: forwarded as the app sent it
                {"OPTIONS", target("/hello"), "-1", "-1"},
                {"GET", target("/hello"), "0", "0"},          // other methods: not read
                {"OPTIONS", "/inv/hello", "0", "0"},          // a named route: the dependency is the app's origin
        }) {
            String answer = SidecarProxyTest.rawToClose(sidecar.egressPort(), c[0] + " " + c[1]
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nMax-Forwards: " + c[2] + "\r\nConnection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
            assertEquals(c[0], seen.method(), String.join(" ", c));
            assertEquals(c[3], seen.headers().get("max-forwards"), String.join(" ", c));
        }
        // recorded: the 9 calls that reached the dependency (8 above and the GET), not the two answered here
        List<UnattributedCall> calls = unattributed(9);
        assertEquals(9, calls.size());
        assertTrue(calls.stream().noneMatch(c -> c.getCall().getRequest().getMethod().equals("TRACE")
                && c.getCall().getRequest().getRawQuery() != null), "the TRACE answered here is not recorded");
    }

    @Test
    void shouldKeepAnHttp10AppsConnectionOpenForProxyConnectionKeepAlive() throws Exception {
        try (Socket s = connect(sidecar.egressPort())) {
            InputStream in = s.getInputStream();
            for (int i = 0; i < 2; i++) {
                send(s, "GET " + target("/hello") + " HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n");
                String r = response(in);
                assertTrue(r.startsWith("HTTP/1.0 200") && r.toLowerCase(Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), r);
                assertTrue(r.endsWith("hello"), r);
            }
            // the Max-Forwards answer, the egress's own, keeps it open too
            send(s, "OPTIONS " + target("/hello") + " HTTP/1.0\r\nProxy-Connection: keep-alive\r\nMax-Forwards: 0\r\n\r\n");
            assertTrue(response(in).startsWith("HTTP/1.0 200"));
            send(s, "GET " + target("/hello") + " HTTP/1.0\r\n\r\n");
            assertTrue(response(in).endsWith("hello"));
            assertEquals(-1, in.read(), "without keep-alive, closed after the answer");
        }
        TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
        assertFalse(seen.headers().containsKey("proxy-connection"), "never forwarded: " + seen.headers());
        // recorded as the app sent them: no Connection line the sidecar read Proxy-Connection as
        List<List<String>> recorded = unattributed(3).stream().map(c -> lines(c.getCall().getRequest().getHeaders())).toList();
        assertEquals(2, recorded.stream().filter(r -> r.contains("Proxy-Connection: keep-alive")).count(), recorded.toString());
        assertTrue(recorded.stream().flatMap(List::stream).noneMatch(l -> l.toLowerCase(Locale.ROOT).startsWith("connection:")),
                recorded.toString());
    }

    @Test
    void shouldKeepAnHttp10AppsConnectionOpenForKeepAliveAmongItsConnectionOptions() throws Exception {
        // keep-alive among the Connection options, as on the inbound listener: forwarded, routed, and answered here
        try (Socket s = connect(sidecar.egressPort())) {
            InputStream in = s.getInputStream();
            for (String target : List.of(target("/hello"), "/inv/hello")) {
                send(s, "GET " + target + " HTTP/1.0\r\nConnection: keep-alive, x-trace\r\n\r\n");
                String r = response(in);
                assertTrue(r.startsWith("HTTP/1.0 200") && r.toLowerCase(Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), r);
                assertTrue(r.endsWith("hello"), r);
            }
            send(s, "OPTIONS " + target("/hello") + " HTTP/1.0\r\nConnection: x-trace, Keep-Alive\r\nMax-Forwards: 0\r\n\r\n");
            String r = response(in);
            assertTrue(r.startsWith("HTTP/1.0 200") && r.toLowerCase(Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), r);
            send(s, "GET " + target("/hello") + " HTTP/1.0\r\n\r\n");
            assertTrue(response(in).endsWith("hello"));
            assertEquals(-1, in.read(), "without keep-alive, closed after the answer");
        }
        TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
        assertFalse(seen.headers().containsKey("connection"), "never forwarded: " + seen.headers());
        // recorded as the app sent them
        List<List<String>> recorded = unattributed(3).stream().map(c -> lines(c.getCall().getRequest().getHeaders())).toList();
        assertEquals(2, recorded.stream().filter(r -> r.equals(List.of("Connection: keep-alive, x-trace"))).count(),
                recorded.toString());
    }

    @Test
    void shouldCloseAnHttp11AppsConnectionForProxyConnectionClose() throws Exception {
        for (String target : List.of(target("/hello"), "https://127.0.0.1:1/x")) {
            try (Socket s = connect(sidecar.egressPort())) {
                // what is sent behind the last request is not served
                send(s, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Connection: close\r\n\r\n"
                        + "GET " + target("/hello") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                String r = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertTrue(r.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), r);
                assertEquals(1, r.split("HTTP/1.1 ").length - 1, "one answer, then closed: " + r);
            }
        }
        // Connection, when the app sent one, is the one read; a named route's request is one to an origin
        for (String request : List.of("GET " + target("/hello") + " HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nProxy-Connection: close\r\n\r\n",
                "GET /inv/hello HTTP/1.1\r\nHost: x\r\nProxy-Connection: close\r\n\r\n")) {
            try (Socket s = connect(sidecar.egressPort())) {
                send(s, request);
                String r = response(s.getInputStream());
                assertFalse(r.toLowerCase(Locale.ROOT).contains("connection: close"), r);
                send(s, "GET /inv/hello HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(response(s.getInputStream()).endsWith("hello"), "still open after: " + request);
            }
        }
    }

    @Test
    void shouldSayConnectionCloseOnItsOwnAnswersWhileDraining() throws Exception {
        MockProducer<String, byte[]> p = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarImpl s = SidecarImpl.start(options(origin).drainTimeout(Duration.ofSeconds(10)).eventLoops(1), p, AVRO);
        CompletableFuture<Void> closed = null;
        try (Socket c = connect(s.egressPort())) {
            int before = origin.heads.get();
            // a call in flight as the egress listener drains, and an unknown route pipelined behind it
            send(c, "GET /inv/delay?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\nGET /nope/x HTTP/1.1\r\nHost: x\r\n\r\n");
            origin.awaitHeads(before + 1);
            closed = CompletableFuture.runAsync(s::close);
            InputStream in = c.getInputStream();
            String call = response(in);
            assertTrue(call.startsWith("HTTP/1.1 200") && call.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), call);
            String own = response(in);
            assertTrue(own.startsWith("HTTP/1.1 404"), own);
            assertTrue(own.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), "as the engine's answers: " + own);
            closed.get(20, TimeUnit.SECONDS);
        } finally {
            if (closed == null) {
                s.close();
            }
        }
    }

    @Test
    void shouldAnswer502ToAResponseInATransferCodingOtherThanChunked() throws Exception {
        // A dependency that frames its answer in a transfer coding the proxy does not decode (RFC 9112 6.1). Transfer-Encoding
        // is hop-by-hop and the answer reaches the app re-framed, so relayed, the app got the coded bytes as the body
        // with nothing saying so: gzip bytes, or the chunk framing of an unknown "xchunked" as content. nginx's proxy
        // answers 502 ("upstream sent unknown Transfer-Encoding"); so does the sidecar for Content-Length beside chunked.
        byte[] gzip;
        try (java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
             java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(b)) {
            z.write("hello".getBytes(StandardCharsets.US_ASCII));
            z.finish();
            gzip = b.toByteArray();
        }
        byte[] gzipBody = gzip;
        try (RawServer dependency = new RawServer(c -> {
            String head = readUntil(c.getInputStream(), "\r\n\r\n");
            java.io.OutputStream out = c.getOutputStream();
            String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
            switch (path) {
                case "/gzip-chunked" -> {
                    out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + Integer.toHexString(gzipBody.length)
                            + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(gzipBody);
                    out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                case "/gzip" -> {
                    out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.write(gzipBody);
                }
                case "/xchunked" -> out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                case "/identity" -> out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello"
                        .getBytes(StandardCharsets.US_ASCII));
                default -> out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
            }
            // close-delimited bodies end here
        })) {
            String dep = "http://127.0.0.1:" + dependency.port();
            try (Socket s = connect(sidecar.egressPort())) {
                InputStream in = s.getInputStream();
                for (String path : List.of("/gzip-chunked", "/gzip", "/xchunked", "/identity")) {
                    send(s, "GET " + dep + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    String r = response(in);
                    assertTrue(r.startsWith("HTTP/1.1 502 "), path + ": " + r);
                }
                // a WebSocket handshake refused in such a coding
                send(s, "GET " + dep + "/gzip-chunked HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
                String ws = response(in);
                assertTrue(ws.startsWith("HTTP/1.1 502 "), "handshake: " + ws);
                // the app's connection stays open, and an answer framed in chunked alone (in any case) is relayed
                send(s, "GET " + dep + "/chunked HTTP/1.1\r\nHost: x\r\n\r\n");
                String r = response(in);
                assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("\r\n\r\nhello"), r);
            }
            // the app behind the inbound listener, on the same engine
            MockProducer<String, byte[]> p = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            try (SidecarImpl s = SidecarImpl.start(options(origin).app(dep).noEgress(), p, AVRO)) {
                assertTrue(SidecarProxyTest.rawToClose(s.port(), "GET /gzip-chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .startsWith("HTTP/1.1 502 "));
            }
        }
    }

    @Test
    void shouldAnswer502ToAStatusCodeThatIsNotThreeDigits() throws Exception {
        // RFC 9112 4: status-code = 3DIGIT. Vert.x's client reads "2000" and "99" as numbers, and the sidecar wrote them
        // back as the app's status line, which its HTTP client cannot parse (curl: "Unsupported HTTP version in
        // response"); the app gets the 502 a proxy gives for an answer it cannot read instead. 600 to 999 are three
        // digits, invalid as statuses but well-formed (RFC 9110 15: a client treats them as a 5xx): relayed, as nginx does.
        try (RawServer dependency = new RawServer(c -> {
            InputStream in = c.getInputStream();
            String head;
            while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
                String status = head.substring(head.indexOf("/s/") + 3, head.indexOf(" HTTP/1.1"));
                c.getOutputStream().write(("HTTP/1.1 " + status + " Odd\r\nContent-Length: 5\r\n\r\nhello").getBytes(StandardCharsets.US_ASCII));
            }
        })) {
            String dep = "http://127.0.0.1:" + dependency.port();
            try (Socket s = connect(sidecar.egressPort())) {
                InputStream in = s.getInputStream();
                for (String status : List.of("2000", "99", "0")) {
                    send(s, "GET " + dep + "/s/" + status + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    String r = response(in);
                    assertTrue(r.startsWith("HTTP/1.1 502 "), status + ": " + r);
                }
                send(s, "GET " + dep + "/s/600 HTTP/1.1\r\nHost: x\r\n\r\n");
                String r = response(in);
                assertTrue(r.startsWith("HTTP/1.1 600 ") && r.endsWith("\r\n\r\nhello"), r);
            }
        }
    }

    @Test
    void shouldAnswer502WhenTheAnswerBreaksBeforeAnyOfItReachedTheApp() throws Exception {
        // A dependency that sends its head and then closes (or a first chunk that does not parse): nothing of the answer
        // had been written to the app, and its connection was closed with no answer at all, which an HTTP client
        // takes for a keep-alive connection the server let go (and may send the request again on another). The 502 a
        // proxy gives for an answer it could not read, on a connection that stays open; once bytes reached the app,
        // the stream is still cut as before, so nobody sees a short body as whole.
        try (RawServer dependency = new RawServer(c -> {
            String head = readUntil(c.getInputStream(), "\r\n\r\n");
            String tail = head.startsWith("GET /head-only ") ? "" : head.startsWith("GET /bad-chunk ") ? "zz\r\n" : "abc";
            String framing = head.startsWith("GET /bad-chunk ") ? "Transfer-Encoding: chunked" : "Content-Length: 100";
            c.getOutputStream().write(("HTTP/1.1 200 OK\r\nX-Dep: 1\r\n" + framing + "\r\n\r\n" + tail).getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            Thread.sleep(200);
        })) {
            String dep = "http://127.0.0.1:" + dependency.port();
            try (Socket s = connect(sidecar.egressPort())) {
                InputStream in = s.getInputStream();
                for (String path : List.of("/head-only", "/bad-chunk")) {
                    send(s, "GET " + dep + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    String head = readUntil(in, "\r\n\r\n");
                    assertTrue(head.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), path + ": [" + head + "]");
                    String r = head + body(in, head);
                    assertFalse(r.toLowerCase(Locale.ROOT).contains("x-dep") || r.contains("100"), "none of the dependency's head: " + r);
                }
                send(s, "GET " + dep + "/short HTTP/1.1\r\nHost: x\r\n\r\n");
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                assertThrows(java.net.SocketException.class, () -> {
                    for (int b; (b = in.read()) >= 0; ) {
                        got.write(b);
                    }
                }, "reset, not ended");
                String cut = got.toString(StandardCharsets.ISO_8859_1);
                assertTrue(cut.startsWith("HTTP/1.1 200 OK\r\n") && cut.endsWith("\r\n\r\nabc"), "relayed as far as it came, then cut: " + cut);
            }
        }
    }

    @Test
    void shouldForwardToAnIpv6LiteralWithAnIpv4PartAndAnswerOneItCannotDial() throws Exception {
        // RFC 3986 lets an IPv6 literal end in an IPv4 address ([::ffff:127.0.0.1], an IPv4-mapped address). Vert.x's
        // client cannot parse it and threw as it was asked for the request: the app got no answer at all, its
        // connection held until the idle timeout (75 s), and Vert.x logged "Unhandled exception".
        String mapped = "[::ffff:127.0.0.1]:" + origin.port();
        try (Socket s = connect(sidecar.egressPort())) {
            InputStream in = s.getInputStream();
            send(s, "GET http://" + mapped + "/hello HTTP/1.1\r\nHost: x\r\n\r\n");
            String r = response(in);
            assertTrue(r.startsWith("HTTP/1.1 200") && r.endsWith("hello"), r);
            TestOrigin.Seen seen = origin.seen.poll(5, TimeUnit.SECONDS);
            assertEquals(mapped, seen.headers().get("host"), "the authority as the app wrote it");
            send(s, "GET " + target("/hello") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(response(in).endsWith("hello"));
        }
        List<UnattributedCall> calls = unattributed(2);
        assertTrue(calls.stream().anyMatch(c -> c.getCall().getDestination().equals(mapped)
                && c.getCall().getResponse().getStatus() == 200), "recorded under the target as written");
        // One the client cannot dial at all (no IPv6 address): answered, not left hanging. A 502 as any upstream that
        // cannot be reached (a 400 would do as well, should the target be refused before it is forwarded).
        try (Socket s = connect(sidecar.egressPort())) {
            send(s, "GET http://[1::2::3]:" + origin.port() + "/hello HTTP/1.1\r\nHost: x\r\n\r\n");
            String r = response(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 502 ") || r.startsWith("HTTP/1.1 400 "), r);
        }
    }

    @Test
    void shouldAsk100ContinueBeforeItsOwnAnswerToAnUploadThatWaitsForIt() throws Exception {
        // An unknown route, an https:// target, an OPTIONS with Max-Forwards: 0: answered by the egress, the body read
        // and discarded on a connection that stays open. The client waiting for 100 Continue before sending it got
        // the final answer alone and could not tell whether the body was still expected (RFC 9110 10.1.1): Java's
        // HttpClient waited for good; a client that sent its next request had that read as the body (a 400, closed).
        // As nginx does: 100 Continue, then the answer.
        for (String head : List.of("POST /nope/x HTTP/1.1\r\nHost: x\r\n", "POST https://127.0.0.1:1/x HTTP/1.1\r\nHost: x\r\n",
                "OPTIONS " + target("/hello") + " HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n")) {
            for (String framing : List.of("Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n")) {
                try (Socket s = connect(sidecar.egressPort())) {
                    InputStream in = s.getInputStream();
                    send(s, head + framing + "Expect: 100-continue\r\n\r\n");
                    assertEquals("HTTP/1.1 100 Continue\r\n\r\n", readUntil(in, "\r\n\r\n"), head + framing);
                    String own = response(in);
                    assertTrue(own.startsWith("HTTP/1.1 4") || own.startsWith("HTTP/1.1 200"), own);
                    send(s, framing.startsWith("Content-Length") ? "hello" : "5\r\nhello\r\n0\r\n\r\n"); // discarded
                    send(s, "GET " + target("/hello") + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    String next = response(in);
                    assertTrue(next.startsWith("HTTP/1.1 200") && next.endsWith("hello"), head + framing + ": " + next);
                }
            }
        }
        // the app's last request: the final answer alone, and closed then, without waiting for a body that will not
        // come (before, the connection stayed open until the idle timeout); one without a body: the answer alone
        for (String connection : List.of("close", "x-trace, close")) {
            String last = SidecarProxyTest.rawToClose(sidecar.egressPort(), "POST /nope/x HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Length: 5\r\nExpect: 100-continue\r\nConnection: " + connection + "\r\n\r\n");
            assertTrue(last.startsWith("HTTP/1.1 404 ") && last.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), last);
        }
        try (Socket s = connect(sidecar.egressPort())) {
            send(s, "GET /nope/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
            String r = response(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 404 "), r);
        }
    }

    @Test
    void shouldForwardWithTheHostLineCurlSendsForAnIpv6LiteralWithAnIpv4Part() throws Exception {
        // curl, Python and Java send the target's authority as Host: Vert.x cannot read this one (RFC 3986 ls32), and
        // the head check refused it 400 "invalid Host header", so such a target was out of reach of those clients
        String mapped = "[::ffff:127.0.0.1]:" + origin.port();
        try (Socket s = connect(sidecar.egressPort())) {
            send(s, "GET http://" + mapped + "/hello HTTP/1.1\r\nHost: " + mapped + "\r\n\r\n");
            String r = response(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200") && r.endsWith("hello"), r);
        }
        assertEquals(mapped, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"));
        List<UnattributedCall> calls = unattributed(1);
        assertEquals(List.of(mapped), calls.stream().map(c -> c.getCall().getDestination()).toList());
    }

    @Test
    void shouldRefuseATargetWhoseIpLiteralIsNoIpv6AddressAs400() throws Exception {
        // Any mix of hex digits, ':' and '.' in brackets was taken: Vert.x's client refused [1::2::3] as it was asked,
        // a 502 as for a dependency that cannot be reached, where a target whose authority does not parse is a 400
        for (String literal : List.of("[1::2::3]", "[zz::1]", "[::1.2.3]", "[v1.x]")) {
            String r = SidecarProxyTest.rawToClose(sidecar.egressPort(), "GET http://" + literal + ":" + origin.port()
                    + "/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(r.startsWith("HTTP/1.1 400 ") && r.contains("invalid request target: invalid host '" + literal + "'"), r);
        }
        assertEquals(null, origin.seen.poll(300, TimeUnit.MILLISECONDS), "none reached a dependency");
    }

    @Test
    void shouldRecordAForwardProxyTargetsHostInLowerCaseAndForwardItAsWritten() throws Exception {
        // A host is case-insensitive (RFC 3986 3.2.2): LOCALHOST:PORT was recorded apart from localhost:PORT, and
        // dedup-stream signed calls to the one dependency as calls to two
        String upper = "LOCALHOST:" + origin.port();
        try (Socket s = connect(sidecar.egressPort())) {
            InputStream in = s.getInputStream();
            send(s, "GET http://" + upper + "/hello HTTP/1.1\r\nHost: " + upper + "\r\n\r\n");
            assertTrue(response(in).endsWith("hello"));
            assertEquals(upper, origin.seen.poll(5, TimeUnit.SECONDS).headers().get("host"), "forwarded as written");
            send(s, "GET http://localhost:" + origin.port() + "/hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(response(in).endsWith("hello"));
        }
        try (Socket s = connect(sidecar.egressPort())) {
            send(s, "CONNECT " + upper + " HTTP/1.1\r\nHost: " + upper + "\r\n\r\n");
            assertTrue(readUntil(s.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
        }
        List<UnattributedCall> calls = unattributed(3);
        assertEquals(List.of("localhost:" + origin.port()), calls.stream().map(c -> c.getCall().getDestination())
                .distinct().toList(), "one destination");
        assertTrue(calls.stream().anyMatch(c -> c.getCall().getRequest().getAuthority().equals(upper)
                && c.getCall().getRequest().getMethod().equals("GET")), "the request as the dependency received it");
    }

    /** Waits for {@code n} unattributed calls (these requests carry no trace context), or 10 s. */
    private static List<UnattributedCall> unattributed(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<UnattributedCall> calls = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            calls.clear();
            for (ProducerRecord<String, byte[]> r : producer.history()) {
                if (r.topic().equals(TaplineTopics.UNATTRIBUTED)) {
                    try {
                        calls.add(new SpecificDatumReader<>(UnattributedCall.class).read(null,
                                DecoderFactory.get().binaryDecoder(r.value(), null)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            if (calls.size() >= n) {
                break;
            }
            Thread.sleep(20);
        }
        return calls;
    }
}
