package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sidecar on two event loops: each keeps its own upstream connections. */
@Timeout(60)
class SidecarEventLoopsTest {

    static TestOrigin origin;
    static SidecarImpl sidecar;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        sidecar = SidecarImpl.start(options(origin).eventLoops(2),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        origin.close();
    }

    /**
     * While its only upstream connection is busy, an event loop opens another rather than borrow the idle one of the
     * other event loop: a borrowed connection's response would be read on that other loop and handed over to this
     * one. A pool shared by the loops lends it (the app would see two connections, not three).
     */
    @Test
    void shouldNotBorrowAnotherEventLoopsIdleUpstreamConnection() throws Exception {
        try (Socket onA = connect(sidecar.port()); Socket onB = connect(sidecar.port())) { // accepted round-robin
            assertTrue(get(onB, "/hello").startsWith("HTTP/1.1 200"));  // B's upstream connection, idle from now on
            send(onA, "/delay?ms=1000");                              // A's upstream connection, busy for a second
            awaitConnections(2);
            try (Socket onAAgain = connect(sidecar.port())) {
                assertTrue(get(onAAgain, "/hello").startsWith("HTTP/1.1 200"));
            }
            assertTrue(readUntil(onA.getInputStream(), "hello").startsWith("HTTP/1.1 200"));
        }
        assertEquals(3, origin.connectionPorts.size(), "upstream connections: " + origin.connectionPorts);
    }

    private static void send(Socket s, String path) throws IOException {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static String get(Socket s, String path) throws IOException {
        send(s, path);
        return readUntil(s.getInputStream(), "hello");
    }

    private static void awaitConnections(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (origin.connectionPorts.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, origin.connectionPorts.size(), "upstream connections: " + origin.connectionPorts);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // the test's own socket; nothing to report
        }
    }
}
