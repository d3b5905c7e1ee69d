package io.tapline.replay.mock;

import io.tapline.avro.CallKind;
import io.tapline.avro.OutboundCall;
import io.tapline.http.HttpUrl;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tapline.replay.Fixtures.call;
import static io.tapline.replay.Fixtures.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mock as a candidate's HTTP client meets it on the wire: exact bytes written on a raw socket, the whole answer read
 * back until the mock closes the connection.
 */
@Timeout(60)
class MockWireTest {

    private Vertx vertx;
    private final MockRegistry registry = new MockRegistry();
    private final MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE);

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        io.tapline.replay.http.Closing.await(vertx.close(), java.time.Duration.ofSeconds(10), "the test's Vert.x");
    }

    private MockServer start(int unmatchedStatus) {
        return MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("inventory", HttpUrl.parse("http://inventory:8080")), Set.of(), unmatchedStatus, 1024), registry).await();
    }

    /** Registers the case's mocks under its trace id; returns the traceparent that carries it. */
    private String register(CaseMocks mocks) {
        TraceContext.CaseTrace trace = TraceContext.forCase("run", mocks.caseId());
        registry.register(trace.traceId(), mocks);
        return trace.traceparent();
    }

    /** Writes {@code request} as Latin-1 bytes and reads every byte the mock sends until it closes the connection. */
    private static String exchange(MockServer mock, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000); // a mock that leaves the connection open fails here
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Writes {@code request} and reads the answer's status line, leaving the connection as the mock left it. */
    private static String statusLine(MockServer mock, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            StringBuilder line = new StringBuilder();
            for (int c = s.getInputStream().read(); c >= 0 && c != '\r'; c = s.getInputStream().read()) {
                line.append((char) c);
            }
            return line.toString();
        }
    }

    /** Writes {@code request} and reads one answer: its head and the {@code Content-Length} bytes of body after it. */
    private static String oneAnswer(MockServer mock, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readAnswer(s.getInputStream());
        }
    }

    /** Reads one answer from {@code in}: its head and the {@code Content-Length} bytes of body after it. */
    private static String readAnswer(java.io.InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return head.toString();
            }
            head.append((char) c);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: (\\d+)\r\n").matcher(head);
        int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
        return head + new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    private static int answers(String wire) {
        int n = 0;
        for (int i = wire.indexOf("HTTP/1."); i >= 0; i = wire.indexOf("HTTP/1.", i + 1)) {
            n++;
        }
        return n;
    }

    private static OutboundCall tunnel(String authority) {
        OutboundCall c = call(authority, "CONNECT", "", null, null, null);
        c.setKind(CallKind.TUNNEL);
        return c;
    }

    @Test
    void aConnectIsRefusedAndItsConnectionClosedSoWhatFollowsTheHeadIsNotReadAsHttp() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher));
        // A client that sends its TLS ClientHello without waiting for the 200, then (as a confused client could) a
        // request: before, the connection stayed open, the ClientHello was answered a second time (400) and a request
        // behind it was served as if the tunnel's bytes were HTTP.
        String wire = exchange(mock, "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n"
                + "\u0016\u0003\u0001\u0000\u0005hello"
                + "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n");
        assertTrue(wire.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), wire);
        String lower = wire.toLowerCase(java.util.Locale.ROOT);
        assertTrue(lower.contains("\r\nx-tapline-mock: tunnel-refused\r\n"), wire);
        assertTrue(lower.contains("\r\nconnection: close\r\n"), wire);
        assertTrue(wire.endsWith("route HTTPS dependencies through a named route\n"), wire);
        assertEquals(1, answers(wire), wire);
    }

    @Test
    void aConnectIsNeverAnswered2xxWhateverTheUnmatchedStatus() throws Exception {
        // a 2xx to a CONNECT tells the client its tunnel is open: it would start TLS on a connection the mock reads as HTTP
        String connect = "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n";
        assertEquals("HTTP/1.1 502 Bad Gateway", statusLine(start(200), connect));
        assertEquals("HTTP/1.1 502 Bad Gateway", statusLine(start(204), connect));
        assertEquals("HTTP/1.1 503 Service Unavailable", statusLine(start(503), connect));
    }

    @Test
    void aRefusedConnectAndATunnelProductionMadeAreNotedOnTheCaseWithoutTakingItForMissingPropagation() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(tunnel("payments.example.com:443"),
                call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))), matcher);
        register(mocks);
        // as an HTTPS client sends it through its proxy: no traceparent (that goes inside the tunnel, encrypted)
        assertEquals("HTTP/1.1 502 Bad Gateway",
                statusLine(mock, "CONNECT payments.example.com:443 HTTP/1.1\r\nHost: payments.example.com:443\r\n\r\n"));
        assertEquals(List.of("call:CONNECT payments.example.com:443 is not replayed: production reached it through a TLS"
                        + " tunnel, which replay does not intercept (route HTTPS dependencies through a named route over plain HTTP)",
                "the candidate's CONNECT payments.example.com:443 was answered 502: replay does not intercept TLS tunnels"
                        + " (route HTTPS dependencies through a named route over plain HTTP)"), mocks.notes());
        assertEquals(0, registry.untracedCalls(), "a tunnel's head carries no trace context: no fallback for it");
        assertEquals(0, registry.unattributableCalls());
        assertEquals(1, mocks.usage().getUnused(), "the recorded tunnel is no HTTP call the candidate skipped");
    }

    @Test
    void anUnmatchedCallIsAnsweredWithTextThatSaysItsCharsetAndItsConnectionServesTheNextCall() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher));
        // the path sent as raw UTF-8 (as some clients do), quoted in the answer: without a charset a client reads it as
        // Latin-1 or its platform's default
        byte[] cafe = "/inventory/caf\u00e9".getBytes(StandardCharsets.UTF_8);
        String wire = exchange(mock, "GET " + new String(cafe, StandardCharsets.ISO_8859_1) + " HTTP/1.1\r\nHost: m\r\n"
                + "traceparent: " + tp + "\r\n\r\n"
                + "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\nConnection: close\r\n\r\n");
        String first = wire.substring(0, wire.indexOf("HTTP/1.1 200 OK"));
        String body = "no recorded call of case c1 matches call:GET inventory /caf\u00e9 (best score 0.0)\n";
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        assertEquals("HTTP/1.1 502 Bad Gateway\r\nx-tapline-mock: unmatched\r\ncontent-type: text/plain; charset=utf-8\r\n"
                + "content-length: " + length + "\r\n\r\n" + new String(body.getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1), first);
        assertTrue(wire.endsWith("\r\n\r\n{\"n\":1}"), wire);
    }

    @Test
    void theHeadersARecordedOrLiveAnswersConnectionNamesAreNotServedAsTheSidecarDidNotRelayThem() throws Exception {
        // the dependency's answer as recorded, hop-by-hop lines included; the app got it without them (RFC 9110 7.6.1)
        io.vertx.core.http.HttpServer live = vertx.createHttpServer().requestHandler(r -> r.response()
                .putHeader("Connection", "X-Live-Hop").putHeader("X-Live-Hop", "1").putHeader("X-Live-Kept", "2")
                .end("live")).listen(0, "127.0.0.1").await();
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("live", HttpUrl.parse("http://127.0.0.1:" + live.actualPort())), Set.of("127.0.0.1"), 502, 1024),
                registry).await();
        String tp = register(new CaseMocks("c1", List.of(call("api.example.com:80", "GET", "/a", null, null,
                io.tapline.replay.Fixtures.response(200, "text/plain", "recorded".getBytes(StandardCharsets.UTF_8), null,
                        new io.tapline.avro.Header("Connection", "keep-alive, X-Hop"),
                        new io.tapline.avro.Header("X-Hop", "1"), new io.tapline.avro.Header("X-Kept", "2")))), matcher));
        String recorded = exchange(mock, "GET http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\n"
                + "traceparent: " + tp + "\r\nConnection: close\r\n\r\n").toLowerCase(java.util.Locale.ROOT);
        assertTrue(recorded.startsWith("http/1.1 200 ok\r\n") && recorded.endsWith("\r\n\r\nrecorded"), recorded);
        assertTrue(recorded.contains("\r\nx-kept: 2\r\n"), recorded);
        assertTrue(!recorded.contains("x-hop"), recorded);
        String forwarded = exchange(mock, "GET /live/x HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nConnection: close\r\n\r\n").toLowerCase(java.util.Locale.ROOT);
        assertTrue(forwarded.startsWith("http/1.1 200 ok\r\n") && forwarded.endsWith("\r\n\r\nlive"), forwarded);
        assertTrue(forwarded.contains("\r\nx-live-kept: 2\r\n"), forwarded);
        assertTrue(!forwarded.contains("x-live-hop"), forwarded);
    }

    @Test
    void aClientAskingForH2cStaysOnHttp11AsBehindTheSidecar() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher));
        // what Java's HttpClient sends on an http:// URL by default; the sidecar's listeners speak HTTP/1.1 only, so in
        // production the app's calls stayed on HTTP/1.1. Before, the mock switched the connection to HTTP/2.
        String wire = oneAnswer(mock, "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n"
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n") && wire.endsWith("\r\n\r\n{\"n\":1}"), wire);
        // nor is HTTP/2 with prior knowledge spoken: the preface gets an HTTP/1.x refusal, not a SETTINGS frame
        String preface = statusLine(mock, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assertTrue(preface.startsWith("HTTP/") && !preface.contains(" 2"), preface);
    }

    @Test
    void aRequestThatSaysItIsTheLastAmongOtherConnectionOptionsHasItsConnectionClosedAfterItsAnswer() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}")), call("api.example.com:80", "GET", "/a", null, null, json(200, "{\"a\":1}"))), matcher));
        // close among other options (as libwww-perl sends it), and a forward-proxy client's Proxy-Connection: close
        // without Connection (read as squid and the sidecar's egress read it): Vert.x reads a Connection line that is
        // "close" alone, so the answer said nothing and the connection stayed open
        for (String request : List.of(
                "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\nTE: trailers\r\nConnection: TE, close\r\n\r\n",
                "GET http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\ntraceparent: " + tp
                        + "\r\nProxy-Connection: close\r\n\r\n")) {
            try (Socket s = new Socket("127.0.0.1", mock.port())) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                String wire = readAnswer(s.getInputStream());
                assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n"), wire);
                assertTrue(wire.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), wire);
                assertTrue(wire.endsWith("\r\n\r\n{\"n\":1}") || wire.endsWith("\r\n\r\n{\"a\":1}"), wire);
                assertEquals(-1, s.getInputStream().read(), "closed after the answer");
            }
        }
    }

    @Test
    void anHttp10ForwardProxyClientsProxyConnectionKeepAliveKeepsItsConnectionOpenAsBehindTheSidecar() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("api.example.com:80", "GET", "/a", null, null,
                json(200, "{\"a\":1}")), call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))), matcher));
        // what an HTTP/1.0 client configured with a proxy sends, and the sidecar's egress (as squid) keeps open: before,
        // Vert.x read only Connection and closed the connection after each answer
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            for (int i = 0; i < 2; i++) {
                s.getOutputStream().write(("GET http://api.example.com/a HTTP/1.0\r\nHost: api.example.com\r\ntraceparent: "
                        + tp + "\r\nProxy-Connection: keep-alive\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                String wire = readAnswer(s.getInputStream());
                assertTrue(wire.startsWith("HTTP/1.0 200 OK\r\n") && wire.endsWith("\r\n\r\n{\"a\":1}"), wire);
                assertTrue(wire.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), wire);
            }
            // without keep-alive, closed after the answer
            s.getOutputStream().write(("GET http://api.example.com/a HTTP/1.0\r\nHost: api.example.com\r\ntraceparent: "
                    + tp + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readAnswer(s.getInputStream()).startsWith("HTTP/1.0 200 OK\r\n"));
            assertEquals(-1, s.getInputStream().read(), "closed after the answer");
        }
        // a named route's request is one to an origin, whose Proxy-Connection means nothing (the sidecar reads it so
        // too), and close among the Connection options ends the connection also beside keep-alive: closed
        for (String request : List.of(
                "GET /inventory/stock/1 HTTP/1.0\r\nHost: m\r\ntraceparent: " + tp + "\r\nProxy-Connection: keep-alive\r\n\r\n",
                "GET http://api.example.com/a HTTP/1.0\r\nHost: api.example.com\r\ntraceparent: " + tp
                        + "\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")) {
            String wire = exchange(mock, request);
            assertTrue(wire.startsWith("HTTP/1.0 200 OK\r\n"), wire);
            assertEquals(1, answers(wire), wire);
        }
    }

    @Test
    void anHttp10ClientsKeepAliveAmongOtherConnectionOptionsKeepsItsConnectionOpenAsBehindTheSidecar() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("api.example.com:80", "GET", "/a", null, null,
                json(200, "{\"a\":1}")), call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))), matcher));
        // RFC 9112 9.3 reads keep-alive in the Connection list, and the sidecar does: before, Vert.x under the mock read
        // only a line that is keep-alive alone and closed the connection after each answer
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            for (String request : List.of(
                    "GET http://api.example.com/a HTTP/1.0\r\nHost: api.example.com\r\nConnection: keep-alive, x-trace\r\n",
                    "GET /inventory/stock/1 HTTP/1.0\r\nHost: m\r\nConnection: x-trace, Keep-Alive\r\n")) {
                s.getOutputStream().write((request + "traceparent: " + tp + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                String wire = readAnswer(s.getInputStream());
                assertTrue(wire.startsWith("HTTP/1.0 200 OK\r\n"), wire);
                assertTrue(wire.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: keep-alive\r\n"), wire);
            }
            s.getOutputStream().write(("GET /inventory/stock/1 HTTP/1.0\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readAnswer(s.getInputStream()).startsWith("HTTP/1.0 200 OK\r\n"));
            assertEquals(-1, s.getInputStream().read(), "without keep-alive, closed after the answer");
        }
        // close beside it ends the connection: nothing behind it is served
        String wire = exchange(mock, "GET /inventory/stock/1 HTTP/1.0\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nConnection: keep-alive, close\r\n\r\nGET /inventory/stock/1 HTTP/1.0\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nConnection: keep-alive\r\n\r\n");
        assertEquals(1, answers(wire), wire);
    }

    /** A field without a name ({@code : v}), which the sidecar's egress refuses (RequestHead), is refused here too. */
    @Test
    void aHeaderFieldWithoutANameIsRefusedAsTheSidecarRefusesIt() throws Exception {
        MockServer mock = start(502);
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher));
        String wire = exchange(mock, "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n: v\r\n\r\n");
        assertTrue(wire.startsWith("HTTP/1.1 400 "), wire);
        assertTrue(wire.endsWith("\r\n\r\nheader field without a name\n"), wire);
    }

    @Test
    void aHeadTheSidecarRefusesIsRefusedWithItsStatusAndClosedAndNotedOnItsCase() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}")),
                call("inventory", "POST", "/stock/1", null, "hello", json(200, "{\"p\":1}")),
                call("api.example.com:80", "GET", "/a", null, null, json(200, "{\"a\":1}"))), matcher);
        String tp = register(mocks);
        String behind = "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n";
        // what the sidecar's egress answers them (its RequestHead): before, the mock answered each from its recording
        // and read on, so a candidate that production's sidecar refused passed in replay
        String[][] heads = {
                {"400", "GET /inventory/stock/1 HTTP/1.1\r\ntraceparent: " + tp + "\r\n\r\n", "HTTP/1.1 request without Host"},
                {"400", "GET http://api.example.com/a HTTP/1.1\r\ntraceparent: " + tp + "\r\n\r\n", "HTTP/1.1 request without Host"},
                {"400", "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\nHost: n\r\ntraceparent: " + tp + "\r\n\r\n",
                        "more than one Host header"},
                {"400", "GET /inventory/stock/1 HTTP/1.1\r\nHost: a b\r\ntraceparent: " + tp + "\r\n\r\n", "invalid Host header"},
                {"400", "GET /inventory/stock/1 HTTP/1.1\r\nHost: a..b\r\ntraceparent: " + tp + "\r\n\r\n", "invalid Host header"},
                {"400", "GET http://api.example.com/a HTTP/1.1\r\nHost: \r\ntraceparent: " + tp + "\r\n\r\n", "invalid Host header"},
                {"501", "POST /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                        + "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        "Transfer-Encoding gzip is not implemented"},
        };
        for (String[] h : heads) {
            String wire = exchange(mock, h[1] + behind);
            assertTrue(wire.startsWith("HTTP/1.1 " + h[0] + " "), wire);
            String lower = wire.toLowerCase(java.util.Locale.ROOT);
            assertTrue(lower.contains("\r\nconnection: close\r\n") && lower.contains("\r\nx-tapline-mock: refused\r\n"), wire);
            assertTrue(wire.endsWith("\r\n\r\n" + h[2] + "\n"), wire);
            // (the reason may quote "HTTP/1.1": answers are counted by the mock's own line)
            assertEquals(1, lower.split("\r\nx-tapline-mock: ", -1).length - 1, "closed after the refusal, nothing behind it read: " + wire);
        }
        // an HTTP/1.0 request needs no Host, and a coding written in upper case is the same chunked
        assertTrue(exchange(mock, "GET /inventory/stock/1 HTTP/1.0\r\ntraceparent: " + tp + "\r\n\r\n")
                .startsWith("HTTP/1.0 200 OK\r\n"));
        assertTrue(exchange(mock, "POST /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                .startsWith("HTTP/1.1 200 OK\r\n"));
        assertEquals(List.of(
                "the candidate's call GET /inventory/stock/1 was answered 400 and not matched, as the sidecar refuses it:"
                        + " HTTP/1.1 request without Host",
                "the candidate's call GET http://api.example.com/a was answered 400 and not matched, as the sidecar refuses"
                        + " it: HTTP/1.1 request without Host",
                "the candidate's call GET /inventory/stock/1 was answered 400 and not matched, as the sidecar refuses it:"
                        + " more than one Host header",
                "the candidate's call GET /inventory/stock/1 was answered 400 and not matched, as the sidecar refuses it:"
                        + " invalid Host header",
                "the candidate's call GET http://api.example.com/a was answered 400 and not matched, as the sidecar refuses"
                        + " it: invalid Host header",
                "the candidate's call POST /inventory/stock/1 was answered 501 and not matched, as the sidecar refuses it:"
                        + " Transfer-Encoding gzip is not implemented"), mocks.notes());
        assertEquals(0, mocks.usage().getUnmatched(), "not reported as calls production did not make");
    }

    @Test
    void aTargetInNoFormTheSidecarsEgressTakesIsAnswered400AndNotedNotReportedAsAnUnmatchedCall() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null,
                json(200, "{\"n\":1}"))), matcher);
        String tp = register(mocks);
        // another scheme, asterisk-form, a bare word: the sidecar's egress answers 400 and reads on; before, the mock
        // took each for a named route it did not know, answered 502 and reported an unmatched call
        for (String target : List.of("ftp://files.example.com/a", "*", "stock")) {
            String method = target.equals("*") ? "OPTIONS" : "GET";
            String wire = exchange(mock, method + " " + target + " HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n"
                    + "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\nConnection: close\r\n\r\n");
            assertTrue(wire.startsWith("HTTP/1.1 400 Bad Request\r\nx-tapline-mock: bad-target\r\n"), wire);
            assertTrue(wire.contains("got " + target + "\n"), wire);
            assertTrue(wire.endsWith("\r\n\r\n{\"n\":1}"), "the next call on the connection served: " + wire);
            assertTrue(mocks.notes().get(mocks.notes().size() - 1).startsWith("the candidate's call " + method + " " + target
                    + " was answered 400 and not matched, as the sidecar refuses it: invalid request target: "), mocks.notes()::toString);
        }
        assertEquals(3, mocks.notes().size());
        assertEquals(0, mocks.usage().getUnmatched());
    }

    @Test
    void aHostLineOrTargetNamingAnIpv6LiteralIsTakenOrRefusedAsTheSidecarsEgressDoes() throws Exception {
        MockServer mock = start(502);
        String mapped = "[::ffff:127.0.0.1]:8080";
        CaseMocks mocks = new CaseMocks("c1", List.of(call(mapped, "GET", "/a", null, null, json(200, "{\"a\":1}"))), matcher);
        String tp = register(mocks);
        // the Host line curl, Python and Java send for such a target: Vert.x cannot read it, and the mock refused it
        // 400 "invalid Host header", where the sidecar's egress now forwards it
        String served = exchange(mock, "GET http://" + mapped + "/a HTTP/1.1\r\nHost: " + mapped + "\r\ntraceparent: " + tp
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(served.startsWith("HTTP/1.1 200 OK\r\n") && served.endsWith("\r\n\r\n{\"a\":1}"), served);
        // Vert.x reads [zz::1] as a host, and the mock answered from the recording: the egress refuses it
        String zz = exchange(mock, "GET http://" + mapped + "/a HTTP/1.1\r\nHost: [zz::1]:8080\r\ntraceparent: " + tp
                + "\r\n\r\n");
        assertTrue(zz.startsWith("HTTP/1.1 400 ") && zz.endsWith("\r\n\r\ninvalid Host header\n"), zz);
        // an IP literal that is no IPv6 address: 400 as any target whose authority does not parse, as the egress
        // answers it; before, it was taken for a destination production never called
        String bad = exchange(mock, "GET http://[1::2::3]:8080/a HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(bad.startsWith("HTTP/1.1 400 Bad Request\r\nx-tapline-mock: bad-target\r\n")
                && bad.contains("invalid host '[1::2::3]': not an IPv6 address"), bad);
        assertEquals(1, mocks.usage().getMatched());
        assertEquals(0, mocks.usage().getUnmatched(), "not reported as calls production did not make");
    }

    @Test
    void aSpaceOrAControlCharacterInANamedRoutesTargetIsRefusedAsTheSidecarsEgressRefusesItAndNotedOnItsCase() throws Exception {
        MockServer mock = start(502);
        // recorded by a sidecar from before its egress refused them (RequestHead.targetRefusal): the mock matched each
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/a\u0000b", null, null, json(200, "{\"n\":1}")),
                call("inventory", "GET", "/stock/a\u007fb", null, null, json(200, "{\"n\":2}")),
                call("inventory", "GET", "/stock/1", "q=\u001b[31m", null, json(200, "{\"n\":3}"))), matcher);
        String tp = register(mocks);
        String behind = "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n";
        List<String> targets = List.of("/inventory/stock/a\u0000b", "/inventory/stock/a\u007fb", "/inventory/stock/1?q=\u001b[31m");
        for (String target : targets) {
            String wire = exchange(mock, "GET " + target + " HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n" + behind);
            // as the egress answers it: 400, Connection: close, nothing behind it read
            assertTrue(wire.startsWith("HTTP/1.1 400 "), wire);
            String lower = wire.toLowerCase(java.util.Locale.ROOT);
            assertTrue(lower.contains("\r\nconnection: close\r\n") && lower.contains("\r\nx-tapline-mock: refused\r\n"), wire);
            assertTrue(wire.endsWith("\r\n\r\ninvalid request target\n"), wire);
            assertEquals(1, answers(wire), "closed after the refusal: " + wire);
        }
        assertEquals(targets.stream().map(t -> "the candidate's call GET " + t + " was answered 400 and not matched, as the"
                + " sidecar refuses it: invalid request target").toList(), mocks.notes());
        assertEquals(0, mocks.usage().getMatched());
        assertEquals(0, mocks.usage().getUnmatched(), "not reported as calls production did not make");
    }

    @Test
    void anotherHttpVersionABrokenChunkedBodyAndAHeadTheDecoderRefusesAreAnsweredAsTheSidecarAnswersThem() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}")),
                call("inventory", "POST", "/stock/1", null, "hello", json(200, "{\"p\":1}"))), matcher);
        String tp = register(mocks);
        String behind = "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n";
        // a later HTTP/1 minor version is read as HTTP/1.1 (RFC 9110 2.5), as the sidecar reads it: before, 501
        String later = exchange(mock, "GET /inventory/stock/1 HTTP/1.2\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(later.startsWith("HTTP/1.1 200 OK\r\n") && later.endsWith("\r\n\r\n{\"n\":1}"), later);
        // another major version: 505 in an HTTP/1.1 status line, nothing behind it read; before, "HTTP/2.0 501" and the
        // request behind served
        for (String version : List.of("HTTP/2.0", "HTTP/0.9")) {
            String wire = exchange(mock, "GET /inventory/stock/1 " + version + "\r\nHost: m\r\ntraceparent: " + tp
                    + "\r\n\r\n" + behind);
            assertTrue(wire.startsWith("HTTP/1.1 505 HTTP Version Not Supported\r\n"), wire);
            assertTrue(wire.endsWith("\r\n\r\nHTTP version " + version + " is not supported\n"), wire);
        }
        // a chunk size that is not hex: 400, where the mock only closed the connection, the client left without an answer
        String broken = exchange(mock, "POST /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" + behind);
        assertTrue(broken.startsWith("HTTP/1.1 400 Bad Request\r\n") && broken.endsWith("\r\n\r\nmalformed request body\n"),
                broken);
        // a head the decoder refuses, from an HTTP/1.0 client that asked for keep-alive: 400 in an HTTP/1.1 status line
        // that says the connection closes, as it does; before, "HTTP/1.0 400" said keep-alive and the mock closed it
        String refused = exchange(mock, "POST /inventory/stock/1 HTTP/1.0\r\nHost: m\r\nConnection: keep-alive\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + behind);
        assertTrue(refused.startsWith("HTTP/1.1 400 Bad Request\r\n") && refused.endsWith("\r\n\r\nmalformed request\n"),
                refused);
        assertTrue(refused.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), refused);
        assertEquals(List.of(
                "the candidate's call GET /inventory/stock/1 was answered 505 and not matched, as the sidecar refuses it:"
                        + " HTTP version HTTP/2.0 is not supported",
                "the candidate's call GET /inventory/stock/1 was answered 505 and not matched, as the sidecar refuses it:"
                        + " HTTP version HTTP/0.9 is not supported",
                "the candidate's call POST /inventory/stock/1 was answered 400 and not matched, as the sidecar refuses it:"
                        + " malformed request body",
                "the candidate's call with a head the decoder could not read was answered 400 and not matched, as the"
                        + " sidecar refuses it: malformed request"), mocks.notes());
        assertEquals(0, mocks.usage().getUnmatched());
        assertEquals(1, mocks.usage().getMatched(), "the HTTP/1.2 call alone");
    }

    @Test
    void aMalformedHttpVersionIsAnswered400AsTheSidecarAnswersItAndNotedNamingTheCall() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}"))),
                matcher);
        String tp = register(mocks);
        String behind = "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n";
        // not HTTP/DIGIT.DIGIT (RFC 9112 2.3): before, the mock answered 501 to http/1.1 and served HTTP/1.10 from the
        // recording, where the sidecar's egress (MalformedRequests) answers 400; and it served http/1.2, Http/1.2 and
        // HTTP/1.02 as HTTP/1.1 and answered http/2.0 505, as its decoder read them (upper-cased, no leading zeros)
        List<String> versions = List.of("http/1.1", "HTTP/01.1", "HTTP/1.10", "http/1.2", "Http/1.2", "HTTP/1.02",
                "http/2.0");
        for (String version : versions) {
            String wire = exchange(mock, "GET /inventory/stock/1 " + version + "\r\nHost: m\r\ntraceparent: " + tp
                    + "\r\n\r\n" + behind);
            assertTrue(wire.startsWith("HTTP/1.1 400 Bad Request\r\n"), version + ": " + wire);
            assertTrue(wire.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), wire);
            assertTrue(wire.endsWith("\r\n\r\nmalformed HTTP version\n"), "nothing behind it read: " + wire);
        }
        assertEquals(List.of("the candidate's call GET /inventory/stock/1 was answered 400 and not matched, as the sidecar"
                + " refuses it: malformed HTTP version"), mocks.notes(), "noted once, naming the call");
        assertEquals(0, mocks.usage().getMatched());
        assertEquals(0, mocks.usage().getUnmatched());
    }

    @Test
    void aRequestPipelinedBehindTheLastIsNotServed() throws Exception {
        java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
        io.vertx.core.http.HttpServer live = vertx.createHttpServer().requestHandler(r -> {
            reached.incrementAndGet();
            r.response().end("live");
        }).listen(0, "127.0.0.1").await();
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("live", HttpUrl.parse("http://127.0.0.1:" + live.actualPort())), Set.of("127.0.0.1"), 502, 1024),
                registry).await();
        String tp = register(new CaseMocks("c1", List.of(call("api.example.com:80", "GET", "/a", null, null,
                json(200, "{\"a\":1}"))), matcher));
        // a client may send nothing behind a request that says close (RFC 9112 9.6); one that does must not have it
        // served: before, it was, here a live call to a real dependency
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\ntraceparent: " + tp
                    + "\r\nConnection: TE, close\r\nTE: trailers\r\n\r\nGET /live/behind HTTP/1.1\r\nHost: m\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String wire = readAnswer(s.getInputStream());
            assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n") && wire.endsWith("\r\n\r\n{\"a\":1}"), wire);
            assertEquals(-1, s.getInputStream().read(), "nothing after the last request's answer");
        }
        assertEquals(0, mock.liveCalls(), "the request behind is not forwarded");
        assertEquals(0, reached.get());
        assertEquals(0, registry.untracedCalls(), "nor counted as a call without trace context");
    }

    @Test
    void aCallsCaseIsTheTraceIdOfItsFirstTraceparentLineReadInAnyCaseAndAJoinedValueNamesNone() throws Exception {
        MockServer mock = start(502);
        String a = register(new CaseMocks("a", List.of(call("inventory", "GET", "/who", null, null, json(200, "\"a\""))), matcher));
        String b = register(new CaseMocks("b", List.of(call("inventory", "GET", "/who", null, null, json(200, "\"b\""))), matcher));
        java.util.function.Function<String, String> who = lines -> {
            try {
                String wire = oneAnswer(mock, "GET /inventory/who HTTP/1.1\r\nHost: m\r\n" + lines + "\r\n");
                return wire.substring(wire.indexOf(' ') + 1, wire.indexOf(' ') + 4) + " " + wire.substring(wire.indexOf("\r\n\r\n") + 4);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        // of two lines the first, as the sidecar's egress read it when it attributed the recorded call
        assertEquals("200 \"a\"", who.apply("traceparent: " + a + "\r\ntraceparent: " + b + "\r\n"));
        assertEquals("200 \"b\"", who.apply("traceparent: " + b + "\r\ntraceparent: " + a + "\r\n"));
        // upper-case hex, which W3C and the sidecar refuse, is read as the trace id it spells: the call is the case's
        assertEquals("200 \"b\"", who.apply("TraceParent: " + b.toUpperCase(java.util.Locale.ROOT) + "\r\n"));
        assertEquals(0, registry.untracedCalls());
        // two values joined on one line (a client that folds repeated headers) name no trace: with two cases in flight
        // the call is nobody's, and counted as a call without trace context (the one-case-at-a-time fallback's signal)
        assertTrue(who.apply("traceparent: " + a + "," + b + "\r\n").startsWith("502 no case in flight has trace id null"));
        assertEquals(1, registry.untracedCalls());
        assertEquals(1, registry.unattributableCalls());
    }

    @Test
    void aLiveCallIsForwardedWithoutTheExpectationTheMockAnswered() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> seen = new java.util.concurrent.atomic.AtomicReference<>();
        io.vertx.core.http.HttpServer live = vertx.createHttpServer().requestHandler(r -> r.body().onSuccess(b -> {
            seen.set(r.getHeader("expect") + " " + b);
            r.response().end("live");
        })).listen(0, "127.0.0.1").await();
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("live", HttpUrl.parse("http://127.0.0.1:" + live.actualPort())), Set.of("127.0.0.1"), 502, 1024),
                registry).await();
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("POST /live/upload HTTP/1.1\r\nHost: m\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", readAnswer(s.getInputStream()));
            s.getOutputStream().write("hello".getBytes(StandardCharsets.ISO_8859_1));
            String wire = readAnswer(s.getInputStream());
            assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n") && wire.endsWith("\r\n\r\nlive"), wire);
        }
        // the sidecar answers the expectation itself and forwards the body without it; a dependency that takes no
        // expectations would answer 417 to it
        assertEquals("null hello", seen.get());
    }

    @Test
    void aBodyOverTheLimitIsNotedOnItsCase() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "POST", "/upload", null, "{}", json(200, "{}"))), matcher);
        String tp = register(mocks);
        // declared over the 1 KiB limit, and chunked growing past it
        assertEquals("HTTP/1.1 413 Request Entity Too Large", statusLine(mock, "POST /inventory/upload HTTP/1.1\r\n"
                + "Host: m\r\ntraceparent: " + tp + "\r\nContent-Length: 5000\r\n\r\n"));
        assertEquals("HTTP/1.1 413 Request Entity Too Large", statusLine(mock, "POST http://files.example.com/put HTTP/1.1\r\n"
                + "Host: files.example.com\r\ntraceparent: " + tp + "\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"
                + "x".repeat(2048) + "\r\n"));
        // before, the result said nothing of it: the candidate's answer changed, and no difference or note said why
        assertEquals(List.of("the candidate's call POST /inventory/upload was answered 413 and not matched: its body is"
                        + " over the mock's limit of 1024 bytes",
                "the candidate's call POST http://files.example.com/put was answered 413 and not matched: its body is over"
                        + " the mock's limit of 1024 bytes"), mocks.notes());
        assertEquals(1, mocks.usage().getUnused());
    }

    @Test
    void aRequestLineOrHeadOverTheSidecarsLimitIsAnswered414Or431AndNotedOnItsCase() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1", null, null, json(200, "{\"n\":1}")),
                call("inventory", "GET", "/stock/2", "q=" + "a".repeat(17_000), null, json(200, "{\"n\":2}"))), matcher);
        String tp = register(mocks);
        String behind = "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n\r\n";
        // over the sidecar's default --proxy-max-header-bytes (16 KiB): its egress answers 414 and 431, so production
        // never made such a call; before, the mock took up to 64 KiB and answered both from the recordings
        String line = exchange(mock, "GET /inventory/stock/2?q=" + "a".repeat(17_000) + " HTTP/1.1\r\nHost: m\r\n"
                + "traceparent: " + tp + "\r\n\r\n" + behind);
        assertTrue(line.startsWith("HTTP/1.1 414 "), line.substring(0, Math.min(200, line.length())));
        assertTrue(line.endsWith("\r\n\r\nrequest line too long\n"), line);
        String head = exchange(mock, "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n"
                + "X-Big: " + "b".repeat(17_000) + "\r\n\r\n" + behind);
        assertTrue(head.startsWith("HTTP/1.1 431 "), head.substring(0, Math.min(200, head.length())));
        assertTrue(head.endsWith("\r\n\r\nrequest header fields too large\n"), head);
        for (String wire : List.of(line, head)) {
            String lower = wire.toLowerCase(java.util.Locale.ROOT);
            assertTrue(lower.contains("\r\nconnection: close\r\n") && lower.contains("\r\nx-tapline-mock: refused\r\n"), wire);
            assertEquals(1, answers(wire), "closed after the refusal, nothing behind it read: " + wire);
        }
        // under the limit, a head is read as before
        assertTrue(exchange(mock, "GET /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp + "\r\n"
                + "X-Big: " + "b".repeat(15_000) + "\r\nConnection: close\r\n\r\n").endsWith("\r\n\r\n{\"n\":1}"));
        // the head's request line was read: its call is named; the line's refusal names none (one case in flight)
        assertEquals(List.of("the candidate's call with a head the decoder could not read was answered 414 and not"
                        + " matched, as the sidecar refuses it: request line too long",
                "the candidate's call GET /inventory/stock/1 was answered 431 and not matched, as the sidecar refuses it:"
                        + " request header fields too large"), mocks.notes());
        assertEquals(0, mocks.usage().getUnmatched(), "not reported as calls production did not make");
        assertEquals(1, mocks.usage().getMatched());
    }

    @Test
    void theHeadLimitIsTheOneTheMockIsGivenAsTheSidecarsIs() throws Exception {
        // a sidecar run with --proxy-max-header-bytes 32768 let such a head through: replay given the same takes it
        MockServer mock = MockServer.start(vertx, new MockServerOptions("127.0.0.1", 0,
                Map.of("inventory", HttpUrl.parse("http://inventory:8080")), Set.of(), 502, 1024,
                MockServerOptions.DEFAULT_LIVE_TIMEOUT, 32 * 1024), registry).await();
        String tp = register(new CaseMocks("c1", List.of(call("inventory", "GET", "/stock", "q=" + "a".repeat(20_000), null,
                json(200, "{\"n\":1}"))), matcher));
        String wire = exchange(mock, "GET /inventory/stock?q=" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: m\r\n"
                + "traceparent: " + tp + "\r\nX-Big: " + "b".repeat(20_000) + "\r\nConnection: close\r\n\r\n");
        assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n") && wire.endsWith("\r\n\r\n{\"n\":1}"), wire);
        assertTrue(exchange(mock, "GET /inventory/stock?q=" + "a".repeat(33_000) + " HTTP/1.1\r\nHost: m\r\n\r\n")
                .startsWith("HTTP/1.1 414 "));
    }

    @Test
    void aTraceOrOptionsInAbsoluteFormWithMaxForwardsZeroIsAnsweredAsTheEgressAnswersItAndIsNoCall() throws Exception {
        MockServer mock = start(502);
        CaseMocks mocks = new CaseMocks("c1", List.of(call("api.example.com:80", "GET", "/a", null, null, json(200, "{\"a\":1}")),
                call("inventory", "OPTIONS", "/stock/1", null, null, json(204, ""))), matcher);
        String tp = register(mocks);
        // the sidecar's egress answers these itself, as their final recipient (RFC 9110 7.6.2), and records no call:
        // before, the mock matched them against the recordings and reported an UNMATCHED_CALL
        try (Socket s = new Socket("127.0.0.1", mock.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("OPTIONS http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\n"
                    + "traceparent: " + tp + "\r\nMax-Forwards: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String options = readAnswer(s.getInputStream());
            assertTrue(options.startsWith("HTTP/1.1 200 OK\r\n"), options);
            assertTrue(options.contains("\r\nAllow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\n"), options);
            assertTrue(options.toLowerCase(java.util.Locale.ROOT).contains("\r\nx-tapline-mock: final-recipient\r\n"), options);
            assertTrue(options.contains("\r\ncontent-length: 0\r\n") && options.endsWith("\r\n\r\n"), options);
            // echoed without the lines that carry credentials; the last request on the connection, closed after
            s.getOutputStream().write(("TRACE http://api.example.com/a?q=1 HTTP/1.1\r\nHost: api.example.com\r\n"
                    + "traceparent: " + tp + "\r\nMax-Forwards: 00\r\nAuthorization: Bearer secret\r\nCookie: sid=1\r\n"
                    + "Proxy-Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String trace = readAnswer(s.getInputStream());
            assertTrue(trace.startsWith("HTTP/1.1 200 OK\r\n"), trace);
            String lower = trace.toLowerCase(java.util.Locale.ROOT);
            assertTrue(lower.contains("\r\ncontent-type: message/http\r\n") && lower.contains("\r\nconnection: close\r\n"), trace);
            assertTrue(trace.endsWith("\r\n\r\nTRACE http://api.example.com/a?q=1 HTTP/1.1\r\nHost: api.example.com\r\n"
                    + "traceparent: " + tp + "\r\nMax-Forwards: 00\r\nProxy-Connection: close\r\n\r\n"), trace);
            assertEquals(-1, s.getInputStream().read(), "closed after the answer");
        }
        // a named route's request is one to the dependency, which reads Max-Forwards: the egress forwarded and recorded
        // it, so it is matched; so is an absolute-form one with hops left (forwarded, decremented)
        String routed = exchange(mock, "OPTIONS /inventory/stock/1 HTTP/1.1\r\nHost: m\r\ntraceparent: " + tp
                + "\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n");
        assertTrue(routed.startsWith("HTTP/1.1 204 No Content\r\n"), routed);
        assertTrue(exchange(mock, "OPTIONS http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\ntraceparent: "
                + tp + "\r\nMax-Forwards: 1\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 502 "));
        assertEquals(1, mocks.usage().getMatched());
        assertEquals(1, mocks.usage().getUnmatched(), "the OPTIONS with a hop left, which the egress forwarded");
        assertEquals(List.of(), mocks.notes());
    }

    @Test
    void aFragmentInATargetIsReadAsTheSidecarsEgressRecordedItSoTheCallMatchesItsRecording() throws Exception {
        MockServer mock = start(502);
        // what the sidecar's egress records: a named route's target as the app sent it after the route name, fragment
        // included (in the path, or in the query when one comes before it), since it forwards that; an absolute-form
        // target without its fragment (HttpUrl drops it)
        CaseMocks mocks = new CaseMocks("c1", List.of(call("inventory", "GET", "/stock/1#f", null, null, json(200, "{\"n\":1}")),
                call("inventory", "GET", "/stock/2", "a=1#f", null, json(200, "{\"n\":2}")),
                call("api.example.com:80", "GET", "/x", null, null, json(200, "{\"n\":3}"))), matcher);
        String tp = register(mocks);
        String[][] calls = {{"/inventory/stock/1#f", "{\"n\":1}"}, {"/inventory/stock/2?a=1#f", "{\"n\":2}"},
                {"http://api.example.com/x#f", "{\"n\":3}"}};
        for (String[] c : calls) {
            String wire = exchange(mock, "GET " + c[0] + " HTTP/1.1\r\nHost: api.example.com\r\ntraceparent: " + tp
                    + "\r\nConnection: close\r\n\r\n");
            assertTrue(wire.startsWith("HTTP/1.1 200 OK\r\n") && wire.endsWith("\r\n\r\n" + c[1]), c[0] + ": " + wire);
        }
        assertEquals(3, mocks.usage().getMatched());
    }
}
