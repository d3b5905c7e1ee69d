package io.tapline.sidecar.impl;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Who may switch capture through the management port: without a token, a loopback peer only (a client in the pod:
 * {@code kubectl exec}, {@code kubectl port-forward}); with one, whoever carries it. The sidecar's management port is
 * bound to every interface and reached through one of this machine's non-loopback addresses, so the peer the server
 * sees is that address, as a pod's neighbour would be.
 */
@Timeout(60)
class CaptureSwitchAccessTest {

    static TestOrigin origin;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        origin.close();
    }

    @Test
    void withoutATokenTheSwitchIsRefusedToAnotherAddressAndTakenFromLoopback() throws Exception {
        InetAddress other = nonLoopbackAddress();
        try (SidecarImpl s = startOnEveryInterface(other, null)) {
            HttpResponse<String> refused = post(other, s.managementPort(), "/capture/off", null);
            assertEquals(403, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("--management-token") && refused.body().contains("TAPLINE_MANAGEMENT_TOKEN"),
                    "the refusal says how to allow it: " + refused.body());
            assertEquals(1.0, SidecarProxyTest.metric(s, "tapline_sidecar_capture_enabled"), "switched from " + other);
            HttpResponse<String> state = send(HttpRequest.newBuilder(uri(other, s.managementPort(), "/capture")).GET());
            assertEquals(200, state.statusCode(), "reading the state stays open");
            assertEquals("capture on\n", state.body());
            assertEquals(200, send(HttpRequest.newBuilder(uri(other, s.managementPort(), "/ready")).GET()).statusCode());

            HttpResponse<String> local = post(InetAddress.getLoopbackAddress(), s.managementPort(), "/capture/off", null);
            assertEquals(200, local.statusCode(), local.body());
            assertEquals(0.0, SidecarProxyTest.metric(s, "tapline_sidecar_capture_enabled"));
        }
    }

    @Test
    void withATokenTheSwitchIsTakenFromAnotherAddressThatCarriesIt() throws Exception {
        InetAddress other = nonLoopbackAddress();
        try (SidecarImpl s = startOnEveryInterface(other, "switch-token-123")) {
            assertEquals(401, post(other, s.managementPort(), "/capture/off", null).statusCode());
            assertEquals(1.0, SidecarProxyTest.metric(s, "tapline_sidecar_capture_enabled"), "switched without the token");
            HttpResponse<String> right = post(other, s.managementPort(), "/capture/off", "switch-token-123");
            assertEquals(200, right.statusCode(), right.body());
            assertEquals(0.0, SidecarProxyTest.metric(s, "tapline_sidecar_capture_enabled"));
        }
    }

    /** A sidecar whose management port listens on every interface of {@code other}'s family. */
    private static SidecarImpl startOnEveryInterface(InetAddress other, String token) throws Exception {
        // a producer of its own: closing the sidecar closes it
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        String everywhere = other instanceof Inet6Address ? "::" : "0.0.0.0";
        return SidecarImpl.start(SidecarProxyTest.options(origin).management(everywhere, 0).managementToken(token),
                producer, SidecarProxyTest.AVRO);
    }

    private static HttpResponse<String> post(InetAddress to, int port, String path, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(to, port, path)).POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return send(b);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(InetAddress to, int port, String path) {
        String host = to instanceof Inet6Address ? "[" + to.getHostAddress().replaceAll("%.*", "") + "]" : to.getHostAddress();
        return URI.create("http://" + host + ":" + port + path);
    }

    /**
     * An address of this machine that is not loopback (an IPv4 one if there is one; no link-local IPv6, which needs a
     * scope in a URL): connecting to it, the server sees it as the peer. The test is skipped on a machine with none.
     */
    static InetAddress nonLoopbackAddress() throws SocketException {
        Optional<InetAddress> found = NetworkInterface.networkInterfaces()
                .filter(CaptureSwitchAccessTest::usable)
                .flatMap(NetworkInterface::inetAddresses)
                .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress())
                .min(Comparator.comparing(a -> a instanceof Inet4Address ? 0 : 1));
        assumeTrue(found.isPresent(), "this machine has no non-loopback address to reach the management port from");
        return found.get();
    }

    private static boolean usable(NetworkInterface nif) {
        try {
            return nif.isUp() && !nif.isLoopback();
        } catch (SocketException e) {
            return false;
        }
    }
}
