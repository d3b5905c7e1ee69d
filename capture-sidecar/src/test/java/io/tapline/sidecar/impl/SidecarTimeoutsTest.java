package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.connectThroughTunnel;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    static SidecarImpl sidecar;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        sidecar = SidecarImpl.start(options(origin).headerTimeout(HEADER).upstreamTimeout(UPSTREAM).idleTimeout(IDLE)
                        .tunnelIdleTimeout(TUNNEL_IDLE),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
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
}
