package io.tapline.sidecar.impl;

import io.tapline.sidecar.SidecarMain;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.tapline.sidecar.impl.SidecarProxyTest.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sidecar process under a small file descriptor limit ({@code ulimit -n}) and a flood of client connections, in a
 * child JVM: the connections past the listeners' bound are closed, and what is left of the limit serves the
 * requests of the connections it holds (each needs one to the app) and the management port's probes.
 */
@Timeout(60)
@EnabledOnOs(OS.LINUX)
class SidecarOutOfDescriptorsTest {

    static final int DESCRIPTORS = 400;
    static final int FLOOD = 450;

    @Test
    void aFloodOfConnectionsLeavesDescriptorsForTheAppAndTheProbes() throws Exception {
        Vertx vertx = Vertx.vertx();
        // an app that closes each connection after its answer: every request needs a new connection to it
        HttpServer app = vertx.createHttpServer()
                .requestHandler(r -> r.response().putHeader("Connection", "close").end("hello"))
                .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "ulimit -n " + DESCRIPTORS + " && exec \"$0\" \"$@\"",
                java.toString(), "-cp", System.getProperty("java.class.path"), SidecarMain.class.getName(),
                "--app", "http://127.0.0.1:" + app.actualPort(), "--listen", "127.0.0.1:0", "--egress-listen", "off",
                "--management-host", "127.0.0.1", "--management-port", "0", "--log-format", "json",
                // nothing listens there: capture fails open
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--schema-registry-url", "http://127.0.0.1:1",
                // the flood's connections stay open, as idle clients' would
                "--proxy-header-timeout", "0");
        pb.environment().keySet().removeIf(k -> k.startsWith("TAPLINE_"));
        Process child = pb.redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the child is gone
            }
        });
        reader.setDaemon(true);
        reader.start();
        List<Socket> flood = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        try {
            int[] ports = ports(lines, seen);
            HttpClient management = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            try (Socket held = client(ports[0])) {
                assertTrue(hello(held).contains("200 OK"), "served before the flood");
                // its capture taken through the publisher (dropped: no registry), so the classes that takes are
                // loaded (from the test's class directories, a file each) before the flood
                awaitSeries(management, ports[1], "tapline_sidecar_dropped_total{reason=\"serialization\"}");
                for (int i = 0; i < FLOOD; i++) {
                    try {
                        Socket s = new Socket();
                        s.connect(new InetSocketAddress("127.0.0.1", ports[0]), 2000);
                        flood.add(s);
                    } catch (IOException backlogFull) {
                        break;
                    }
                }
                // accepted faster than they are closed, the flood's connections may take every descriptor for a
                // moment: what is past the bound is given back
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                long open = descriptors(child);
                while (open > DESCRIPTORS - 32 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                    open = descriptors(child);
                }
                assertTrue(open <= DESCRIPTORS - 32, "the flood holds " + open + " descriptors of " + DESCRIPTORS);
                assertTrue(hello(held).contains("200 OK"), "a held connection's request gets a connection to the app, "
                        + descriptors(child) + " descriptors open");
                HttpResponse<String> healthy = get(management, ports[1], "/healthy");
                assertEquals(200, healthy.statusCode(), healthy.body());
                assertEquals(200, get(management, ports[1], "/ready").statusCode());
                String refused = "tapline_sidecar_connections_refused_total{listener=\"inbound\"}";
                HttpResponse<String> metrics = get(management, ports[1], "/metrics");
                assertEquals(200, metrics.statusCode());
                assertTrue(value(metrics.body(), refused) > 0, "connections past the bound are refused: "
                        + metrics.body().lines().filter(l -> l.startsWith("tapline_sidecar_connections")).toList()
                        + ", " + descriptors(child) + " descriptors open");
            }
            for (Socket s : flood) {
                s.close();
            }
            flood.clear();
            try (Socket after = client(ports[0])) {
                assertTrue(hello(after).contains("200 OK"), "a new connection is served once the flood is gone");
            }
        } finally {
            for (Socket s : flood) {
                s.close();
            }
            child.destroy();
            child.waitFor(20, TimeUnit.SECONDS);
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** The descriptors the child has open now. */
    static long descriptors(Process child) throws IOException {
        try (java.util.stream.Stream<Path> fds = java.nio.file.Files.list(Path.of("/proc/" + child.pid() + "/fd"))) {
            return fds.count();
        }
    }

    static Socket client(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        return s;
    }

    static String hello(Socket s) throws IOException {
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String head = readUntil(s.getInputStream(), "\r\n\r\n");
        Matcher m = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(s.getInputStream().readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    static HttpResponse<String> get(HttpClient client, int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until the series counts one or more, or 10 s, and fails if it does not. */
    static void awaitSeries(HttpClient client, int port, String series) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double seen = -1;
        while (seen < 1 && System.nanoTime() < deadline) {
            seen = value(get(client, port, "/metrics").body(), series);
            Thread.sleep(20);
        }
        assertTrue(seen >= 1, series + " = " + seen);
    }

    static double value(String scrape, String series) {
        return scrape.lines().filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).findFirst().orElse(-1);
    }

    /** The inbound and management ports, from the child's startup line. */
    static int[] ports(BlockingQueue<String> lines, List<String> seen) throws InterruptedException {
        Pattern startup = Pattern.compile("\"listen\":(\\d+).*\"management_port\":(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            seen.add(line);
            Matcher m = startup.matcher(line);
            if (m.find()) {
                return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
            }
        }
        assertNotNull(null, "the sidecar did not start: " + seen);
        return null;
    }
}
