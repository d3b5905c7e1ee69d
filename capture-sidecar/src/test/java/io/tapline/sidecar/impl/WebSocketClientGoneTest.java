package io.tapline.sidecar.impl;

import io.tapline.logging.TaplineLogging;
import io.tapline.sidecar.SidecarOptions;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitMetric;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A WebSocket client that leaves as the app answers its handshake is routine: the app's side is freed, the client's
 * leaving is counted as any other answer's client leaving, and nothing is logged above debug.
 *
 * <p>The race is made deterministic by holding the sidecar's only event loop while the client closes its connection
 * and the app answers: the loop then reads the client's end first, which closes the channel at once while Vert.x
 * hears of the close only in a later task, and the app's answer in the same pass, written to a connection already
 * closed. Before, a refusal relayed then failed its write, the pipe ended the response, and its next step threw
 * {@code IllegalStateException: Response has already been written} on the event loop, logged by Vert.x at ERROR.
 */
@Timeout(60)
class WebSocketClientGoneTest {

    private static final String HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    private static final String REFUSAL = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden";
    private static final String SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    private static final int ROUNDS = 5;

    /** The app's side of each connection the sidecar opens, driven by the test. */
    private final BlockingQueue<Socket> appConnections = new LinkedBlockingQueue<>();
    private final CountDownLatch testOver = new CountDownLatch(1);
    private RawServer app;
    private SidecarProxyTest.CapturedLog log;
    private SidecarImpl sidecar;

    @BeforeEach
    void start() throws Exception {
        app = new RawServer(c -> {
            appConnections.put(c);
            testOver.await(60, TimeUnit.SECONDS);
        });
        log = new SidecarProxyTest.CapturedLog();
        // at debug every line is written: at info a library's line is written once per 30 s, so another test's
        // would hide this one's
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.DEBUG);
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        sidecar = SidecarImpl.start(new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0)
                .management("127.0.0.1", 0).app("http://127.0.0.1:" + app.port()).service("shop").instance("test-1")
                .redactionKey("test-key-0123456789abcdef").upstreamTimeout(Duration.ofSeconds(30)).eventLoops(1),
                producer, AVRO);
    }

    @AfterEach
    void stop() throws Exception {
        testOver.countDown();
        try {
            sidecar.close();
        } finally {
            TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
            log.close();
            app.close();
        }
    }

    /**
     * The race the class is about. Which the held loop reads first is up to the kernel: in most rounds the client's end
     * (the race), in some the app's answer, relayed whole before the sidecar hears of the end (an answer delivered, its
     * app connection kept in the pool). A round of the race frees the app's connection and counts the client's leaving.
     */
    @Test
    void shouldFreeTheAppAndLogNoErrorWhenTheClientLeavesAsTheAppRefusesTheUpgrade() throws Exception {
        int rounds = 12;
        int closed = 0;
        for (int k = 0; k < rounds; k++) {
            try (Socket client = connect(sidecar.port())) {
                Socket appSide = handshake(client);
                leaveAsTheAppWrites(client, appSide, REFUSAL);
                closed += closedBySidecar(appSide, 1000) ? 1 : 0;
            }
        }
        assertNothingAboveInfo();
        awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
        assertTrue(closed > 0, "no round hit the race");
        // each client that left as its refusal came is counted, and its app connection closed
        awaitMetric(sidecar, "tapline_sidecar_client_aborted_total{listener=\"inbound\"}", closed);
    }

    @Test
    void shouldFreeTheAppAndLogNoErrorWhenTheClientLeavesWhileTheRefusalsBodyStreams() throws Exception {
        int stillOpen = 0;
        for (int k = 0; k < ROUNDS; k++) {
            try (Socket client = connect(sidecar.port())) {
                Socket appSide = handshake(client);
                write(appSide, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nfirst");
                String head = readUntil(client.getInputStream(), "first");
                assertTrue(head.startsWith("HTTP/1.1 403"), head);
                leaveAsTheAppWrites(client, appSide, "second");
                stillOpen += closedBySidecar(appSide, 5000) ? 0 : 1;
            }
        }
        assertNothingAboveInfo();
        assertEquals(0, stillOpen, "app connections the sidecar kept open 5 s after their client left");
        awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
        awaitMetric(sidecar, "tapline_sidecar_client_aborted_total{listener=\"inbound\"}", ROUNDS);
    }

    @Test
    void shouldCloseTheAppsUpgradedConnectionAndLogNoErrorWhenTheClientLeavesAsTheAppAnswers101() throws Exception {
        int stillOpen = 0;
        for (int k = 0; k < ROUNDS; k++) {
            try (Socket client = connect(sidecar.port())) {
                Socket appSide = handshake(client);
                leaveAsTheAppWrites(client, appSide, SWITCHING);
                stillOpen += closedBySidecar(appSide, 5000) ? 0 : 1;
            }
        }
        assertNothingAboveInfo();
        assertEquals(0, stillOpen, "app connections the sidecar kept open 5 s after their client left");
        awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
    }

    @Test
    void shouldFreeTheAppWithoutBlamingItWhenTheClientLeavesBeforeTheHandshakeIsAnswered() throws Exception {
        int stillOpen = 0;
        for (int k = 0; k < ROUNDS; k++) {
            try (Socket client = connect(sidecar.port())) {
                Socket appSide = handshake(client);
                client.close();
                stillOpen += closedBySidecar(appSide, 5000) ? 0 : 1;
            }
        }
        assertNothingAboveInfo();
        assertEquals(0, stillOpen, "app connections the sidecar kept open 5 s after their client left");
        awaitMetric(sidecar, "tapline_sidecar_in_flight_requests", 0);
        String scrape = sidecar.metrics().scrape();
        assertFalse(scrape.contains("tapline_sidecar_upstream_errors_total{listener=\"inbound\""), scrape);
        // nothing of an answer was cut: the client left before there was one
        assertTrue(metric(sidecar, "tapline_sidecar_client_aborted_total{listener=\"inbound\"}") <= 0, scrape);
    }

    /** Sends the handshake on {@code client} and returns the app's side of it, once the app has read it whole. */
    private Socket handshake(Socket client) throws Exception {
        client.getOutputStream().write(HANDSHAKE.getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        Socket appSide = appConnections.poll(10, TimeUnit.SECONDS);
        assertNotNull(appSide, "the handshake did not reach the app");
        String head = readUntil(appSide.getInputStream(), "\r\n\r\n");
        assertTrue(head.startsWith("GET /ws HTTP/1.1"), head);
        return appSide;
    }

    /**
     * The client closes its connection and then the app writes {@code bytes}, while the sidecar's event loop is held:
     * the loop reads both in its next pass, the client's end first unless the kernel hands over the app's bytes first.
     */
    private void leaveAsTheAppWrites(Socket client, Socket appSide, String bytes) throws Exception {
        Runnable release = holdEventLoop();
        client.close();
        Thread.sleep(20); // the client's end reaches the sidecar first, then the app's bytes
        write(appSide, bytes);
        Thread.sleep(20);
        release.run();
    }

    private static void write(Socket s, String bytes) throws IOException {
        s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    /**
     * Holds the sidecar's only event loop (it runs one: {@code eventLoops(1)}) until the returned release is run, and
     * returns once it is held: whatever reaches the sidecar meanwhile is read in the loop's next pass, in the order it
     * came.
     */
    private Runnable holdEventLoop() throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        sidecar.vertx().getOrCreateContext().runOnContext(v -> {
            held.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(held.await(10, TimeUnit.SECONDS), "the event loop was not held");
        return release::countDown;
    }

    /** Whether the sidecar closes (or resets) the app's side of a connection within {@code timeoutMs}. */
    private static boolean closedBySidecar(Socket appSide, int timeoutMs) throws IOException {
        appSide.setSoTimeout(timeoutMs);
        InputStream in = appSide.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever the sidecar sent before closing
            }
            return true;
        } catch (java.net.SocketTimeoutException timeout) {
            return false;
        } catch (IOException reset) {
            return true; // closed by a reset: as good as a FIN
        }
    }

    private void assertNothingAboveInfo() {
        String text = log.text();
        List<String> loud = text.lines().filter(l -> l.contains(" ERROR ") || l.contains(" WARN ")).toList();
        assertEquals(List.of(), loud, text);
    }
}
