package io.tapline.sidecar.impl;

import io.tapline.config.ConfigException;
import io.tapline.config.TaplineConfig;
import io.tapline.sidecar.SidecarOptions;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static io.tapline.sidecar.impl.SidecarProxyTest.AVRO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ports the listeners get. Port 0 is a free port, bound by the first event loop's server and shared by the others
 * (Vert.x's shared random port), so no port is let go of between being chosen and being bound; the inbound and
 * egress listeners never get the same one (Vert.x would then share one server between them, and each connection would
 * reach either listener: an app's dependency call proxied to the app, a client's request answered 404 as an unknown
 * egress route), and each is served by every event loop.
 *
 * <p>Another process taking a port between the sidecar choosing it and binding it is {@link ListenerPortRaceTest}'s
 * case: these start many sidecars alone and check what each must get.
 */
@Timeout(120)
class ListenerPortsTest {

    static final int EVENT_LOOPS = 2;

    static Vertx vertx;
    /** The app (inbound listener's upstream) and a dependency (the egress route {@code dep}), each answering its name. */
    static HttpServer app;
    static HttpServer dependency;
    /** The client ports of the connections each saw: one per upstream connection the sidecar opened to it. */
    static final Set<Integer> appConnections = ConcurrentHashMap.newKeySet();
    static final Set<Integer> dependencyConnections = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void startUpstreams() throws Exception {
        vertx = Vertx.vertx();
        app = vertx.createHttpServer().requestHandler(r -> {
            appConnections.add(r.remoteAddress().port());
            r.response().end("app");
        }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        dependency = vertx.createHttpServer().requestHandler(r -> {
            dependencyConnections.add(r.remoteAddress().port());
            r.response().end("dependency");
        }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stopUpstreams() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    static SidecarOptions options(int port, int egressPort) {
        return new SidecarOptions().listen("127.0.0.1", port).egressListen("127.0.0.1", egressPort).management("127.0.0.1", 0)
                .app("http://127.0.0.1:" + app.actualPort()).addEgress("dep", "http://127.0.0.1:" + dependency.actualPort())
                .redactionKey("test-key-0123456789abcdef").eventLoops(EVENT_LOOPS);
    }

    static SidecarImpl start(SidecarOptions o) throws Exception {
        return SidecarImpl.start(o, new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), AVRO);
    }

    @Test
    void listenersOnPortZeroGetTwoPortsServedByEveryEventLoop() throws Exception {
        for (int i = 0; i < 50; i++) {
            appConnections.clear();
            dependencyConnections.clear();
            SidecarImpl sidecar = start(options(0, 0));
            try {
                assertTrue(sidecar.port() > 0 && sidecar.egressPort() > 0, sidecar.port() + ", " + sidecar.egressPort());
                assertNotEquals(sidecar.port(), sidecar.egressPort(), "both listeners were handed one port");
                // a connection each, one after the other: accepted round-robin, so each event loop gets some, and
                // each event loop keeps its own upstream connection, which the next request on that loop reuses
                for (int c = 0; c < 2 * EVENT_LOOPS; c++) {
                    assertEquals("app", body(sidecar.port(), "/x"), "a connection to the inbound listener, start " + i);
                    assertEquals("dependency", body(sidecar.egressPort(), "/dep/x"), "a connection to the egress listener, start " + i);
                }
                assertEquals(EVENT_LOOPS, appConnections.size(), "event loops serving the inbound listener, start " + i);
                assertEquals(EVENT_LOOPS, dependencyConnections.size(), "event loops serving the egress listener, start " + i);
            } finally {
                sidecar.close();
            }
        }
    }

    @Test
    void aListenerOnPortZeroIsNeverHandedThePortTheOtherNames() throws Exception {
        for (int i = 0; i < 10; i++) {
            int named = justLetGoOf();
            SidecarImpl sidecar = start(options(named, 0));
            try {
                assertEquals(named, sidecar.port());
                assertNotEquals(named, sidecar.egressPort(), "the egress listener was handed the inbound listener's port");
                assertEquals("app", body(sidecar.port(), "/x"));
                assertEquals("dependency", body(sidecar.egressPort(), "/dep/x"));
            } finally {
                sidecar.close();
            }
            named = justLetGoOf();
            sidecar = start(options(0, named));
            try {
                assertEquals(named, sidecar.egressPort());
                assertNotEquals(named, sidecar.port(), "the inbound listener was handed the egress listener's port");
                assertEquals("app", body(sidecar.port(), "/x"));
                assertEquals("dependency", body(sidecar.egressPort(), "/dep/x"));
            } finally {
                sidecar.close();
            }
        }
    }

    @Test
    void anEgressListenerSwitchedOffHasNoPort() throws Exception {
        SidecarImpl sidecar = start(options(0, 0).noEgress());
        try {
            assertEquals(-1, sidecar.egressPort());
            assertEquals("app", body(sidecar.port(), "/x"));
        } finally {
            sidecar.close();
        }
    }

    /**
     * A listener on port 0 that cannot be opened says that a free port of its host was asked for and why none could
     * be had, naming its option as one on a named port does: it said "cannot listen on 192.0.2.1:0 (--listen): Cannot
     * assign requested address", a port nobody could look for, and left the operator to find out that the host was
     * the value to change. The management port 0 too, which named no option at all.
     */
    @Test
    void aListenerOnPortZeroThatCannotListenSaysAFreePortWasAskedForAndWhyNoneCouldBeHad() {
        // TEST-NET-1 (RFC 5737): an address no interface of this host has
        String notHere = "192.0.2.1 is not an address of this machine (";
        ConfigException inbound = assertThrows(ConfigException.class, () -> start(options(0, 0).listen("192.0.2.1", 0)).close());
        assertTrue(inbound.getMessage().startsWith("option --listen: cannot listen on a free port of 192.0.2.1: " + notHere),
                inbound.getMessage());
        ConfigException egress = assertThrows(ConfigException.class, () -> start(options(0, 0).egressListen("192.0.2.1", 0)).close());
        assertTrue(egress.getMessage().startsWith("option --egress-listen: cannot listen on a free port of 192.0.2.1: " + notHere),
                egress.getMessage());
        ConfigException management = assertThrows(ConfigException.class, () -> start(options(0, 0).management("192.0.2.1", 0)).close());
        assertTrue(management.getMessage().startsWith("option --management-host: cannot listen on a free port of 192.0.2.1: "
                + notHere), management.getMessage());
        // RFC 6761: a name under .invalid never resolves
        ConfigException unknown = assertThrows(ConfigException.class, () -> start(options(0, 0).listen("nowhere.invalid", 0)).close());
        assertTrue(unknown.getMessage().startsWith("option --listen: cannot listen on a free port of nowhere.invalid: nowhere.invalid"
                + " does not resolve to an address"), unknown.getMessage());
    }

    /** A named port is named as it was, and its host said to be the fault when it is, as with port 0. */
    @Test
    void aListenerOnANamedPortThatCannotListenIsNamedByItsOptionAndAddress() throws Exception {
        ConfigException inbound = assertThrows(ConfigException.class, () -> start(options(0, 0).listen("192.0.2.1", 8080)).close());
        assertTrue(inbound.getMessage().startsWith("option --listen: cannot listen on 192.0.2.1:8080: 192.0.2.1 is not an address"
                + " of this machine ("), inbound.getMessage());
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            ConfigException management = assertThrows(ConfigException.class,
                    () -> start(options(0, 0).management("127.0.0.1", port)).close());
            assertTrue(management.getMessage().startsWith("option --management-port: cannot listen on 127.0.0.1:" + port + ": "),
                    management.getMessage());
        }
    }

    /**
     * A listener's option set by a {@code TAPLINE_*} variable or a {@code --config} file is named with where it was set,
     * as every other bad value of the sidecar is ({@code TaplineConfig#named}): the flag alone was named, though it was
     * nowhere on the command line.
     */
    @Test
    void aListenerThatCannotListenNamesWhereItsOptionWasSet(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            ConfigException inbound = assertThrows(ConfigException.class, () -> start(configured(Map.of("TAPLINE_LISTEN",
                    "127.0.0.1:" + port), "--egress-listen", "127.0.0.1:0", "--management-port", "0")).close());
            assertTrue(inbound.getMessage().startsWith("option --listen (set by TAPLINE_LISTEN): cannot listen on 127.0.0.1:"
                    + port + ": "), inbound.getMessage());
            ConfigException egress = assertThrows(ConfigException.class, () -> start(configured(Map.of("TAPLINE_EGRESS_LISTEN",
                    "127.0.0.1:" + port), "--listen", "127.0.0.1:0", "--management-port", "0")).close());
            assertTrue(egress.getMessage().startsWith("option --egress-listen (set by TAPLINE_EGRESS_LISTEN): cannot listen on"
                    + " 127.0.0.1:" + port + ": "), egress.getMessage());
            java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("sidecar.properties"),
                    "management.port=" + port + "\n");
            ConfigException management = assertThrows(ConfigException.class, () -> start(configured(Map.of(), "--config",
                    file.toString(), "--listen", "127.0.0.1:0", "--egress-listen", "127.0.0.1:0")).close());
            assertTrue(management.getMessage().startsWith("option --management-port (set in " + file + "): cannot listen on"
                    + " 127.0.0.1:" + port + ": "), management.getMessage());
            // set in code once read: named by its flag alone, as the configuration no longer gives the value
            ConfigException replaced = assertThrows(ConfigException.class, () -> start(configured(Map.of("TAPLINE_LISTEN",
                    "127.0.0.1:0"), "--egress-listen", "127.0.0.1:0", "--management-port", "0").listen("127.0.0.1", port))
                    .close());
            assertTrue(replaced.getMessage().startsWith("option --listen: cannot listen on 127.0.0.1:" + port + ": "),
                    replaced.getMessage());
        }
    }

    /** Options read as the sidecar reads them: {@code env}, and {@code flags} after those every start here needs. */
    private static SidecarOptions configured(Map<String, String> env, String... flags) {
        List<String> args = new ArrayList<>(List.of("--management-host", "127.0.0.1",
                "--app", "http://127.0.0.1:" + app.actualPort(), "--egress", "dep=http://127.0.0.1:" + dependency.actualPort(),
                "--redaction-key", "test-key-0123456789abcdef", "--proxy-event-loops", Integer.toString(EVENT_LOOPS)));
        args.addAll(List.of(flags));
        return SidecarOptions.from(TaplineConfig.load(SidecarOptions.spec(), args.toArray(String[]::new), env));
    }

    /** A port another socket held a moment ago, free now. */
    static int justLetGoOf() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /** The body of a {@code GET} on a connection of its own, which the client closes. */
    static String body(int port, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 200"), "port " + port + " " + path + ": " + response);
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }
}
