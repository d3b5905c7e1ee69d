package io.tapline.sidecar.impl;

import io.tapline.ops.ExpositionCheck;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sidecar's counters, scraped from the management port's {@code /metrics}, add up as the README's metrics section
 * says: every request a listener proxied ends in exactly one outcome, every captured interaction is published or
 * dropped for one reason, and the gauges of work in progress are back at 0 once the sidecar is idle.
 */
@Timeout(120)
class SidecarMetricsLedgerTest {

    /** Not captured at all: a request counted in one of these is never in {@code captured_total}. */
    private static final List<String> NOT_CAPTURED = List.of("capture_off", "sampled_out", "route_cap", "in_flight_full",
            "memory_full");
    /** Captured, then not published. */
    private static final List<String> CAPTURED_THEN_DROPPED = List.of("client_closed", "no_app_response", "capture_memory",
            "queue_full", "serialization", "producer_error", "broker_unavailable", "assembly", "shutdown");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void everyInboundRequestEndsInExactlyOneOutcome() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).captureMaxBodyBytes(16).maxRequestBodyBytes(1000)
                     .outboundGrace(Duration.ofMillis(20)), producer, AVRO)) {
            origin.egressPort = s.egressPort();
            assertEquals(200, get(s, "/hello").statusCode());
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base(s) + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("a body longer than the capture cap")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), "a body over the capture cap");
            // refused by the proxy from the head: no capture decision was taken
            assertTrue(raw(s.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n").startsWith("HTTP/1.1 400"));
            assertTrue(raw(s.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").startsWith("HTTP/1.1 413"));
            assertTrue(raw(s.port(), "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").startsWith("HTTP/1.1 400"));
            assertTrue(raw(s.port(), "NOT HTTP AT ALL\r\n\r\n").startsWith("HTTP/1.1 400"));
            // a chunked upload over the limit: refused during the exchange, after the capture decision
            assertTrue(raw(s.port(), "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "7d0\r\n" + "x".repeat(2000) + "\r\n0\r\n\r\n").startsWith("HTTP/1.1 413"));
            // a WebSocket upgrade (the test origin refuses it): tunneled uncaptured
            raw(s.port(), "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            // a client that leaves mid-response
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write("GET /download?n=50000000 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = c.getInputStream();
                in.readNBytes(100_000);
            }
            // capture switched off at runtime, then on again
            manage(s, "/capture/off");
            assertEquals(200, get(s, "/hello").statusCode());
            manage(s, "/capture/on");
            assertEquals(200, get(s, "/hello").statusCode());

            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "capture_off"));
            assertEquals(1, l.value("tapline_sidecar_websocket_upgrades_total", "listener", "inbound"));
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "no_app_response"), "the 413");
            assertEquals(4, l.value("tapline_sidecar_published_total"), "two /hello, the /echo, the aborted download");
            l.assertReconciles();
        }
        // An app that does not answer, on a sidecar of its own: its upstream timeout is short for the test to be quick,
        // and a request meant to be answered would be cut by it too whenever the machine stalls that long (a /hello
        // got a 504 on a busy machine when the requests above shared it).
        MockProducer<String, byte[]> another = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).upstreamTimeout(Duration.ofMillis(300))
                     .outboundGrace(Duration.ofMillis(20)), another, AVRO)) {
            assertEquals(504, get(s, "/slow").statusCode(), "an app that does not answer");
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "no_app_response"), "the 504");
            l.assertReconciles();
        }
    }

    @Test
    void requestsSampledOutByRateOrRouteCapAreCountedOnce() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).samplingRatePercent(0).outboundGrace(Duration.ofMillis(20)),
                     producer, AVRO)) {
            origin.egressPort = s.egressPort();
            assertEquals(200, get(s, "/hello").statusCode());
            assertEquals(200, get(s, "/call?marker=a", "X-Propagate", "yes").statusCode());
            Ledger l = awaitIdle(s);
            assertEquals(2, l.value("tapline_sidecar_dropped_total", "reason", "sampled_out"));
            assertEquals(1, l.value("tapline_sidecar_outbound_sampled_out_total"));
            l.assertReconciles();
        }
        MockProducer<String, byte[]> another = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).routeCap("GET /hello", 0.001).outboundGrace(Duration.ofMillis(20)),
                     another, AVRO)) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, get(s, "/hello").statusCode());
            }
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_captured_total"));
            assertEquals(2, l.value("tapline_sidecar_dropped_total", "reason", "route_cap"));
            l.assertReconciles();
        }
    }

    @Test
    void outboundCallsAreAttachedPublishedOnTheirOwnOrCountedLate() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(50)), producer, AVRO)) {
            origin.egressPort = s.egressPort();
            assertEquals(200, get(s, "/call?marker=a", "X-Propagate", "yes").statusCode(), "attributed by trace context");
            // The /call is in flight until the sidecar's exchange ends, a moment after the client read the last byte of
            // its answer: a call starting before then is the only request's (sole_in_flight), as a call the app makes
            // while its answer is still relayed is. The call below is meant for no request in flight: wait until the
            // sidecar counts the /call ended (and published).
            awaitIdle(s);
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/items"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "a call no request is in flight for");
            // a tunnel opened while a request is the only one in flight, closed after that request's grace period: the
            // app holds the request until the tunnel is open (a /delay could end first on a busy machine, and the
            // tunnel was then no request's)
            java.util.concurrent.CompletableFuture<HttpResponse<String>> sole = http.sendAsync(
                    HttpRequest.newBuilder(URI.create(base(s) + "/hold")).build(), HttpResponse.BodyHandlers.ofString());
            origin.awaitHeads(4); // the /call, its dependency call, the call on its own, and this one
            try (Socket c = connect(s.egressPort())) {
                c.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(readUntil(c.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
                origin.release();
                assertEquals(200, sole.get(10, TimeUnit.SECONDS).statusCode());
                awaitIdle(s);
            }
            // a call carrying the trace of a request published already: no interaction claims it any more
            String trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            assertEquals(200, get(s, "/hello", "traceparent", trace).statusCode());
            awaitIdle(s);
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.egressPort() + "/inv/items"))
                    .header("traceparent", trace).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            // a CONNECT tunnel with no request in flight, one the target refuses, and one with no port
            try (Socket c = connect(s.egressPort())) {
                c.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertTrue(readUntil(c.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            }
            assertTrue(raw(s.egressPort(), "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 502"));
            assertTrue(raw(s.egressPort(), "CONNECT 127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 400"));
            assertTrue(raw(s.egressPort(), "GET /nosuchroute/x HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 404"));
            // a WebSocket upgrade to a dependency (which refuses it): tunneled uncaptured
            raw(s.egressPort(), "GET /inv/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_outbound_calls_total", "attribution", "trace_context"));
            assertEquals(1, l.value("tapline_sidecar_outbound_calls_total", "attribution", "sole_in_flight"));
            assertEquals(1, l.value("tapline_sidecar_outbound_late_total"), "the tunnel closed after the grace period");
            assertEquals(1, l.value("tapline_sidecar_outbound_attached_total"), "the /call's call");
            assertEquals(1, l.value("tapline_sidecar_websocket_upgrades_total", "listener", "egress"));
            assertEquals(4, l.value("tapline_sidecar_outbound_calls_total", "attribution", "unattributed"));
            l.assertReconciles();
        }
    }

    @Test
    void capturesTheQueueOrTheBrokerCannotTakeAreCountedAsDropped() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).captureQueueMaxBytes(1).outboundGrace(Duration.ofMillis(20)),
                     producer, AVRO)) {
            assertEquals(200, get(s, "/hello").statusCode());
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "queue_full"));
            l.assertReconciles();
        }
        MockProducer<String, byte[]> unreachable = new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(20)), unreachable, AVRO)) {
            assertEquals(200, get(s, "/hello").statusCode());
            assertEquals(200, get(s, "/hello").statusCode());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int failed = 0;
            while (failed < 2 && System.nanoTime() < deadline) {
                if (unreachable.errorNext(new TimeoutException("broker unreachable"))) {
                    failed++;
                } else {
                    Thread.sleep(10);
                }
            }
            Ledger l = awaitIdle(s);
            assertEquals(2, l.value("tapline_sidecar_dropped_total", "reason", "producer_error"));
            l.assertReconciles();
        }
    }

    @Test
    void aSendTheClosedProducerRefusesIsAProducerErrorNotAnAssemblyFailure() throws Exception {
        // Kafka's producer throws IllegalStateException from send() once closed: what a publisher thread stuck in the
        // registry meets when it wakes after the stop closed the producer
        MockProducer<String, byte[]> closedProducer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        closedProducer.close();
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(20)), closedProducer, AVRO)) {
            assertEquals(200, get(s, "/hello").statusCode());
            Ledger l = awaitIdle(s);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (l.reasons("tapline_sidecar_dropped_total", CAPTURED_THEN_DROPPED) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                l = scrape(s);
            }
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "producer_error"), l.toString());
            assertEquals(0, l.value("tapline_sidecar_dropped_total", "reason", "assembly"));
            l.assertReconciles();
        }
    }

    @Test
    void requestsBeyondTheCaptureBoundsAreCountedOnce() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        // one interaction pending at most; room for one captured body of 1 KiB, not two
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).captureMaxPending(1).captureMaxBodyBytes(1024)
                     .captureMaxMemoryBytes(1024).outboundGrace(Duration.ofMillis(20)), producer, AVRO);
             Socket upload = connect(s.port())) {
            upload.getOutputStream().write(("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n"
                    + "x".repeat(1500) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            upload.getOutputStream().flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (scrape(s).value("tapline_sidecar_capture_memory_bytes") < 1024 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(200, get(s, "/hello").statusCode(), "the capture memory is full");
            assertEquals(1, scrape(s).value("tapline_sidecar_dropped_total", "reason", "memory_full"));
            upload.getOutputStream().write(("5dc\r\n" + "x".repeat(1500) + "\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            upload.getOutputStream().flush();
            assertTrue(readUntil(upload.getInputStream(), "x".repeat(3000)).startsWith("HTTP/1.1 200"));
            awaitIdle(s);
            // two at once: the second finds the one pending place taken (the first is held by the app until then)
            java.util.concurrent.CompletableFuture<HttpResponse<String>> first = http.sendAsync(
                    HttpRequest.newBuilder(URI.create(base(s) + "/hold")).build(), HttpResponse.BodyHandlers.ofString());
            origin.awaitHeads(3);
            assertEquals(200, get(s, "/hello").statusCode());
            origin.release();
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "capture_memory"), "the upload");
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "in_flight_full"));
            l.assertReconciles();
        }
    }

    @Test
    void aClientThatLeavesBeforeTheAnswerIsCountedOnce() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofMillis(20)), producer, AVRO)) {
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                origin.awaitHeads(1);
            }
            // a body read before connecting (the request buffer), left halfway
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "y".repeat(10))
                        .getBytes(StandardCharsets.US_ASCII));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (scrape(s).value("tapline_sidecar_request_buffer_bytes", "listener", "inbound") == 0
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
            }
            Ledger l = awaitIdle(s);
            assertEquals(2, l.value("tapline_sidecar_dropped_total", "reason", "client_closed"));
            l.assertReconciles();
        }
    }

    @Test
    void aRequestSentAgainAfterAStaleAppConnectionIsCountedOnce() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        try (TestOrigin origin = new TestOrigin();
             SidecarStaleConnectionTest.App app = new SidecarStaleConnectionTest.App(SidecarStaleConnectionTest.Fate.ANSWER,
                     SidecarStaleConnectionTest.Fate.CLOSE);
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + app.port()).eventLoops(1)
                     .outboundGrace(Duration.ofMillis(20)), producer, AVRO)) {
            assertEquals(200, get(s, "/a").statusCode());
            assertEquals(200, get(s, "/b").statusCode(), "sent again on a new connection");
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_upstream_retries_total", "listener", "inbound", "reason", "closed"));
            assertEquals(2, l.value("tapline_sidecar_published_total"));
            assertEquals(0, l.sum("tapline_sidecar_upstream_errors_total", x -> true));
            l.assertReconciles();
        }
    }

    @Test
    void anAppThatFailsIsCountedAsNoAppResponse() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        TestOrigin dead = new TestOrigin();
        int closed = dead.port();
        dead.close();
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl s = SidecarImpl.start(options(origin).app("http://127.0.0.1:" + closed)
                     .outboundGrace(Duration.ofMillis(20)), producer, AVRO)) {
            assertEquals(502, get(s, "/hello").statusCode());
            Ledger l = awaitIdle(s);
            assertEquals(1, l.value("tapline_sidecar_dropped_total", "reason", "no_app_response"));
            l.assertReconciles();
        }
    }

    @Test
    void whatIsQueuedAtShutdownIsPublishedOrCounted() throws Exception {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        SidecarImpl s;
        try (TestOrigin origin = new TestOrigin()) {
            s = SidecarImpl.start(options(origin).outboundGrace(Duration.ofSeconds(60))
                    .upstreamTimeout(Duration.ZERO).idleTimeout(Duration.ZERO).drainTimeout(Duration.ofMillis(200)), producer, AVRO);
            for (int i = 0; i < 3; i++) {
                assertEquals(200, get(s, "/hello").statusCode());
            }
            assertEquals(3, scrape(s).value("tapline_sidecar_pending_interactions"), "held for their grace period");
            // and one the app never answers, still in flight when the drain timeout ends
            try (Socket c = connect(s.port())) {
                c.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                origin.awaitHeads(4);
                s.close();
            }
        }
        // the management port is closed with the sidecar: its registry is what the last scrape would have read
        Ledger l = new Ledger(ExpositionCheck.check(s.metrics().scrape()));
        assertEquals(3, l.value("tapline_sidecar_published_total"), l.toString());
        assertEquals(4, l.value("tapline_sidecar_captured_total"));
        l.assertReconciles();
    }

    // ------------------------------------------------------------------ helpers

    private static String base(SidecarImpl s) {
        return "http://127.0.0.1:" + s.port();
    }

    private HttpResponse<String> get(SidecarImpl s, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(s) + path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void manage(SidecarImpl s, String path) throws Exception {
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.managementPort() + path))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    /** Sends {@code request} as it is and reads the answer's head. */
    private static String raw(int port, String request) throws IOException {
        try (Socket c = connect(port)) {
            c.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            c.getOutputStream().flush();
            return readUntil(c.getInputStream(), "\r\n\r\n");
        }
    }

    private Ledger scrape(SidecarImpl s) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.managementPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return new Ledger(ExpositionCheck.check(r.body()));
    }

    /**
     * Scrapes {@code /metrics} until no request, interaction or queued capture is left in progress and every capture
     * has its outcome counted (10 s at most).
     */
    private Ledger awaitIdle(SidecarImpl s) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Ledger l = scrape(s);
        while (!l.idle() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            l = scrape(s);
        }
        Ledger last = l;
        assertTrue(last.idle(), () -> "still busy: " + last);
        return last;
    }

    /** One scrape, read as the README's accounting identities. */
    private record Ledger(ExpositionCheck check) {

        double value(String name, String... labels) {
            return sum(name, labels.length == 0 ? x -> x.isEmpty() : x -> {
                for (int i = 0; i < labels.length; i += 2) {
                    if (!labels[i + 1].equals(x.get(labels[i]))) {
                        return false;
                    }
                }
                return true;
            });
        }

        double sum(String name, Predicate<Map<String, String>> labels) {
            return check.samples().stream().filter(x -> x.name().equals(name) && labels.test(x.labels()))
                    .mapToDouble(ExpositionCheck.Sample::value).sum();
        }

        double reasons(String name, List<String> reasons) {
            return sum(name, x -> reasons.contains(x.get("reason")));
        }

        /**
         * Nothing in flight, pending or queued, and no capture memory held: the publisher gives an interaction's
         * memory back after publishing it, a moment after the registry forgot it (then pending_interactions is 0).
         * And every capture and unattributed call has its outcome counted: the counters are not changed together with
         * the gauges, so a scrape can fall between them (an interaction dropped as client_closed or no_app_response
         * is let go by the registry and the capture memory a moment before its drop is counted; one published is
         * counted when the producer acknowledges it).
         */
        boolean idle() {
            return value("tapline_sidecar_in_flight_requests") == 0 && value("tapline_sidecar_pending_interactions") == 0
                    && value("tapline_sidecar_queue_items") == 0 && value("tapline_sidecar_capture_memory_bytes") == 0
                    && value("tapline_sidecar_captured_total") == value("tapline_sidecar_published_total")
                            + reasons("tapline_sidecar_dropped_total", CAPTURED_THEN_DROPPED)
                    && value("tapline_sidecar_outbound_calls_total", "attribution", "unattributed")
                            == value("tapline_sidecar_unattributed_published_total")
                            + sum("tapline_sidecar_unattributed_dropped_total", x -> true);
        }

        void assertReconciles() {
            assertEquals(0, value("tapline_sidecar_queue_items"), "queue items when idle");
            assertEquals(0, value("tapline_sidecar_queue_bytes"), "queue bytes when idle");
            assertEquals(0, value("tapline_sidecar_capture_memory_bytes"), "capture memory when idle");
            assertEquals(0, value("tapline_sidecar_pending_interactions"), "pending interactions when idle");
            assertEquals(0, value("tapline_sidecar_in_flight_requests"), "requests in flight when idle");
            assertEquals(0, value("tapline_sidecar_request_buffer_bytes", "listener", "inbound"), "request bodies held when idle");
            assertEquals(value("tapline_sidecar_proxied_total", "listener", "inbound"),
                    value("tapline_sidecar_captured_total") + reasons("tapline_sidecar_dropped_total", NOT_CAPTURED)
                            + value("tapline_sidecar_websocket_upgrades_total", "listener", "inbound"),
                    () -> "inbound requests proxied = captured + not captured + WebSocket upgrades\n" + this);
            assertEquals(value("tapline_sidecar_captured_total"),
                    value("tapline_sidecar_published_total") + reasons("tapline_sidecar_dropped_total", CAPTURED_THEN_DROPPED),
                    () -> "captured = published + captured then dropped\n" + this);
            assertEquals(value("tapline_sidecar_proxied_total", "listener", "egress"),
                    sum("tapline_sidecar_outbound_calls_total", x -> true) + value("tapline_sidecar_outbound_sampled_out_total")
                            + value("tapline_sidecar_websocket_upgrades_total", "listener", "egress"),
                    () -> "egress requests proxied = outbound calls by attribution + sampled out + WebSocket upgrades\n" + this);
            assertEquals(value("tapline_sidecar_outbound_calls_total", "attribution", "unattributed"),
                    value("tapline_sidecar_unattributed_published_total")
                            + sum("tapline_sidecar_unattributed_dropped_total", x -> true),
                    () -> "unattributed calls = published on their own + dropped\n" + this);
            assertEquals(value("tapline_sidecar_outbound_calls_total", "attribution", "trace_context")
                            + value("tapline_sidecar_outbound_calls_total", "attribution", "sole_in_flight"),
                    value("tapline_sidecar_outbound_attached_total") + value("tapline_sidecar_outbound_over_limit_total")
                            + value("tapline_sidecar_outbound_late_total"),
                    () -> "attributed calls = attached + over the limit + late\n" + this);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            check.samples().stream().filter(x -> x.name().startsWith("tapline_sidecar_") && x.value() != 0
                    && !x.name().contains("_seconds")).forEach(x -> b.append(x.name()).append(x.labels()).append(' ')
                    .append(x.value()).append('\n'));
            return b.toString();
        }
    }
}
