package io.tapline.sidecar.impl;

import io.tapline.avro.OutboundCall;
import io.tapline.avro.UnattributedCall;
import io.tapline.topics.TaplineTopics;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import io.tapline.logging.TaplineLogging;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.connectThroughTunnel;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listeners' own timeouts on real loopback sockets: request head (408), keep-alive idle, tunnel idle. Short
 * timeouts keep it fast; every wait below has at least half a second of slack either side of the timeout it tests.
 */
@Timeout(60)
class SidecarTimeoutsTest {

    static final Duration HEADER = Duration.ofMillis(300);
    static final Duration UPSTREAM = Duration.ofMillis(1000);
    static final Duration IDLE = Duration.ofMillis(1500);
    static final Duration TUNNEL_IDLE = Duration.ofMillis(3000);

    static TestOrigin origin;
    static MockProducer<String, byte[]> producer;
    static SidecarImpl sidecar;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        sidecar = SidecarImpl.start(options(origin).headerTimeout(HEADER).upstreamTimeout(UPSTREAM).idleTimeout(IDLE)
                        .tunnelIdleTimeout(TUNNEL_IDLE), producer, AVRO);
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        origin.close();
    }

    static void send(Socket s, String bytes) throws IOException {
        s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    /** Reads one response to {@code GET /hello} (TestOrigin answers "hello"). */
    static String hello(Socket s) throws IOException {
        return readUntil(s.getInputStream(), "hello");
    }

    /** The rest of what the sidecar sends, up to its closing the connection. */
    static String untilClosed(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    static double rejected408(String listener) {
        return metric(sidecar, "tapline_sidecar_rejected_total{listener=\"" + listener + "\",status=\"408\"}");
    }

    @Test
    void shouldAnswer408AndCloseWhenARequestHeadTrickles() throws Exception {
        origin.seen.clear();
        try (Socket s = connect(sidecar.port())) {
            send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n");
            // slowloris: one more header byte every 50 ms, never the blank line that ends the head
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (int k = 0; k < 100; k++) {
                        out.write('a');
                        out.flush();
                        Thread.sleep(50);
                    }
                } catch (IOException | InterruptedException closedBySidecar) {
                    // expected: the sidecar answered 408 and closed
                }
            });
            writer.start();
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 408"), head);
            assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), head);
            untilClosed(s);
            writer.join(10_000);
        }
        assertNull(origin.seen.poll(200, TimeUnit.MILLISECONDS), "nothing reached the app");
    }

    @Test
    void shouldAnswer408ToAConnectionThatNeverSendsAHeadOnEitherListener() throws Exception {
        for (String listener : new String[] {"inbound", "egress"}) {
            double before = rejected408(listener);
            try (Socket s = connect(listener.equals("inbound") ? sidecar.port() : sidecar.egressPort())) {
                String all = untilClosed(s);
                assertTrue(all.startsWith("HTTP/1.1 408 Request Timeout\r\n"), listener + ": " + all);
            }
            assertEquals(before + 1, rejected408(listener), listener + " counts it");
        }
    }

    @Test
    void shouldTimeALaterHeadFromItsFirstByteNotFromThePreviousResponse() throws Exception {
        try (Socket s = connect(sidecar.port())) {
            send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(hello(s).startsWith("HTTP/1.1 200"));
            // Quiet between requests for longer than the head timeout (but not the idle timeout): no timer runs then.
            Thread.sleep(HEADER.toMillis() + 500);
            send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(hello(s).startsWith("HTTP/1.1 200"), "a keep-alive connection is not cut between requests");
            // A head that starts and never ends is timed from its first byte.
            send(s, "GET /hello HTTP/1.1\r\n");
            String rest = untilClosed(s);
            assertTrue(rest.startsWith("HTTP/1.1 408"), rest);
        }
    }

    @Test
    void shouldCloseAnIdleKeepAliveConnectionSilently() throws Exception {
        try (Socket s = connect(sidecar.port())) {
            send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(hello(s).startsWith("HTTP/1.1 200"));
            assertEquals(-1, s.getInputStream().read(), "closed after the idle timeout, without a response");
        }
    }

    @Test
    void shouldLetARequestWaitingOnTheAppEndWithItsOwn504() throws Exception {
        // The head timer stops once the head is in, and the idle timeout outlasts the upstream timeout.
        try (Socket s = connect(sidecar.port())) {
            send(s, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 504"), head);
        }
    }

    @Test
    void shouldKeepAQuietTunnelPastTheListenerIdleTimeoutThenCloseIt() throws Exception {
        try (Socket s = connectThroughTunnel(sidecar.egressPort(), origin.port())) {
            s.setSoTimeout((int) TUNNEL_IDLE.toMillis() + 5000);
            // Longer than the listener's idle timeout, shorter than the tunnel's: the tunnel is still open.
            Thread.sleep(IDLE.toMillis() + 500);
            send(s, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            InputStream in = s.getInputStream();
            assertTrue(readUntil(in, "hello").startsWith("HTTP/1.1 200"), "bytes still flow through the tunnel");
            // Then nothing in either direction for the tunnel idle timeout: the sidecar closes it.
            assertEquals(-1, in.read(), "the idle tunnel is closed");
        }
    }

    @Test
    void shouldCountAnAnswerCutBecauseItsReaderStoppedReadingAsTheReadersDoingNotTheUpstreams() throws Exception {
        // A client that reads the head of a large answer and then nothing for the upstream timeout has the answer cut:
        // the app's bytes wait on the client, the app is fine. The cut was counted nowhere, and a dependency's call
        // cut so was recorded as "no progress on the upstream exchange", the dependency's doing.
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        try {
            readerStalls(sidecar.port(), "/download?n=200000000", "inbound");
            readerStalls(sidecar.egressPort(), "/inv/download?n=200000000", "egress");
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
        }
        // the dependency's call (unattributed: no inbound request was in flight) says who stalled
        List<OutboundCall> calls = awaitUnattributedCalls("/download");
        assertEquals(1, calls.size());
        assertEquals("response stream aborted: the app stopped reading the answer for " + UPSTREAM.toMillis() + " ms",
                calls.get(0).getError());
        // and so does the debug line, on each listener
        String log = logged.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("the client stopped reading the answer to GET /download for " + UPSTREAM.toMillis()
                + " ms: cut (the relay was waiting on the client, not on the app)"), log);
        assertTrue(log.contains("the app stopped reading the answer to GET /inv/download for " + UPSTREAM.toMillis()
                + " ms: cut (the relay was waiting on the app, not on the dependency)"), log);
        assertFalse(log.contains("upstream failure for GET"), log);
    }

    /** A client of {@code listener} reads the head of a large answer, then nothing: the answer is cut and counted so. */
    private static void readerStalls(int port, String target, String listener) throws Exception {
        String cut = "tapline_sidecar_client_read_timeouts_total{listener=\"" + listener + "\"}";
        String upstream504 = "tapline_sidecar_upstream_errors_total{listener=\"" + listener + "\",status=\"504\"}";
        // no request in flight nor in its grace period: an egress call is unattributed, no inbound request's
        SidecarProxyTest.awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
        SidecarProxyTest.awaitCapturesSettled(sidecar);
        double before = Math.max(0, metric(sidecar, cut));
        double before504 = metric(sidecar, upstream504);
        double beforeAborted = aborted(sidecar, listener);
        try (Socket s = connect(port)) {
            send(s, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            // the client holds its connection open and reads nothing more
            SidecarProxyTest.awaitMetric(sidecar, cut, before + 1);
        }
        assertEquals(before504, metric(sidecar, upstream504), "not an upstream failure: " + upstream504);
        assertEquals(beforeAborted, aborted(sidecar, listener), "not an upstream abort");
    }

    /** The unattributed calls published for {@code path}, once there is one (or after 10 s). */
    private static List<OutboundCall> awaitUnattributedCalls(String path) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<OutboundCall> calls = List.of();
        while (calls.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            calls = producer.history().stream().filter(r -> r.topic().equals(TaplineTopics.UNATTRIBUTED))
                    .map(r -> unattributedCall(r.value())).filter(c -> c.getRequest().getPath().equals(path)).toList();
        }
        return calls;
    }

    @Test
    void shouldNotCountAnUpstreamThatStopsMidBodyAsAStalledReader() throws Exception {
        // The other way round: the dependency sends part of its body and then nothing while the app reads on. That cut
        // is the dependency's doing, recorded and counted (upstream_aborted_total, reason timeout) as such, and no reader's.
        String cut = "tapline_sidecar_client_read_timeouts_total{listener=\"egress\"}";
        double before = Math.max(0, metric(sidecar, cut));
        double beforeTimeouts = Math.max(0, metric(sidecar, "tapline_sidecar_upstream_aborted_total{listener=\"egress\",reason=\"timeout\"}"));
        SidecarProxyTest.awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
        SidecarProxyTest.awaitCapturesSettled(sidecar);
        try (RawServer dependency = new RawServer(c -> {
            readUntil(c.getInputStream(), "\r\n\r\n");
            c.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            Thread.sleep(UPSTREAM.toMillis() + 3000);
        }); Socket s = connect(sidecar.egressPort())) {
            send(s, "GET http://127.0.0.1:" + dependency.port() + "/stops HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = readUntil(s.getInputStream(), "first");
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertThrows(java.net.SocketException.class, () -> untilClosed(s), "the body is cut (reset), not ended");
        }
        List<OutboundCall> calls = awaitUnattributedCalls("/stops");
        assertEquals(1, calls.size());
        assertEquals("response stream aborted: no progress on the upstream exchange for " + UPSTREAM.toMillis() + " ms",
                calls.get(0).getError());
        assertEquals(before, Math.max(0, metric(sidecar, cut)), cut);
        SidecarProxyTest.awaitMetric(sidecar, "tapline_sidecar_upstream_aborted_total{listener=\"egress\",reason=\"timeout\"}",
                beforeTimeouts + 1);
    }

    private static OutboundCall unattributedCall(byte[] value) {
        try {
            return new SpecificDatumReader<>(UnattributedCall.class).read(null, DecoderFactory.get().binaryDecoder(value, null)).getCall();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every {@code upstream_aborted_total} of {@code listener} on {@code s}, whatever its reason. */
    static double aborted(SidecarImpl s, String listener) {
        String prefix = "tapline_sidecar_upstream_aborted_total{listener=\"" + listener + "\",";
        return s.metrics().scrape().lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /**
     * An upstream answering {@code GET /NAME}: a head and {@code first}, then (once {@code headRead} says the client
     * has read them) {@code /closes} closes, {@code /resets} resets (SO_LINGER 0), {@code /unreadable} sends a chunk
     * size that is not hex, {@code /stalls} sends nothing more for the upstream timeout and more, and {@code /waits}
     * waits for the sidecar to close the connection.
     */
    private static RawServer breakingUpstream(java.util.concurrent.BlockingQueue<Object> headRead) throws IOException {
        return new RawServer(c -> {
            String request = readUntil(c.getInputStream(), "\r\n\r\n");
            String name = request.substring(request.indexOf('/'), request.indexOf(' ', request.indexOf('/')));
            name = name.substring(name.lastIndexOf('/'));
            OutputStream out = c.getOutputStream();
            out.write((name.equals("/unreadable") ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (name.equals("/stalls")) {
                Thread.sleep(UPSTREAM.toMillis() + 3000);
                return;
            }
            if (name.equals("/waits")) {
                c.setSoTimeout(10_000);
                c.getInputStream().readAllBytes();
                return;
            }
            headRead.poll(10, TimeUnit.SECONDS);
            switch (name) {
                case "/resets" -> c.setSoLinger(true, 0);
                case "/unreadable" -> out.write("zz\r\nmore\r\n".getBytes(StandardCharsets.US_ASCII));
                default -> { }
            }
            out.flush();
        });
    }

    @Test
    void shouldCountAnAnswerTheUpstreamBreaksOffAfterItsHeadReachedTheClientByHowItBroke() throws Exception {
        // The app (inbound) or a dependency (egress) sends a head and part of the body, then closes, resets, sends a
        // chunk that does not parse, or stalls past the upstream timeout. The client's connection is reset, and the
        // exchange recorded with its error, but before, no metric moved: upstream_errors_total counts the sidecar's
        // own 502s and 504s only.
        java.util.concurrent.BlockingQueue<Object> headRead = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer upstream = breakingUpstream(headRead);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + upstream.port())
                     .upstreamTimeout(UPSTREAM).idleTimeout(Duration.ofSeconds(30)),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (String listener : new String[] {"inbound", "egress"}) {
                for (String[] way : new String[][] {{"/closes", "closed"}, {"/resets", "reset"}, {"/unreadable", "unreadable"},
                        {"/stalls", "timeout"}}) {
                    String counter = "tapline_sidecar_upstream_aborted_total{listener=\"" + listener + "\",reason=\"" + way[1] + "\"}";
                    double before = aborted(s, listener);
                    double beforeErrors = upstreamErrors(s, listener);
                    try (Socket c = connect(listener.equals("inbound") ? s.port() : s.egressPort())) {
                        String target = listener.equals("inbound") ? way[0] : "http://127.0.0.1:" + upstream.port() + way[0];
                        send(c, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        String head = readUntil(c.getInputStream(), "first");
                        assertTrue(head.startsWith("HTTP/1.1 200"), listener + " " + way[0] + ": " + head);
                        headRead.add(way[0]);
                        assertTrue(cutShort(c, head.contains("chunked")), listener + " " + way[0] + ": the client sees a broken answer");
                    }
                    SidecarProxyTest.awaitMetric(s, counter, 1);
                    assertEquals(before + 1, aborted(s, listener), listener + " " + way[0] + " is counted once");
                    assertEquals(beforeErrors, upstreamErrors(s, listener), "no 502 or 504 of the sidecar's own");
                    headRead.clear();
                }
                assertEquals(-1, metric(s, "tapline_sidecar_client_read_timeouts_total{listener=\"" + listener + "\"}"));
                assertEquals(-1, metric(s, "tapline_sidecar_client_aborted_total{listener=\"" + listener + "\"}"));
            }
        }
    }

    @Test
    void shouldLogAnAnswerTheUpstreamBreaksOffWithTheUpstreamHowAndTheBytesWritten() throws Exception {
        // Before, such a cut moved upstream_aborted_total and wrote no line at all: the operator saw the metric rise and
        // nothing saying which request, which upstream, how it broke or how much of the answer had gone out. Now every
        // cut is a debug line naming the request; one by the app is also a warning, at most every 10 s and with no
        // path in it (a path can hold what redaction would take out), as the app not answering is; a dependency's cut
        // is the app's to report, and a client leaving is the client's business: debug only.
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.DEBUG);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        String[][] ways = {{"/closes", "closed"}, {"/resets", "reset"}, {"/unreadable", "unreadable"}, {"/stalls", "timeout"}};
        String path = "/orders/ann@example.com";
        String upstreamAddress;
        java.util.concurrent.BlockingQueue<Object> headRead = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer upstream = breakingUpstream(headRead);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + upstream.port())
                     .upstreamTimeout(UPSTREAM).idleTimeout(Duration.ofSeconds(30)),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            upstreamAddress = "127.0.0.1:" + upstream.port();
            for (String listener : new String[] {"inbound", "egress"}) {
                for (String[] way : ways) {
                    try (Socket c = connect(listener.equals("inbound") ? s.port() : s.egressPort())) {
                        String target = (listener.equals("inbound") ? "" : "http://" + upstreamAddress) + path + way[0];
                        send(c, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        String head = readUntil(c.getInputStream(), "first");
                        assertTrue(head.startsWith("HTTP/1.1 200"), listener + " " + way[0] + ": " + head);
                        headRead.add(way[0]);
                        assertTrue(cutShort(c, head.contains("chunked")), listener + " " + way[0] + ": the client sees a broken answer");
                    }
                    SidecarProxyTest.awaitMetric(s, "tapline_sidecar_upstream_aborted_total{listener=\"" + listener
                            + "\",reason=\"" + way[1] + "\"}", 1);
                    headRead.clear();
                }
            }
            try (Socket c = connect(s.port())) {
                send(c, "GET " + path + "/waits HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(readUntil(c.getInputStream(), "first").startsWith("HTTP/1.1 200"));
            }
            SidecarProxyTest.awaitMetric(s, "tapline_sidecar_client_aborted_total{listener=\"inbound\"}", 1);
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<com.fasterxml.jackson.databind.JsonNode> lines = new java.util.ArrayList<>();
        for (String line : logged.toString(StandardCharsets.UTF_8).split("\n")) {
            com.fasterxml.jackson.databind.JsonNode node = json.readTree(line);
            if (node.get("logger").asText().equals(ProxyEngine.class.getName())) {
                lines.add(node);
            }
        }
        // one warning, for the app's first cut: the three after it within 10 s are counted in the next one
        List<com.fasterxml.jackson.databind.JsonNode> warnings = lines.stream().filter(l -> l.get("level").asText().equals("WARN")).toList();
        assertEquals(1, warnings.size(), lines.toString());
        com.fasterxml.jackson.databind.JsonNode warning = warnings.get(0);
        assertEquals("the app " + upstreamAddress + " broke off its answer to a GET request (closed) after 5 byte(s) of its"
                + " body were written to the client, whose connection was reset", warning.get("message").asText());
        assertEquals("inbound", warning.get("listener").asText());
        assertEquals("GET", warning.get("method").asText());
        assertEquals(upstreamAddress, warning.get("upstream").asText());
        assertEquals("closed", warning.get("reason").asText());
        assertEquals(5, warning.get("bytes").asLong());
        assertEquals(0, warning.get("suppressed").asLong());
        assertFalse(warning.toString().contains("ann@example.com"), warning.toString());
        // every cut at debug, naming the request
        List<String> expected = new java.util.ArrayList<>();
        for (String[] way : ways) {
            expected.add("the app " + upstreamAddress + " broke off its answer to GET " + path + way[0] + " (" + way[1]
                    + ") after 5 byte(s) of its body were written to the client: cut");
        }
        for (String[] way : ways) {
            expected.add("a dependency " + upstreamAddress + " broke off its answer to GET " + path + way[0] + " (" + way[1]
                    + ") after 5 byte(s) of its body were written to the app: cut");
        }
        List<com.fasterxml.jackson.databind.JsonNode> cuts = lines.stream()
                .filter(l -> l.get("level").asText().equals("DEBUG") && l.get("message").asText().contains(" broke off ")).toList();
        assertEquals(expected, cuts.stream().map(l -> l.get("message").asText()).toList());
        com.fasterxml.jackson.databind.JsonNode dependencyCut = cuts.get(ways.length + 1);
        assertEquals("egress", dependencyCut.get("listener").asText());
        assertEquals("GET", dependencyCut.get("method").asText());
        assertEquals(upstreamAddress, dependencyCut.get("upstream").asText());
        assertEquals("reset", dependencyCut.get("reason").asText());
        assertEquals(5, dependencyCut.get("bytes").asLong());
        // the client leaving: a debug line, no warning
        assertEquals(List.of("the client left while the answer to GET " + path + "/waits was relayed, 5 byte(s) of its"
                        + " body written: cut"),
                lines.stream().map(l -> l.get("message").asText()).filter(m -> m.contains(" left while ")).toList());
    }

    /**
     * The app's cuts after a warning and within the interval are held back, and the next warning, the first cut past
     * the interval, counts them in its text and its {@code suppressed} field; the interval then starts again from that
     * warning. Timed by a clock the test moves ({@link SidecarImpl#start(SidecarOptions, org.apache.kafka.clients.producer.Producer,
     * org.apache.kafka.common.serialization.Serializer, java.util.function.LongSupplier)}): with the system clock the
     * held-back count was never seen by a test, which would have had to wait the 10 s out.
     */
    @Test
    void shouldCountTheAppsCutsHeldBackWithinTheWarningIntervalInTheNextWarning() throws Exception {
        long interval = ProxyEngine.FAILURE_WARNING_INTERVAL_NANOS;
        long start = 1_000_000_000L;
        // the first cut warns; the two within the interval are held back; the one at its end warns, counting them; the
        // one a second later is within the interval that warning began, and the next warning, at its end, counts it alone
        long[] cutAt = {start, start + TimeUnit.SECONDS.toNanos(1), start + interval - 1, start + interval,
                start + interval + TimeUnit.SECONDS.toNanos(1), start + 2 * interval};
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(start);
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.JSON, Level.INFO);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        String upstreamAddress;
        java.util.concurrent.BlockingQueue<Object> headRead = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer upstream = breakingUpstream(headRead);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + upstream.port())
                     .upstreamTimeout(UPSTREAM).idleTimeout(Duration.ofSeconds(30)),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO, clock::get)) {
            upstreamAddress = "127.0.0.1:" + upstream.port();
            for (int i = 0; i < cutAt.length; i++) {
                clock.set(cutAt[i]);
                try (Socket c = connect(s.port())) {
                    send(c, "GET /orders/closes HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertTrue(readUntil(c.getInputStream(), "first").startsWith("HTTP/1.1 200"), "cut " + i);
                    headRead.add(i);
                    assertTrue(cutShort(c, false), "cut " + i + ": the client sees a broken answer");
                }
                SidecarProxyTest.awaitMetric(s, "tapline_sidecar_upstream_aborted_total{listener=\"inbound\",reason=\"closed\"}",
                        i + 1);
                headRead.clear();
            }
        } finally {
            TaplineLogging.flush(Duration.ofSeconds(10));
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            TaplineLogging.output(System.err);
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<com.fasterxml.jackson.databind.JsonNode> warnings = new java.util.ArrayList<>();
        for (String line : logged.toString(StandardCharsets.UTF_8).split("\n")) {
            com.fasterxml.jackson.databind.JsonNode node = json.readTree(line);
            if (node.get("logger").asText().equals(ProxyEngine.class.getName()) && node.get("level").asText().equals("WARN")) {
                warnings.add(node);
            }
        }
        String cut = "the app " + upstreamAddress + " broke off its answer to a GET request (closed) after 5 byte(s) of its"
                + " body were written to the client, whose connection was reset";
        assertEquals(List.of(cut, cut + " (and 2 more answers broken off since the last warning)",
                        cut + " (and 1 more answer broken off since the last warning)"),
                warnings.stream().map(w -> w.get("message").asText()).toList());
        assertEquals(List.of(0L, 2L, 1L), warnings.stream().map(w -> w.get("suppressed").asLong()).toList());
    }

    @Test
    void shouldCountAClientThatLeavesMidBodyAsTheClientsDoingNotTheUpstreams() throws Exception {
        // The other side of the same cut: the client (on the egress listener, the app) closes its connection after the
        // head; the upstream is fine. Before, that was counted nowhere either.
        java.util.concurrent.BlockingQueue<Object> headRead = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer upstream = breakingUpstream(headRead);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + upstream.port())
                     .upstreamTimeout(Duration.ofSeconds(10)).idleTimeout(Duration.ofSeconds(30)),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (String listener : new String[] {"inbound", "egress"}) {
                String counter = "tapline_sidecar_client_aborted_total{listener=\"" + listener + "\"}";
                for (boolean reset : new boolean[] {false, true}) {
                    double before = Math.max(0, metric(s, counter));
                    try (Socket c = connect(listener.equals("inbound") ? s.port() : s.egressPort())) {
                        String target = listener.equals("inbound") ? "/waits" : "http://127.0.0.1:" + upstream.port() + "/waits";
                        send(c, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        assertTrue(readUntil(c.getInputStream(), "first").startsWith("HTTP/1.1 200"));
                        if (reset) {
                            c.setSoLinger(true, 0);
                        }
                    }
                    SidecarProxyTest.awaitMetric(s, counter, before + 1);
                }
                SidecarProxyTest.awaitMetric(s, "tapline_sidecar_in_flight_requests", 0);
                assertEquals(0, aborted(s, listener), "not the upstream's doing");
                assertEquals(0, Math.max(0, upstreamErrors(s, listener)));
            }
        }
    }

    @Test
    void shouldLetGoOfAConnectionAtOnceWhenItsAnswerIsCutWhileItsClientReadsNothing() throws Exception {
        // A client that stopped reading (its receive window full, the sidecar's send buffer full behind it) has its
        // answer cut after the upstream timeout. Vert.x's reset on HTTP/1.x closes the connection only once what is
        // queued for it is written, which this client never lets happen: before, the sidecar held the connection
        // (its place under --proxy-max-connections, its buffers) until the idle timeout, 30 s here, for good with 0;
        // the kernel then held the socket, its send buffer still full, in FIN-WAIT-1 (still there 45 s later, measured),
        // and the client read megabytes of the cut answer before seeing it end. On each transport: SO_LINGER is set on
        // a Java socket (NIO) or a native one (epoll, where Netty ships it).
        for (boolean nativeTransport : new boolean[] {false, true}) {
            lettingGoOfACutConnection(nativeTransport);
        }
    }

    private static void lettingGoOfACutConnection(boolean nativeTransport) throws Exception {
        try (SidecarImpl s = SidecarImpl.start(options(origin).upstreamTimeout(UPSTREAM).idleTimeout(Duration.ofSeconds(30))
                        .nativeTransport(nativeTransport),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (String listener : new String[] {"inbound", "egress"}) {
                String cut = "tapline_sidecar_client_read_timeouts_total{listener=\"" + listener + "\"}";
                double before = Math.max(0, metric(s, cut));
                int port = listener.equals("inbound") ? s.port() : s.egressPort();
                try (Socket c = connect(port)) {
                    send(c, "GET " + (listener.equals("inbound") ? "" : "/inv") + "/download?n=200000000 HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertTrue(readUntil(c.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
                    SidecarProxyTest.awaitMetric(s, cut, before + 1);
                    // the sidecar's side is let go of at once: its connection, and the kernel's socket
                    SidecarProxyTest.awaitMetric(s, "tapline_sidecar_connections", 0);
                    assertFalse(socketHeld(port, c.getLocalPort()), s.transport() + " " + listener + ": the kernel still holds the sidecar's socket");
                    // and the client, reading again, sees the answer reset, not megabytes of it and then a plain end
                    assertThrows(java.net.SocketException.class, () -> drain(c), s.transport() + " " + listener + ": reads to a plain end");
                }
            }
        }
    }

    @Test
    void shouldResetAnHttp10ClientsAnswerWithoutALengthWhenTheUpstreamBreaksItOff() throws Exception {
        // An HTTP/1.0 client's answer of unknown length ends when its connection closes: closed with a plain end,
        // the part relayed read as the whole body. The cut is a reset.
        java.util.concurrent.BlockingQueue<Object> headRead = new java.util.concurrent.LinkedBlockingQueue<>();
        try (RawServer upstream = breakingUpstream(headRead);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + upstream.port())
                     .upstreamTimeout(UPSTREAM).idleTimeout(Duration.ofSeconds(30)),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (String listener : new String[] {"inbound", "egress"}) {
                try (Socket c = connect(listener.equals("inbound") ? s.port() : s.egressPort())) {
                    String target = listener.equals("inbound") ? "/unreadable" : "http://127.0.0.1:" + upstream.port() + "/unreadable";
                    send(c, "GET " + target + " HTTP/1.0\r\nHost: x\r\n\r\n");
                    String head = readUntil(c.getInputStream(), "first");
                    assertTrue(head.startsWith("HTTP/1.0 200") && !head.toLowerCase(java.util.Locale.ROOT).contains("content-length"), head);
                    headRead.add(listener);
                    assertThrows(java.net.SocketException.class, () -> drain(c), listener + ": the answer ends as if whole");
                }
                headRead.clear();
            }
        }
    }

    /**
     * Whether the client reading {@code c} on sees a broken answer: a reset, or the connection closed (a chunked
     * answer then lacks its last chunk; one with a Content-Length, its remaining bytes). Read up to 64 MB: a client
     * is not meant to have to read more than what was in flight.
     */
    private static boolean cutShort(Socket c, boolean chunked) throws IOException {
        byte[] buf = new byte[65536];
        long total = 0;
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        try {
            InputStream in = c.getInputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > 64L << 20) {
                    return false;
                }
                if (n > 0 && total < 4096) {
                    tail.write(buf, 0, n);
                }
            }
        } catch (java.net.SocketException reset) {
            return true;
        }
        String rest = tail.toString(StandardCharsets.ISO_8859_1);
        return chunked ? !rest.endsWith("0\r\n\r\n") : rest.length() < 95;
    }

    /** Reads {@code c} to its end: how many bytes came. */
    private static long drain(Socket c) throws IOException {
        byte[] buf = new byte[65536];
        long total = 0;
        for (int n; (n = c.getInputStream().read(buf)) >= 0; ) {
            total += n;
        }
        return total;
    }

    /** Whether the kernel holds a TCP socket from local port {@code port} to {@code peerPort} (/proc/net/tcp*). */
    private static boolean socketHeld(int port, int peerPort) throws IOException {
        String local = String.format(":%04X ", port);
        String remote = String.format(":%04X ", peerPort);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            java.nio.file.Path p = java.nio.file.Path.of(table);
            if (java.nio.file.Files.exists(p)) {
                for (String line : java.nio.file.Files.readAllLines(p)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 2 && (f[1] + " ").endsWith(local) && (f[2] + " ").endsWith(remote)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static double upstreamErrors(SidecarImpl s, String listener) {
        String prefix = "tapline_sidecar_upstream_errors_total{listener=\"" + listener + "\",";
        return s.metrics().scrape().lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
