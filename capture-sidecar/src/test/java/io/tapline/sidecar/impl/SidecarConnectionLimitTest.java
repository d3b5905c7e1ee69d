package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static io.tapline.sidecar.impl.SidecarProxyTest.awaitMetric;
import static io.tapline.sidecar.impl.SidecarProxyTest.connect;
import static io.tapline.sidecar.impl.SidecarProxyTest.metric;
import static io.tapline.sidecar.impl.SidecarProxyTest.options;
import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The listeners' bound on open connections ({@code --proxy-max-connections}), shared by inbound and egress. */
@Timeout(60)
class SidecarConnectionLimitTest {

    TestOrigin origin;
    SidecarImpl sidecar;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        sidecar = SidecarImpl.start(options(origin).maxConnections(4),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
    }

    @AfterEach
    void stop() {
        sidecar.close();
        origin.close();
    }

    static String hello(Socket s, String path) throws IOException {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return readUntil(s.getInputStream(), "hello");
    }

    /** What the sidecar sends on a connection up to its closing it; a reset is a close too. */
    static String untilClosed(Socket s) throws IOException {
        s.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        try {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (SocketException reset) {
            return "";
        }
    }

    @Test
    void aConnectionPastTheBoundIsClosedAtOnceWhileTheOthersAreServed() throws Exception {
        // a bound of 4: the inbound listener holds at most 3, the egress listener the 4th
        try (Socket a = connect(sidecar.port()); Socket b = connect(sidecar.port()); Socket c = connect(sidecar.port())) {
            for (Socket s : List.of(a, b, c)) {
                assertTrue(hello(s, "/hello").startsWith("HTTP/1.1 200"));
            }
            try (Socket fourth = connect(sidecar.port())) {
                assertEquals("", untilClosed(fourth), "closed unanswered, as soon as accepted");
            }
            assertEquals(1, metric(sidecar, "tapline_sidecar_connections_refused_total{listener=\"inbound\"}"));
            try (Socket app = connect(sidecar.egressPort())) {
                assertTrue(hello(app, "/inv/hello").startsWith("HTTP/1.1 200"), "the app's calls keep a place of their own");
                try (Socket fifth = connect(sidecar.egressPort())) {
                    assertEquals("", untilClosed(fifth), "the egress listener's connections count with the inbound's");
                }
                assertEquals(1, metric(sidecar, "tapline_sidecar_connections_refused_total{listener=\"egress\"}"));
                assertEquals(4, metric(sidecar, "tapline_sidecar_max_connections"));
                assertEquals(4, metric(sidecar, "tapline_sidecar_connections"));
                assertTrue(hello(a, "/hello").startsWith("HTTP/1.1 200"), "the connections held are served on");
                assertTrue(hello(app, "/inv/hello").startsWith("HTTP/1.1 200"));
            }
            b.close();
            awaitMetric(sidecar, "tapline_sidecar_connections", 2);
            try (Socket next = connect(sidecar.port())) {
                assertTrue(hello(next, "/hello").startsWith("HTTP/1.1 200"), "a closed connection's place is taken again");
            }
        }
        awaitMetric(sidecar, "tapline_sidecar_connections", 0);
    }

    @Test
    void everyKindOfConnectionGivesItsPlaceBackWhenItEnds() throws Exception {
        try (SidecarImpl s = SidecarImpl.start(options(origin).maxConnections(1000)
                        .headerTimeout(java.time.Duration.ofMillis(300)),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
            for (int round = 0; round < 5; round++) {
                // HTTP/1.0, closed after its answer
                SidecarProxyTest.rawToClose(s.port(), "GET /hello HTTP/1.0\r\n\r\n");
                // a malformed head (400, closed)
                SidecarProxyTest.rawToClose(s.port(), "GARBAGE\r\n\r\n");
                // a head never sent (the head timeout closes it)
                try (Socket idle = connect(s.port())) {
                    idle.getInputStream().readAllBytes();
                } catch (SocketException reset) {
                    // closed
                }
                // closed by the client at once, and during a body
                connect(s.port()).close();
                try (Socket body = connect(s.port())) {
                    body.getOutputStream().write("POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"
                            .getBytes(StandardCharsets.US_ASCII));
                }
                // a WebSocket upgrade the app refuses, on both listeners
                for (int port : new int[] {s.port(), s.egressPort()}) {
                    try (Socket ws = connect(port)) {
                        ws.getOutputStream().write(("GET " + (port == s.port() ? "" : "/inv") + "/ws HTTP/1.1\r\nHost: x\r\n"
                                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        assertTrue(readUntil(ws.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 "));
                    }
                }
                // CONNECT tunnels: one to the app, closed by the client; one to a closed port (502)
                try (Socket tunnel = SidecarProxyTest.connectThroughTunnel(s.egressPort(), origin.port())) {
                    assertTrue(hello(tunnel, "/hello").startsWith("HTTP/1.1 200"));
                }
                SidecarProxyTest.rawToClose(s.egressPort(), "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                // the egress listener's keep-alive connection, closed by the app
                try (Socket app = connect(s.egressPort())) {
                    assertTrue(hello(app, "/inv/hello").startsWith("HTTP/1.1 200"));
                }
            }
            awaitMetric(s, "tapline_sidecar_connections", 0);
        }
    }

    @Test
    void theEgressListenerKeepsAPlaceUnderASmallBound() throws Exception {
        // a quarter of 2 or 3 is none: inbound connections took every place, and the app's calls through the egress
        // listener, which the inbound requests wait on, were refused
        for (int bound : new int[] {2, 3}) {
            try (SidecarImpl s = SidecarImpl.start(options(origin).maxConnections(bound),
                    new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO)) {
                java.util.List<Socket> held = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < bound - 1; i++) {
                        Socket c = connect(s.port());
                        held.add(c);
                        assertTrue(hello(c, "/hello").startsWith("HTTP/1.1 200"), "bound " + bound);
                    }
                    try (Socket past = connect(s.port())) {
                        assertEquals("", untilClosed(past), "bound " + bound + ": the last place is the egress listener's");
                    }
                    try (Socket app = connect(s.egressPort())) {
                        assertTrue(hello(app, "/inv/hello").startsWith("HTTP/1.1 200"), "bound " + bound);
                    }
                } finally {
                    for (Socket c : held) {
                        c.close();
                    }
                }
            }
        }
    }

    @Test
    void withoutTheEgressListenerTheInboundListenerHoldsTheWholeBound() throws Exception {
        try (SidecarImpl s = SidecarImpl.start(options(origin).maxConnections(2).noEgress(),
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
             Socket a = connect(s.port()); Socket b = connect(s.port())) {
            assertTrue(hello(a, "/hello").startsWith("HTTP/1.1 200"));
            assertTrue(hello(b, "/hello").startsWith("HTTP/1.1 200"));
        }
    }

    @Test
    void theDefaultBoundLeavesDescriptorsForTheAppAndTheManagementPort() {
        assertEquals(480, ConnectionLimit.fromDescriptors(1024));
        assertEquals(32736, ConnectionLimit.fromDescriptors(65536));
        assertEquals(1, ConnectionLimit.fromDescriptors(50), "a bound, however small the limit");
        assertEquals(Integer.MAX_VALUE, ConnectionLimit.fromDescriptors(-1), "none when the limit is not known");
    }

    @Test
    void aBoundFromATinyDescriptorLimitStillHasAPlaceForEachListener() {
        assertEquals(2, ConnectionLimit.bound(0, 50, true), "one for the inbound listener, one for the egress listener's");
        assertEquals(1, ConnectionLimit.bound(0, 50, false));
        assertEquals(480, ConnectionLimit.bound(0, 1024, true));
        assertEquals(7, ConnectionLimit.bound(7, 1024, true), "a bound given is taken as it is");
    }
}
