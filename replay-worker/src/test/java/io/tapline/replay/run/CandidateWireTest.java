package io.tapline.replay.run;

import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import io.tapline.http.HttpUrl;
import io.tapline.redaction.RedactionKey;
import io.tapline.replay.Fixtures;
import io.tapline.replay.compare.CompareOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.compare.ResponseComparator;
import io.tapline.replay.mock.MockMatcher;
import io.tapline.replay.mock.MockRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bytes a candidate receives for a recorded request, read by a raw socket server, against what the recording says
 * production's app received (the sidecar forwards a request's end-to-end headers, its framing and its target's bytes).
 */
@Timeout(60)
class CandidateWireTest {

    private static final String TRACEPARENT = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";

    private Vertx vertx;
    private RawCandidate candidate;
    private CandidateClient client;

    @BeforeEach
    void start() throws IOException {
        vertx = Vertx.vertx();
        candidate = new RawCandidate();
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port()), 1, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        candidate.close();
        vertx.close().await();
    }

    @Test
    void repeatedHeadersKeepTheirLinesNameCaseAndOrderAndTheRecordedTraceparentIsReplacedOnce() throws Exception {
        HttpRequest r = Fixtures.request("GET", "shop.example.com", "/a", "x=1", null);
        r.setHeaders(List.of(h("X-Dup", "1"), h("x-MiXeD", "m"), h("traceparent", "00-" + "f".repeat(32) + "-"
                        + "e".repeat(16) + "-01"), h("X-Dup", "2"), h("Cookie", "a=1"), h("TraceParent", "00-"
                        + "1".repeat(32) + "-" + "e".repeat(16) + "-01"), h("tracestate", "v=1"), h("Cookie", "b=2")));
        assertEquals(List.of("X-Dup: 1", "x-MiXeD: m", "X-Dup: 2", "Cookie: a=1", "Cookie: b=2", "traceparent: " + TRACEPARENT),
                fieldLines(received(r), "host"));
    }

    @Test
    void theTargetAndHeaderValuesGoAsTheBytesProductionSent() throws Exception {
        // recorded as text: a raw UTF-8 target as the text its bytes spell, a header's obs-text one character per byte
        String e = String.valueOf((char) 0xE9);
        HttpRequest utf8 = Fixtures.request("GET", "x", "/caf" + e, "q=" + e, null);
        utf8.setHeaders(List.of(h("X-Name", "caf" + e)));
        String sent = received(utf8);
        assertEquals("GET /caf" + utf8("%C3%A9") + "?q=" + utf8("%C3%A9") + " HTTP/1.1", requestLine(sent));
        assertEquals(List.of("X-Name: caf" + e), fieldLines(sent, "host", "traceparent"));
        assertEquals("GET /a%2Fb+c;p=1?q=a+b%20c&r=%E9&&s HTTP/1.1",
                requestLine(received(Fixtures.request("GET", "x", "/a%2Fb+c;p=1", "q=a+b%20c&r=%E9&&s", null))));
    }

    @Test
    void theCandidateGetsItsOwnHostAndACandidateHeaderHostReplacesIt() throws Exception {
        HttpRequest r = Fixtures.request("GET", "shop.example.com", "/a", null, null);
        r.setHeaders(List.of(h("Host", "shop.example.com")));
        assertEquals(List.of("host: 127.0.0.1:" + candidate.port()), fieldLines(received(r), "traceparent"));
        client.close();
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port()), 1, Duration.ofSeconds(5),
                Map.of("Host", "shop.example.com"));
        assertEquals(List.of("Host: shop.example.com"), fieldLines(received(r), "traceparent"));
        // as given, a port that is the scheme's default included (Vert.x's client writes its own Host without one)
        client.close();
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port()), 1, Duration.ofSeconds(5),
                Map.of("Host", "Shop.example.com:80"));
        assertEquals(List.of("Host: Shop.example.com:80"), fieldLines(received(r), "traceparent"));
    }

    @Test
    void anEmptyQueryIsSentAsRecorded() throws Exception {
        assertEquals("GET /a? HTTP/1.1", requestLine(received(Fixtures.request("GET", "x", "/a", "", null))));
        assertEquals("GET /a HTTP/1.1", requestLine(received(Fixtures.request("GET", "x", "/a", null, null))));
    }

    @Test
    void theAsteriskFormIsSentAsItIsUnderATargetWithABasePath() throws Exception {
        client.close();
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port() + "/api"), 1,
                Duration.ofSeconds(5));
        assertEquals("OPTIONS * HTTP/1.1", requestLine(received(Fixtures.request("OPTIONS", "x", "*", null, null))));
        assertEquals("HEAD /api/h HTTP/1.1", requestLine(received(Fixtures.request("HEAD", "x", "/h", null, null))));
    }

    @Test
    void hopByHopHeadersAreNotSentNorTheOnesTheRecordedConnectionNames() throws Exception {
        // the sidecar forwarded none of them to the app, and answered Expect: 100-continue itself
        HttpRequest r = Fixtures.request("PUT", "x", "/hop", null, "{}");
        r.setHeaders(List.of(h("Connection", "keep-alive, x-hop, TE"), h("Keep-Alive", "timeout=5"), h("TE", "deflate"),
                h("Upgrade", "h2c"), h("Proxy-Connection", "keep-alive"), h("X-Hop", "1"), h("Proxy-Authorization", "Basic YTpi"),
                h("Trailer", "X-Sum"), h("Expect", "100-continue"), h("Content-Length", "2"), h("X-End", "kept")));
        assertEquals(List.of("X-End: kept", "content-length: 2"), fieldLines(received(r), "host", "traceparent"));
    }

    @Test
    void theBodyIsFramedAsProductionsAppReceivedItWithTheLengthOfWhatIsSent() throws Exception {
        HttpRequest chunked = Fixtures.request("POST", "x", "/up", null, "{\"a\":1}");
        chunked.setHeaders(List.of(h("Transfer-Encoding", "chunked")));
        assertEquals(List.of("transfer-encoding: chunked"), fieldLines(received(chunked), "host", "traceparent"));
        HttpRequest emptyChunked = Fixtures.request("POST", "x", "/up", null, null);
        emptyChunked.setHeaders(List.of(h("Transfer-Encoding", "chunked")));
        String sent = received(emptyChunked);
        assertEquals(List.of("transfer-encoding: chunked"), fieldLines(sent, "host", "traceparent"));
        assertTrue(sent.endsWith("\r\n\r\n0\r\n\r\n"), sent);
        HttpRequest emptyWithLength = Fixtures.request("POST", "x", "/empty", null, null);
        emptyWithLength.setHeaders(List.of(h("Content-Length", "0")));
        assertEquals(List.of("content-length: 0"), fieldLines(received(emptyWithLength), "host", "traceparent"));
        // a gzip upload the sidecar stored decoded: the recorded length is the compressed body's, not what is sent
        HttpRequest decoded = Fixtures.request("POST", "x", "/gz", null, "{\"a\":1}");
        decoded.setHeaders(List.of(h("Content-Encoding", "gzip"), h("Content-Length", "27")));
        sent = received(decoded);
        assertEquals(List.of("content-length: 7"), fieldLines(sent, "host", "traceparent"));
        assertTrue(sent.endsWith("\r\n\r\n{\"a\":1}"), sent);
        HttpRequest getWithBody = Fixtures.request("GET", "x", "/q", null, "{\"q\":1}");
        getWithBody.setHeaders(List.of(h("Content-Length", "7")));
        assertEquals(List.of("content-length: 7"), fieldLines(received(getWithBody), "host", "traceparent"));
        assertEquals(List.of(), fieldLines(received(Fixtures.request("POST", "x", "/none", null, null)), "host", "traceparent"));
    }

    @Test
    void aCandidateHeaderDoesNotReframeTheBody() throws Exception {
        // the framing is the recording's: a --candidate-header Content-Length or Transfer-Encoding would announce a body
        // other than the one sent (the candidate waiting for bytes that never come, or reading the body as chunks)
        client.close();
        client = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + candidate.port()), 1, Duration.ofSeconds(5),
                Map.of("Content-Length", "99", "Transfer-Encoding", "chunked", "X-Test", "1"));
        HttpRequest withLength = Fixtures.request("POST", "x", "/up", null, "{\"a\":1}");
        withLength.setHeaders(List.of(h("Content-Length", "7")));
        String sent = received(withLength);
        assertEquals(List.of("X-Test: 1", "content-length: 7"), fieldLines(sent, "host", "traceparent"));
        assertTrue(sent.endsWith("\r\n\r\n{\"a\":1}"), sent);
        assertEquals(List.of("X-Test: 1"), fieldLines(received(Fixtures.request("GET", "x", "/none", null, null)),
                "host", "traceparent"));
        HttpRequest chunked = Fixtures.request("POST", "x", "/up", null, "{\"a\":1}");
        chunked.setHeaders(List.of(h("Transfer-Encoding", "chunked")));
        assertEquals(List.of("X-Test: 1", "transfer-encoding: chunked"), fieldLines(received(chunked), "host", "traceparent"));
    }

    @Test
    void aRecordedTeThatAcceptsTrailersIsSentAsTeTrailersAsTheSidecarForwardedIt() throws Exception {
        HttpRequest r = Fixtures.request("GET", "x", "/te", null, null);
        r.setHeaders(List.of(h("Connection", "TE"), h("TE", "deflate, Trailers"), h("X-End", "kept")));
        assertEquals(List.of("X-End: kept", "TE: trailers"), fieldLines(received(r), "host", "traceparent"));
    }

    @Test
    void aRequestRecordedWithItsBodyTruncatedIsSkippedAndNotSent() throws Exception {
        HttpRequest cut = Fixtures.request("POST", "x", "/orders", null, "{\"sku\":");
        cut.setTruncated(true);
        cut.setOriginalSize(200_000);
        CaseReplayer replayer = new CaseReplayer("r", "w", client, new MockRegistry(), new MockMatcher(0.6),
                new ResponseComparator(CompareOptions.defaults(), IgnoreRules.none()),
                ResultRedaction.of(RedactionKey.random()), Clock.systemUTC());
        ReplayResult r = replayer.replay(Fixtures.caseOf("c1", cut, Fixtures.json(200, "{}"), List.of(), 1))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(Verdict.SKIPPED, r.getVerdict());
        assertTrue(r.getError().startsWith("request body was truncated at capture (200000 bytes)"), r.getError());
        assertNull(candidate.requests.poll(500, TimeUnit.MILLISECONDS), "the candidate received a request");
    }

    private static Header h(String name, String value) {
        return new Header(name, value);
    }

    /** Percent-encoded bytes as text, one character per byte, as {@link #received} shows them. */
    private static String utf8(String percentEncoded) {
        return new String(java.net.URLDecoder.decode(percentEncoded, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1);
    }

    private static String requestLine(String request) {
        return request.substring(0, request.indexOf("\r\n"));
    }

    /** The head's field lines in order, without those named in {@code except} (any case). */
    private static List<String> fieldLines(String request, String... except) {
        List<String> out = new ArrayList<>();
        String head = request.substring(request.indexOf("\r\n") + 2, request.indexOf("\r\n\r\n") + 2);
        for (String line : head.split("\r\n")) {
            String name = line.substring(0, line.indexOf(':'));
            if (Arrays.stream(except).noneMatch(name::equalsIgnoreCase)) {
                out.add(line);
            }
        }
        return out;
    }

    /** The bytes the candidate received for {@code recorded}, one character per byte. */
    private String received(HttpRequest recorded) throws Exception {
        client.send(recorded, TRACEPARENT).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        byte[] got = candidate.requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(got, "no request received");
        return new String(got, StandardCharsets.ISO_8859_1);
    }

    /** A candidate that records each request's bytes as received, answers 200 with no body and closes. */
    private static final class RawCandidate implements AutoCloseable {
        final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();
        private final ServerSocket listener;
        private final Thread acceptor;

        RawCandidate() throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(this::acceptAll, "raw-candidate");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void acceptAll() {
            while (!listener.isClosed()) {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(5000);
                    requests.add(readRequest(s.getInputStream(), s.getOutputStream()));
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // closed, or a client that went away: nothing recorded
                }
            }
        }

        /** One request: its head, then the body its framing announces (Content-Length or chunked), as read. */
        private static byte[] readRequest(InputStream in, OutputStream out) throws IOException {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            String head = readUntil(in, raw, "\r\n\r\n");
            String lower = head.toLowerCase(Locale.ROOT);
            if (lower.contains("\r\nexpect: 100-continue")) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            if (lower.contains("\r\ntransfer-encoding: chunked")) {
                while (true) {
                    String size = readUntil(in, raw, "\r\n");
                    int n = Integer.parseInt(size.substring(0, size.length() - 2).split(";")[0].trim(), 16);
                    if (n == 0) {
                        readUntil(in, raw, "\r\n"); // no trailers expected
                        break;
                    }
                    raw.write(in.readNBytes(n + 2));
                }
            } else {
                int at = lower.indexOf("\r\ncontent-length:");
                if (at >= 0) {
                    int end = lower.indexOf("\r\n", at + 2);
                    raw.write(in.readNBytes(Integer.parseInt(head.substring(at + 17, end).trim())));
                }
            }
            return raw.toByteArray();
        }

        private static String readUntil(InputStream in, ByteArrayOutputStream raw, String end) throws IOException {
            StringBuilder sb = new StringBuilder();
            while (!sb.toString().endsWith(end)) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed after " + sb);
                }
                raw.write(b);
                sb.append((char) b);
            }
            return sb.toString();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
