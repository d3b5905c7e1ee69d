package io.tapline.sidecar.impl;

import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.UnattributedCall;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.topics.TaplineTopics;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a published record says against what passed on the wire: raw-socket clients, a raw-socket app (and dependency)
 * that keeps every request's bytes, and the records the sidecar publishes through Kafka's MockProducer.
 */
@Timeout(120)
class CaptureFidelityTest {

    static final int CAP = 64;
    static final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    static RawServer app;
    static MockProducer<String, byte[]> producer;
    static SidecarImpl sidecar;

    @BeforeAll
    static void start() throws Exception {
        app = new RawServer(CaptureFidelityTest::serve);
        producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarOptions o = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                .addEgress("dep", "http://127.0.0.1:" + app.port()).redactionKey("test-key-0123456789abcdef")
                .captureMaxBodyBytes(CAP).outboundGrace(Duration.ofMillis(20));
        sidecar = SidecarImpl.start(o, producer, AVRO);
    }

    @AfterAll
    static void stop() throws IOException {
        sidecar.close();
        app.close();
    }

    /**
     * The app (and dependency): keeps each request's bytes (head and body), then answers by the request line.
     * Serves the connection's requests until the client closes it or an answer ends it.
     */
    static void serve(Socket c) throws Exception {
        InputStream in = c.getInputStream();
        OutputStream out = c.getOutputStream();
        String head;
        while (!(head = readUntil(in, "\r\n\r\n")).isEmpty()) {
            String lower = head.toLowerCase(Locale.ROOT);
            String body = "";
            if (lower.contains("\r\ntransfer-encoding: chunked\r\n")) {
                body = readUntil(in, "0\r\n\r\n");
            } else {
                int at = lower.indexOf("\r\ncontent-length: ");
                if (at >= 0) {
                    int n = Integer.parseInt(lower.substring(at + 18, lower.indexOf("\r\n", at + 2)).trim());
                    body = new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
                }
            }
            received.add(head + body);
            String line = head.substring(0, head.indexOf("\r\n"));
            String path = line.split(" ")[1];
            if (path.startsWith("/close")) {
                out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil-the-end".getBytes(StandardCharsets.ISO_8859_1));
                return;
            }
            out.write(answer(line, path));
            out.flush();
        }
    }

    static byte[] answer(String line, String path) throws IOException {
        if (line.startsWith("HEAD ")) {
            return ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n");
        }
        if (path.startsWith("/cookies")) {
            return ascii("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Mixed-CASE: v\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok");
        }
        if (path.startsWith("/zip304")) {
            return ascii("HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\nETag: \"v1\"\r\n\r\n");
        }
        if (path.startsWith("/304")) {
            return ascii("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
        }
        if (path.startsWith("/204")) {
            return ascii("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
        }
        if (path.startsWith("/trailers")) {
            return ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 9\r\n\r\n");
        }
        if (path.startsWith("/early")) {
            return ascii("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 2\r\n\r\nok");
        }
        if (path.startsWith("/gzip")) {
            ByteArrayOutputStream z = new ByteArrayOutputStream();
            try (GZIPOutputStream g = new GZIPOutputStream(z)) {
                g.write("compressed hello".getBytes(StandardCharsets.US_ASCII));
            }
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(ascii("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + z.size() + "\r\n\r\n"));
            b.write(z.toByteArray());
            return b.toByteArray();
        }
        return ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Sends {@code request} on a new connection to {@code port} and reads the answer until the sidecar closes. */
    static String exchange(int port, String request) throws IOException {
        try (Socket c = connect(port)) {
            c.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static Interaction record() throws InterruptedException {
        List<ProducerRecord<String, byte[]>> recs = SidecarProxyTest.awaitRecords(producer, 1);
        return SidecarProxyTest.decode(recs.get(0).value());
    }

    static UnattributedCall call() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (ProducerRecord<String, byte[]> r : producer.history()) {
                if (r.topic().equals(TaplineTopics.UNATTRIBUTED)) {
                    try {
                        return new SpecificDatumReader<>(UnattributedCall.class).read(null,
                                DecoderFactory.get().binaryDecoder(r.value(), null));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no unattributed call published");
    }

    static String gzip(String text) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(text.getBytes(StandardCharsets.US_ASCII));
        }
        return z.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void shouldRecordEveryHeaderLineTheClientSentInWireOrderWithItsCase() throws Exception {
        // Repeated and interleaved names, a header Connection names, a proxy credential, TE, an obs-text value: the
        // record keeps the client's lines (replay leaves out what the sidecar did not forward), the app gets the rest.
        Inbound x = inbound("GET /a HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nx-other: o\r\nX-DUP: 2\r\nConnection: close, X-Named\r\n"
                + "X-Named: n\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nTE: trailers, deflate\r\nX-Name: caf\u00c3\u00a9\r\n\r\n");
        assertTrue(x.received().contains("\r\nX-Dup: 1\r\nx-other: o\r\nX-DUP: 2\r\nX-Name: caf\u00c3\u00a9\r\n"), x.received());
        assertTrue(x.received().contains("\r\nTE: trailers\r\n"), x.received());
        assertFalse(x.received().contains("X-Named"), x.received());
        assertFalse(x.received().contains("Proxy-Authorization"), x.received());
        List<String> recorded = lines(x.record().getRequest().getHeaders());
        assertEquals(List.of("Host: x", "X-Dup: 1", "x-other: o", "X-DUP: 2", "Connection: close, X-Named", "X-Named: n"),
                recorded.subList(0, 6));
        assertTrue(recorded.get(6).startsWith("Proxy-Authorization: Basic tapline:hmac:"), recorded.get(6)); // redacted
        assertEquals(List.of("TE: trailers, deflate", "X-Name: caf\u00c3\u00a9"), recorded.subList(7, 9),
                "an obs-text value as one character per byte, which replay writes back as those bytes");
        assertEquals(9, recorded.size(), "nothing the sidecar adds for the app (X-Forwarded-*, Via, traceparent): " + recorded);
    }

    @Test
    void shouldRecordNoTEForAnHttp10ClientAsTheAppGetsNone() throws Exception {
        // A record does not say the request's HTTP version, and replay sends a recorded TE listing trailers: an
        // HTTP/1.0 client's TE, which the app never gets (trailers cannot reach that client), is left out.
        Inbound old = inbound("GET /ten HTTP/1.0\r\nHost: x\r\nTE: trailers\r\nX-After: 1\r\nte: deflate\r\n\r\n");
        assertTrue(old.answer().startsWith("HTTP/1.0 200 OK\r\n"), old.answer());
        assertFalse(old.received().toLowerCase(Locale.ROOT).contains("\r\nte:"), old.received());
        assertEquals(List.of("Host: x", "X-After: 1"), lines(old.record().getRequest().getHeaders()));

        Inbound current = inbound("GET /a HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n");
        assertTrue(current.received().contains("\r\nTE: trailers\r\n"), current.received());
        assertEquals(List.of("Host: x", "TE: trailers", "Connection: close"),
                lines(current.record().getRequest().getHeaders()), "an HTTP/1.1 client's TE is the client's line");
    }

    @Test
    void shouldRecordTheBodyAndFramingTheAppReceived() throws Exception {
        Inbound expect = inbound("POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        assertTrue(expect.answer().startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), expect.answer());
        assertFalse(expect.received().contains("Expect"), "answered by the sidecar: " + expect.received());
        assertEquals("hello", body(expect.record().getRequest().getBody()));
        assertEquals(List.of("Host: x", "Expect: 100-continue", "Content-Length: 5", "Connection: close"),
                lines(expect.record().getRequest().getHeaders()), "replay leaves Expect out, as the sidecar answered it");

        Inbound chunked = inbound("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n");
        assertTrue(chunked.received().toLowerCase(Locale.ROOT).contains("\r\ntransfer-encoding: chunked\r\n"), chunked.received());
        HttpRequest c = chunked.record().getRequest();
        assertTrue(lines(c.getHeaders()).contains("Transfer-Encoding: chunked"), "replay frames it chunked, as the app got it");
        assertEquals("hello", body(c.getBody()));
        assertEquals(5, c.getOriginalSize());
        assertFalse(c.getTruncated());

        Inbound empty = inbound("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertTrue(empty.received().contains("\r\nContent-Length: 0\r\n"), empty.received());
        assertTrue(lines(empty.record().getRequest().getHeaders()).contains("Content-Length: 0"));
        assertEquals(0, empty.record().getRequest().getOriginalSize());
    }

    @Test
    void shouldRecordTheTargetAsTheAppReceivedIt() throws Exception {
        HttpRequest emptyQuery = inbound("GET /a? HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").record().getRequest();
        assertEquals("/a", emptyQuery.getPath());
        assertEquals("", emptyQuery.getRawQuery(), "/a? is another target than /a");
        assertNull(inbound("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").record().getRequest().getRawQuery());

        Inbound star = inbound("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(star.received().startsWith("OPTIONS * HTTP/1.1\r\n"), star.received());
        assertEquals("*", star.record().getRequest().getPath());

        Inbound absolute = inbound("GET http://abs.example:8080/p?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
        assertTrue(absolute.received().startsWith("GET /p?q=1 HTTP/1.1\r\n"), absolute.received());
        assertTrue(absolute.received().contains("\r\nHost: abs.example:8080\r\n"), absolute.received());
        HttpRequest a = absolute.record().getRequest();
        assertEquals(List.of("abs.example:8080", "/p", "q=1"), List.of(a.getAuthority(), a.getPath(), a.getRawQuery()));

        // HTTP/1.0 without Host: the app gets its own address as Host (from the sidecar's client); the client named none
        Inbound old = inbound("GET /ten HTTP/1.0\r\n\r\n");
        assertTrue(old.answer().startsWith("HTTP/1.0 200 OK\r\n"), old.answer());
        assertEquals("", old.record().getRequest().getAuthority());
        assertEquals(List.of(), old.record().getRequest().getHeaders());
    }

    @Test
    void shouldPassTheAppAHostLineNamingTheDefaultPortAsTheClientSentIt() throws Exception {
        // Vert.x's client writes Host from the request's authority and leaves out a port that is the scheme's default:
        // Host: h:80 reached the app as Host: h, while X-Forwarded-Host and the record said h:80.
        for (String host : List.of("h:80", "H:80", "[::1]:80", "[::ffff:127.0.0.1]:80", "h:080")) {
            Inbound x = inbound("GET /a HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertEquals(List.of("Host: " + host), hostLines(x.received()), "the line as sent: " + x.received());
            assertTrue(x.received().startsWith("GET /a HTTP/1.1\r\nHost: " + host + "\r\n"), "where the client put it: " + x.received());
            String named = host.equals("h:080") ? "h:80" : host; // X-Forwarded-Host and the record name the authority
            assertTrue(x.received().contains("\r\nX-Forwarded-Host: " + named + "\r\n"), x.received());
            assertEquals(named, x.record().getRequest().getAuthority());
        }
        // an absolute-form target's authority replaces the Host line (RFC 9112 3.2.2), its port 80 included
        Inbound absolute = inbound("GET http://Abs.example:80/p HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
        assertEquals(List.of("Host: Abs.example:80"), hostLines(absolute.received()), absolute.received());
        assertEquals("Abs.example:80", absolute.record().getRequest().getAuthority());
        // unchanged: no port, another port, an empty port (the scheme's default, read as none), no Host at all
        for (String[] c : new String[][] {{"h", "h"}, {"h:8080", "h:8080"}, {"[::1]:8443", "[::1]:8443"}, {"h:", "h"}}) {
            Inbound x = inbound("GET /a HTTP/1.1\r\nHost: " + c[0] + "\r\nConnection: close\r\n\r\n");
            assertEquals(List.of("Host: " + c[1]), hostLines(x.received()), c[0] + ": " + x.received());
        }
        Inbound old = inbound("GET /ten HTTP/1.0\r\n\r\n");
        assertEquals(List.of("host: 127.0.0.1:" + app.port()), hostLines(old.received()), "the app's own address");
        // a WebSocket handshake's Host too (the app refuses it here: the head is what is looked at)
        for (String host : List.of("h:80", "h:8080")) {
            clearHistory();
            try (Socket c = connect(sidecar.port())) {
                c.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                String handshake = received.poll(5, TimeUnit.SECONDS);
                assertTrue(handshake != null && handshake.startsWith("GET /ws HTTP/1.1\r\n"), String.valueOf(handshake));
                assertEquals(List.of("Host: " + host), hostLines(handshake), handshake);
                String refused = readUntil(c.getInputStream(), "\r\n\r\n");
                assertTrue(refused.startsWith("HTTP/1.1 200 "), refused);
            }
        }
    }

    @Test
    void shouldPassTheAppTheHostTheClientWroteAPortWithLeadingZerosIncluded() throws Exception {
        // Vert.x's client writes Host from the request's authority, its port as a number: Host: h:0081 reached the app
        // as Host: h:81. X-Forwarded-Host and the record name the authority (h:81), as for h:080 (h:80).
        String[][] cases = {{"h:0081", "h:81"}, {"H:0081", "H:81"}, {"h:00", "h:0"}, {"[abcd::1]:0443", "[abcd::1]:443"},
                {"[::ffff:127.0.0.1]:0081", "[::ffff:127.0.0.1]:81"},
                // as before: a name's case and an IPv6 literal's form are kept (Vert.x writes the host as it read it)
                {"Example.COM", "Example.COM"}, {"Example.COM:8080", "Example.COM:8080"}, {"[0::1]", "[0::1]"},
                {"[0::1]:8080", "[0::1]:8080"}, {"[ABCD::1]:8443", "[ABCD::1]:8443"}, {"h:0", "h:0"}};
        for (String[] c : cases) {
            Inbound x = inbound("GET /a HTTP/1.1\r\nHost: " + c[0] + "\r\nConnection: close\r\n\r\n");
            assertEquals(List.of("Host: " + c[0]), hostLines(x.received()), "the line as sent: " + x.received());
            assertTrue(x.received().startsWith("GET /a HTTP/1.1\r\nHost: " + c[0] + "\r\n"), "where the client put it: " + x.received());
            assertTrue(x.received().contains("\r\nX-Forwarded-Host: " + c[1] + "\r\n"), x.received());
            assertEquals(c[1], x.record().getRequest().getAuthority());
        }
        Inbound star = inbound("OPTIONS * HTTP/1.1\r\nHost: h:0081\r\nConnection: close\r\n\r\n");
        assertEquals(List.of("Host: h:0081"), hostLines(star.received()), star.received());
        // an absolute-form target's authority replaces the Host line (RFC 9112 3.2.2): as the target writes it
        String[][] absolute = {{"http://h:0081/p", "h:0081", "h:81"}, {"HTTP://Up.Example:08080/p?q", "Up.Example:08080", "Up.Example:8080"},
                {"http://h:080/p", "h:080", "h:80"}, {"http://Example.COM:8080/p", "Example.COM:8080", "Example.COM:8080"},
                {"http://[0::1]:0081/p", "[0::1]:0081", "[0::1]:81"}};
        for (String[] c : absolute) {
            Inbound x = inbound("GET " + c[0] + " HTTP/1.1\r\nHost: other:0081\r\nConnection: close\r\n\r\n");
            assertTrue(x.received().startsWith("GET /p"), x.received());
            assertEquals(List.of("Host: " + c[1]), hostLines(x.received()), c[0] + ": " + x.received());
            assertTrue(x.received().contains("\r\nX-Forwarded-Host: " + c[2] + "\r\n"), x.received());
            assertEquals(c[2], x.record().getRequest().getAuthority());
        }
        // a WebSocket handshake's Host too (the app refuses it here: the head is what is looked at)
        clearHistory();
        try (Socket c = connect(sidecar.port())) {
            c.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: h:0081\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String handshake = received.poll(5, TimeUnit.SECONDS);
            assertTrue(handshake != null && handshake.startsWith("GET /ws HTTP/1.1\r\n"), String.valueOf(handshake));
            assertEquals(List.of("Host: h:0081"), hostLines(handshake), handshake);
            assertTrue(handshake.contains("\r\nX-Forwarded-Host: h:81\r\n"), handshake);
            String refused = readUntil(c.getInputStream(), "\r\n\r\n");
            assertTrue(refused.startsWith("HTTP/1.1 200 "), refused);
        }
        // A dependency gets its own authority in its normal form, whatever the app wrote: a named route's target...
        int eg = sidecar.egressPort();
        Outbound route = outbound("GET /dep/x HTTP/1.1\r\nHost: 127.0.0.1:0" + eg + "\r\nConnection: close\r\n\r\n");
        assertEquals(List.of("Host: 127.0.0.1:" + app.port()), hostLines(route.received()), route.received());
        assertEquals("127.0.0.1:" + app.port(), route.record().getCall().getRequest().getAuthority());
        // ... and a forward-proxy target's (RFC 9112 3.2.2)
        Outbound proxied = outbound("GET http://127.0.0.1:" + app.port() + "/x HTTP/1.1\r\nHost: x:0081\r\nConnection: close\r\n\r\n");
        assertEquals(List.of("Host: 127.0.0.1:" + app.port()), hostLines(proxied.received()), proxied.received());
        assertEquals("127.0.0.1:" + app.port(), proxied.record().getCall().getRequest().getAuthority());
    }

    @Test
    void shouldTakeAZeroPaddedPortOfSixDigitsOrMoreInTheTargetAsInTheHostLine() throws Exception {
        // port = *DIGIT (RFC 3986 3.2.3): Host: h:042017 was forwarded as written, GET http://h:042017/p answered 400
        // for the port's sixth digit. Both are read by the port's value now; a value past 65535 is refused in both.
        for (String authority : List.of("h:042017", "h:0000000081")) {
            String named = "h:" + Integer.parseInt(authority.substring(2));
            Inbound line = inbound("GET /p HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n");
            Inbound target = inbound("GET http://" + authority + "/p HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
            for (Inbound x : List.of(line, target)) {
                assertTrue(x.answer().startsWith("HTTP/1.1 200 "), x.answer());
                assertTrue(x.received().startsWith("GET /p HTTP/1.1\r\n"), x.received());
                assertEquals(List.of("Host: " + authority), hostLines(x.received()), x.received());
                assertTrue(x.received().contains("\r\nX-Forwarded-Host: " + named + "\r\n"), x.received());
                assertEquals(named, x.record().getRequest().getAuthority());
            }
        }
        for (String authority : List.of("h:065536", "h:0123456")) {
            assertTrue(exchange(sidecar.port(), "GET /p HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                    .startsWith("HTTP/1.1 400 "), authority);
            assertTrue(exchange(sidecar.port(), "GET http://" + authority + "/p HTTP/1.1\r\nHost: h\r\n\r\n")
                    .startsWith("HTTP/1.1 400 "), authority);
        }
        // the egress forward proxy reads the target so too: the dependency gets its authority in its normal form, and
        // the call is recorded under the destination the replay mock computes (HttpUrl#authority)
        String padded = "127.0.0.1:0000" + app.port();
        Outbound proxied = outbound("GET http://" + padded + "/x HTTP/1.1\r\nHost: " + padded + "\r\nConnection: close\r\n\r\n");
        assertTrue(proxied.answer().startsWith("HTTP/1.1 200 "), proxied.answer());
        assertEquals(List.of("Host: 127.0.0.1:" + app.port()), hostLines(proxied.received()), proxied.received());
        assertEquals("127.0.0.1:" + app.port(), proxied.record().getCall().getDestination());
        assertEquals("127.0.0.1:" + app.port(), proxied.record().getCall().getRequest().getAuthority());
        // and a CONNECT's target (its record, published once the tunnel closes, is awaited here: not the next test's)
        clearHistory();
        try (Socket c = connect(sidecar.egressPort())) {
            c.getOutputStream().write(("CONNECT " + padded + " HTTP/1.1\r\nHost: " + padded + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = readUntil(c.getInputStream(), "\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
        }
        UnattributedCall tunnel = call();
        assertEquals(io.tapline.avro.CallKind.TUNNEL, tunnel.getCall().getKind());
        assertEquals("127.0.0.1:" + app.port(), tunnel.getCall().getDestination());
    }

    @Test
    void shouldTakePortZeroInAnInboundTargetAsInTheHostLineAndRefuseItAtTheForwardProxy() throws Exception {
        // Host: h:0 was forwarded as written, GET http://h:0/p answered 400 (HttpUrl refuses port 0). On the inbound
        // listener the target's authority only replaces the Host line (RFC 9112 3.2.2), nothing connects to it: both
        // are taken alike now, as nginx 1.22 takes both
        for (String authority : List.of("h:0", "h:00")) {
            Inbound line = inbound("GET /p HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n");
            Inbound target = inbound("GET http://" + authority + "/p HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
            for (Inbound x : List.of(line, target)) {
                assertTrue(x.answer().startsWith("HTTP/1.1 200 "), authority + ": " + x.answer());
                assertTrue(x.received().startsWith("GET /p HTTP/1.1\r\n"), x.received());
                assertEquals(List.of("Host: " + authority), hostLines(x.received()), x.received());
                assertTrue(x.received().contains("\r\nX-Forwarded-Host: h:0\r\n"), x.received());
                assertEquals("h:0", x.record().getRequest().getAuthority());
            }
        }
        // the egress forward proxy connects to the target's port: port 0 names nothing to connect to, refused as before
        for (String authority : List.of("127.0.0.1:0", "127.0.0.1:00")) {
            String answer = exchange(sidecar.egressPort(), "GET http://" + authority + "/x HTTP/1.1\r\nHost: " + authority
                    + "\r\nConnection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 400 "), authority + ": " + answer);
            assertTrue(answer.endsWith("is not a number 1-65535\n"), answer);
        }
    }

    @Test
    void shouldPassTheUpstreamTheHostLineInTheClientsSpellingAndPlace() throws Exception {
        // Vert.x's client wrote the line as "host" (its own spelling), after every other line, whatever the client
        // wrote, while the client's other lines kept its spelling and order (field names are case-insensitive, RFC 9110
        // 5.1: fidelity, not correctness)
        for (String name : List.of("Host", "HOST", "hOsT")) {
            for (String value : List.of("h:8080", "h", "h:80", "h:0081", "[::1]:8443", "[::ffff:127.0.0.1]:8080")) {
                Inbound x = inbound("GET /a HTTP/1.1\r\nX-Before: 1\r\n" + name + ": " + value + "\r\nX-After: 2\r\n"
                        + "Connection: close\r\n\r\n");
                assertTrue(x.received().startsWith("GET /a HTTP/1.1\r\nX-Before: 1\r\n" + name + ": " + value
                        + "\r\nX-After: 2\r\n"), x.received());
                assertEquals(1, hostLines(x.received()).size(), x.received());
            }
        }
        // where the value is not the line's (an empty port is the scheme's default; an absolute-form target's authority
        // replaces the line, RFC 9112 3.2.2), the line keeps its name and place
        Inbound empty = inbound("GET /a HTTP/1.1\r\nHOST: h:\r\nX-After: 2\r\nConnection: close\r\n\r\n");
        assertTrue(empty.received().startsWith("GET /a HTTP/1.1\r\nHOST: h\r\nX-After: 2\r\n"), empty.received());
        Inbound absolute = inbound("GET http://Up.Example:0081/p HTTP/1.1\r\nhOST: other\r\nX-After: 2\r\n"
                + "Connection: close\r\n\r\n");
        assertTrue(absolute.received().startsWith("GET /p HTTP/1.1\r\nhOST: Up.Example:0081\r\nX-After: 2\r\n"),
                absolute.received());
        // a client's Connection does not take the Host line away
        Inbound named = inbound("GET /a HTTP/1.1\r\nHOST: h:0081\r\nConnection: close, Host\r\n\r\n");
        assertEquals(List.of("HOST: h:0081"), hostLines(named.received()), named.received());
        // no Host line from the client: Vert.x's, last (an HTTP/1.0 request: the app's own address; its absolute form:
        // the target's authority)
        Inbound old = inbound("GET /ten HTTP/1.0\r\nX-After: 2\r\n\r\n");
        assertEquals(List.of("host: 127.0.0.1:" + app.port()), hostLines(old.received()), old.received());
        Inbound oldAbsolute = inbound("GET http://h:80/p HTTP/1.0\r\nX-After: 2\r\n\r\n");
        assertEquals(List.of("host: h:80"), hostLines(oldAbsolute.received()), oldAbsolute.received());
        // a WebSocket handshake's too
        clearHistory();
        try (Socket c = connect(sidecar.port())) {
            c.getOutputStream().write(("GET /ws HTTP/1.1\r\nHOST: h:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String handshake = received.poll(5, TimeUnit.SECONDS);
            assertTrue(handshake != null && handshake.startsWith("GET /ws HTTP/1.1\r\nHOST: h:8080\r\n"), String.valueOf(handshake));
            String refused = readUntil(c.getInputStream(), "\r\n\r\n");
            assertTrue(refused.startsWith("HTTP/1.1 200 "), refused);
        }
        // A dependency gets its own authority, in the app's spelling and place: a named route's ...
        int eg = sidecar.egressPort();
        Outbound route = outbound("GET /dep/x HTTP/1.1\r\nHOST: 127.0.0.1:" + eg + "\r\nX-After: 2\r\nConnection: close\r\n\r\n");
        assertTrue(route.received().startsWith("GET /x HTTP/1.1\r\nHOST: 127.0.0.1:" + app.port() + "\r\nX-After: 2\r\n"),
                route.received());
        // ... and a forward-proxy target's
        Outbound proxied = outbound("GET http://127.0.0.1:" + app.port() + "/x HTTP/1.1\r\nHost: x:0081\r\nX-After: 2\r\n"
                + "Connection: close\r\n\r\n");
        assertTrue(proxied.received().startsWith("GET /x HTTP/1.1\r\nHost: 127.0.0.1:" + app.port() + "\r\nX-After: 2\r\n"),
                proxied.received());
    }

    /** The Host lines of a request head as the app received them. */
    static List<String> hostLines(String head) {
        return head.substring(0, head.indexOf("\r\n\r\n")).lines()
                .filter(l -> l.regionMatches(true, 0, "host:", 0, 5)).toList();
    }

    @Test
    void shouldRecordAGzipBodyThatDecodesToExactlyTheCapWhole() throws Exception {
        // It was recorded truncated (the decoder stopped at the cap without looking further), so cut at its last
        // word, and replay skipped the case as one whose request it does not have whole.
        String text = "word ".repeat(12) + "word"; // 64 bytes, compressed to fewer: the cap is on the wire bytes
        assertEquals(CAP, text.length());
        String z = gzip(text);
        assertTrue(z.length() < CAP, "the compressed body is captured whole");
        Inbound x = inbound("POST /a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                + "Content-Length: " + z.length() + "\r\nConnection: close\r\n\r\n" + z);
        assertTrue(x.received().endsWith("\r\n\r\n" + z), "the app gets the compressed bytes");
        HttpRequest r = x.record().getRequest();
        assertEquals(text, body(r.getBody()));
        assertFalse(r.getTruncated());
        assertNull(r.getContentEncoding(), "the captured copy is decoded");
        assertEquals(z.length(), r.getOriginalSize(), "the size of the body as it passed");

        Inbound over = inbound("POST /a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                + "Content-Length: " + gzip(text + "!").length() + "\r\nConnection: close\r\n\r\n" + gzip(text + "!"));
        assertTrue(over.record().getRequest().getTruncated(), "one byte more than the cap");
    }

    @Test
    void shouldRecordTheAppsAnswerNotWhatTheSidecarChangedOnItsWayToTheClient() throws Exception {
        Inbound cookies = inbound("GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(cookies.answer().contains("\r\nVia: 1.1 "), cookies.answer());
        List<String> recorded = lines(cookies.record().getResponse().getHeaders());
        assertEquals(4, recorded.size(), "not the Via the sidecar adds: replay compares the candidate's own answer " + recorded);
        assertTrue(recorded.get(0).startsWith("Set-Cookie: a=tapline:hmac:"), recorded.get(0));
        assertEquals("X-Mixed-CASE: v", recorded.get(1));
        assertTrue(recorded.get(2).startsWith("Set-Cookie: b=tapline:hmac:"), recorded.get(2));
        assertEquals("Content-Length: 2", recorded.get(3));

        // close-delimited by the app, chunked to the client: the record has the app's head and the whole body
        Inbound close = inbound("GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(close.answer().toLowerCase(Locale.ROOT).contains("\r\ntransfer-encoding: chunked\r\n"), close.answer());
        HttpResponse r = close.record().getResponse();
        assertEquals(List.of("Content-Type: text/plain", "Connection: close"), lines(r.getHeaders()));
        assertEquals("until-the-end", body(r.getBody()));
        assertEquals(13, r.getOriginalSize());
        assertFalse(r.getTruncated());

        // gzip: the app's Content-Length (of the compressed bytes) beside the decoded copy; replay compares the body
        Inbound zipped = inbound("GET /gzip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        HttpResponse g = zipped.record().getResponse();
        int wire = zipped.answer().length() - zipped.answer().indexOf("\r\n\r\n") - 4;
        assertEquals(List.of("Content-Encoding: gzip", "Content-Length: " + wire), lines(g.getHeaders()));
        assertEquals("compressed hello", body(g.getBody()));
        assertEquals(wire, g.getOriginalSize());
    }

    @Test
    void shouldRecordBodilessAnswersWithTheirHeaders() throws Exception {
        HttpResponse notModified = inbound("GET /304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").record().getResponse();
        assertEquals(304, notModified.getStatus());
        assertEquals(List.of("ETag: \"v1\""), lines(notModified.getHeaders()));
        HttpResponse noContent = inbound("GET /204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").record().getResponse();
        assertEquals(204, noContent.getStatus());
        assertEquals(List.of("X-A: 1"), lines(noContent.getHeaders()));

        Inbound head = inbound("HEAD /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(head.answer().contains("\r\nContent-Length: 5\r\n") && head.answer().endsWith("\r\n\r\n"), head.answer());
        HttpResponse h = head.record().getResponse();
        assertEquals(List.of("Content-Type: text/plain", "Content-Length: 5"), lines(h.getHeaders()),
                "the length of the representation, which replay compares for an answer without a body");
        assertEquals(0, h.getBody().remaining());
        assertEquals(0, h.getOriginalSize());
        assertFalse(h.getTruncated());

        // An empty body keeps the encoding its header names, so a replay mock serves the header as the app did (one
        // recorded as decoded loses its Content-Encoding there).
        HttpResponse zipped304 = inbound("GET /zip304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").record().getResponse();
        assertEquals("gzip", zipped304.getContentEncoding());
        assertEquals(0, zipped304.getBody().remaining());
    }

    @Test
    void shouldRecordAChunkedAnswerWithoutItsTrailersAndTheFinalAnswerAfterEarlyHints() throws Exception {
        Inbound trailers = inbound("GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n");
        assertTrue(trailers.answer().endsWith("0\r\nX-Sum: 9\r\n\r\n"), trailers.answer());
        HttpResponse t = trailers.record().getResponse();
        assertEquals(List.of("Transfer-Encoding: chunked", "Trailer: X-Sum"), lines(t.getHeaders()), "trailers are not captured");
        assertEquals("abc", body(t.getBody()));

        Inbound early = inbound("GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(early.answer().startsWith("HTTP/1.1 103 Early Hints\r\n"), early.answer());
        HttpResponse e = early.record().getResponse();
        assertEquals(200, e.getStatus());
        assertEquals(List.of("X-Final: 1", "Content-Length: 2"), lines(e.getHeaders()), "nothing of the 103 in the final answer");
    }

    @Test
    void shouldRecordAnOutboundCallWithTheTargetTheDependencyReceivedAndTheHeadersTheAppSent() throws Exception {
        int eg = sidecar.egressPort();
        Outbound route = outbound("POST /dep/x? HTTP/1.1\r\nHost: 127.0.0.1:" + eg + "\r\nX-Dup: 1\r\nx-dup: 2\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertTrue(route.received().startsWith("POST /x? HTTP/1.1\r\nHost: 127.0.0.1:" + app.port() + "\r\nX-Dup: 1\r\nx-dup: 2\r\n"),
                route.received());
        HttpRequest r = route.record().getCall().getRequest();
        assertEquals("dep", route.record().getCall().getDestination());
        assertEquals(List.of("127.0.0.1:" + app.port(), "/x", ""), List.of(r.getAuthority(), r.getPath(), r.getRawQuery()));
        assertEquals(List.of("Host: 127.0.0.1:" + eg, "X-Dup: 1", "x-dup: 2", "Transfer-Encoding: chunked", "Connection: close"),
                lines(r.getHeaders()), "as the app sent them, which is what a candidate sends replay's mock");
        assertEquals("hello", body(r.getBody()));

        Outbound proxied = outbound("GET http://127.0.0.1:" + app.port() + "/cookies HTTP/1.1\r\nHost: 127.0.0.1:" + app.port()
                + "\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nConnection: close\r\n\r\n");
        assertFalse(proxied.received().contains("Proxy-Authorization"), proxied.received());
        HttpRequest p = proxied.record().getCall().getRequest();
        assertEquals(List.of("127.0.0.1:" + app.port(), "/cookies"), List.of(p.getAuthority(), p.getPath()));
        assertTrue(lines(p.getHeaders()).get(1).startsWith("Proxy-Authorization: Basic tapline:hmac:"), lines(p.getHeaders()).toString());
        List<String> answer = lines(proxied.record().getCall().getResponse().getHeaders());
        assertEquals(4, answer.size(), answer.toString());
        assertTrue(answer.get(0).startsWith("Set-Cookie: a=") && answer.get(2).startsWith("Set-Cookie: b="), answer.toString());

        Outbound whole = outbound("OPTIONS http://127.0.0.1:" + app.port() + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(whole.received().startsWith("OPTIONS * HTTP/1.1\r\n"), whole.received());
        assertEquals("*", whole.record().getCall().getRequest().getPath());
    }

    /** One exchange through the inbound listener: what the client got, what the app received, what was published. */
    record Inbound(String answer, String received, Interaction record) {
    }

    /** One call through the egress listener, which no inbound request claims: published as an unattributed call. */
    record Outbound(String answer, String received, UnattributedCall record) {
    }

    static Inbound inbound(String request) throws Exception {
        clearHistory();
        String answer = exchange(sidecar.port(), request);
        String wire = received.poll(5, TimeUnit.SECONDS);
        return new Inbound(answer, wire, record());
    }

    static Outbound outbound(String request) throws Exception {
        clearHistory();
        String answer = exchange(sidecar.egressPort(), request);
        String wire = received.poll(5, TimeUnit.SECONDS);
        return new Outbound(answer, wire, call());
    }

    static void clearHistory() throws InterruptedException {
        SidecarProxyTest.awaitCapturesSettled(sidecar);
        producer.clear();
        received.clear();
    }

    static List<String> lines(List<Header> headers) {
        return headers.stream().map(h -> h.getName() + ": " + h.getValue()).toList();
    }

    static String body(java.nio.ByteBuffer b) {
        return StandardCharsets.ISO_8859_1.decode(b.duplicate()).toString();
    }
}
