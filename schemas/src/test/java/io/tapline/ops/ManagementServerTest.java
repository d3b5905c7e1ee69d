package io.tapline.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Inet6Address;
import java.net.InetAddress;
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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManagementServerTest {

    /**
     * A connection that sends part of a request head and then nothing (a stalled scraper, a port scan) used to hold
     * the management port's only thread for good: {@code /healthy} went unanswered and Kubernetes' liveness probe
     * restarted the pod.
     */
    @Test
    void aStalledConnectionDoesNotHoldUpTheProbes() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true);
             Socket stalled = stall(server.port())) {
            HttpResponse<String> healthy = get(server.port(), "/healthy", Duration.ofSeconds(2));
            assertEquals(200, healthy.statusCode());
            assertEquals(200, get(server.port(), "/ready", Duration.ofSeconds(2)).statusCode());
        }
    }

    /**
     * The probes and the metrics are read with GET (or HEAD) at their own path. The JDK server hands a context every
     * path it is the prefix of, and the handlers looked at neither path nor method: {@code POST /healthy},
     * {@code DELETE /ready} and {@code TRACE /metrics} were answered 200 as a GET, and so were {@code /readyz},
     * {@code /healthy/x} and {@code /metricsfoo}.
     */
    @Test
    void theProbesAndMetricsAnswerGetAndHeadOfTheirOwnPathOnly() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
            HttpClient http = HttpClient.newHttpClient();
            for (String path : List.of("/healthy", "/ready", "/metrics")) {
                URI uri = URI.create("http://127.0.0.1:" + server.port() + path);
                assertEquals(200, get(server.port(), path, Duration.ofSeconds(5)).statusCode(), path);
                assertEquals(200, get(server.port(), path + "?from=probe", Duration.ofSeconds(5)).statusCode(), path + "?from=probe");
                assertEquals(200, http.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode(), "HEAD " + path);
                for (String method : List.of("POST", "PUT", "DELETE", "TRACE")) {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(405, r.statusCode(), method + " " + path);
                    assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(null), method + " " + path);
                }
                for (String other : List.of(path + "z", path + "/", path + "/x")) {
                    assertEquals(404, get(server.port(), other, Duration.ofSeconds(5)).statusCode(), other);
                }
            }
        }
    }

    @Test
    void metricsIncludeTheLogLinesTheProcessDropped() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
            String metrics = get(server.port(), "/metrics", Duration.ofSeconds(5)).body();
            assertTrue(metrics.contains("# TYPE tapline_log_lines_dropped_total counter\n"
                    + "tapline_log_lines_dropped_total " + io.tapline.logging.TaplineLogging.linesDropped() + "\n"), metrics);
        }
    }

    /**
     * An added route that changes state ({@code POST /capture/off}) is refused to a request a browser page sent: a
     * cross-site form post needs no CORS preflight, so any page open in the browser of someone who reaches the port
     * (a {@code kubectl port-forward} to 127.0.0.1, a pod IP on the same network) could switch it. Browsers send
     * {@code Origin} (and {@code Sec-Fetch-Site}) with such a post; curl, scripts and probes send neither.
     */
    @Test
    void aStateChangeSentByABrowserPageIsRefused() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
            java.util.concurrent.atomic.AtomicInteger switched = new java.util.concurrent.atomic.AtomicInteger();
            server.route("/switch", ex -> {
                switched.incrementAndGet();
                ManagementServer.respond(ex, 200, "text/plain", "switched\n");
            });
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> fromPage = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/switch"))
                    .header("Origin", "http://evil.example").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, fromPage.statusCode(), fromPage.body());
            HttpResponse<String> fetchedByPage = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/switch"))
                    .header("Sec-Fetch-Site", "cross-site").POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, fetchedByPage.statusCode(), fetchedByPage.body());
            assertEquals(0, switched.get(), "a browser page's request reached the handler");
            HttpResponse<String> fromCurl = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/switch"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, fromCurl.statusCode());
            assertEquals(1, switched.get());
        }
    }

    /**
     * With a token, a state-changing request must carry it ({@code Authorization: Bearer TOKEN}): the switch takes no
     * credentials otherwise, and anything that reaches the port (the pod network) could switch capture off. Reading
     * the state and the probes stay open.
     */
    @Test
    void aStateChangeWithoutTheTokenIsRefusedWhenOneIsSet() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
            java.util.concurrent.atomic.AtomicInteger switched = countingSwitch(server, "s3cret-token");
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/switch");
            HttpResponse<String> none = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, none.statusCode(), none.body());
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
            HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret-tokem")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrong.statusCode(), wrong.body());
            assertEquals(0, switched.get(), "a request without the token reached the handler");
            HttpResponse<String> right = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret-token")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, right.statusCode(), right.body());
            assertEquals(1, switched.get());
            assertEquals(200, get(server.port(), "/switch", Duration.ofSeconds(5)).statusCode(), "reading the state");
            // with a token the peer does not matter: one on another host (played over loopback) that carries it is taken
            server.localPeers(peer -> false);
            HttpResponse<String> fromElsewhere = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret-token")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, fromElsewhere.statusCode(), fromElsewhere.body());
            assertEquals(2, switched.get());
        }
    }

    /** A {@code /switch} route with the token (null: none) that counts the POSTs reaching it. */
    private static java.util.concurrent.atomic.AtomicInteger countingSwitch(ManagementServer server, String token) {
        java.util.concurrent.atomic.AtomicInteger switched = new java.util.concurrent.atomic.AtomicInteger();
        server.route("/switch", ex -> {
            if ("POST".equals(ex.getRequestMethod())) {
                switched.incrementAndGet();
            }
            ManagementServer.respond(ex, 200, "text/plain", "on\n");
        }, token, "--the-token (or THE_TOKEN)");
        return switched;
    }

    /**
     * Without a token, a state-changing request is taken from a loopback peer only: nothing else tells an operator
     * from whatever else reaches the port. Over loopback (a test sends nothing elsewhere), the server is told first
     * that no peer is its own, as a peer on another host would be, then that loopback is.
     */
    @Test
    void withoutATokenAStateChangeIsTakenFromLoopbackOnly() throws Exception {
        try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
            java.util.concurrent.atomic.AtomicInteger switched = countingSwitch(server, null);
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/switch");
            server.localPeers(peer -> false);
            HttpResponse<String> remote = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, remote.statusCode(), remote.body());
            assertTrue(remote.body().contains("loopback") && remote.body().contains("--the-token (or THE_TOKEN)")
                    && remote.body().contains("came from 127.0.0.1"), remote.body());
            assertEquals(0, switched.get(), "a request from another host reached the handler");
            assertEquals(200, http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode(),
                    "reading stays open to every address");
            server.localPeers(ManagementServer::isLoopback); // as it starts
            HttpResponse<String> local = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, local.statusCode(), local.body());
            assertEquals(1, switched.get());
        }
    }

    @Test
    void everyFormOfLoopbackIsLoopbackAndNothingElse() throws Exception {
        assertTrue(ManagementServer.isLoopback(InetAddress.getByName("127.0.0.1")));
        assertTrue(ManagementServer.isLoopback(InetAddress.getByName("127.255.0.9")), "all of 127.0.0.0/8");
        assertTrue(ManagementServer.isLoopback(InetAddress.getByName("::1")));
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        // ::ffff:127.0.0.1 kept as an IPv6 address (InetAddress.getByName would turn it into 127.0.0.1)
        assertTrue(ManagementServer.isLoopback(Inet6Address.getByAddress(null, mapped, -1)), "IPv4-mapped loopback");
        mapped[12] = 10;
        assertFalse(ManagementServer.isLoopback(Inet6Address.getByAddress(null, mapped, -1)), "IPv4-mapped 10.0.0.1");
        for (String other : List.of("10.0.0.1", "192.0.2.7", "0.0.0.0", "::", "fe80::1", "fd00::2", "128.0.0.1")) {
            assertFalse(ManagementServer.isLoopback(InetAddress.getByName(other)), other);
        }
        assertFalse(ManagementServer.isLoopback(null), "an unknown peer");
    }

    /**
     * More stalled connections than the port has threads are closed after {@link ManagementServer#MAX_REQUEST_SECONDS}.
     * The JDK server reads that limit when its classes load, so the check runs in a JVM of its own: in this one
     * another test may have loaded them first.
     */
    @Test
    void stalledConnectionsAreClosedSoTheProbesAnswerAgain() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                StallCheck.class.getName()).redirectErrorStream(true).start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the check did not end");
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("healthy 200"), out);
    }

    /** Run in its own JVM by {@link #stalledConnectionsAreClosedSoTheProbesAnswerAgain}. */
    public static final class StallCheck {
        public static void main(String[] args) throws Exception {
            try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
                List<Socket> stalled = new ArrayList<>();
                for (int i = 0; i < ManagementServer.THREADS * 2; i++) {
                    stalled.add(stall(server.port()));
                }
                HttpResponse<String> healthy = get(server.port(), "/healthy",
                        Duration.ofSeconds(ManagementServer.MAX_REQUEST_SECONDS * 3L + 5));
                System.out.println("healthy " + healthy.statusCode());
                for (Socket s : stalled) {
                    s.close();
                }
            }
            System.exit(0);
        }
    }

    /**
     * Once the process has no file descriptor left (taken by other work than the management port), a probe's
     * connection waits in the port's backlog. The JDK server's dispatcher thread then failed to accept it ("Too many
     * open files"), dropped the error and tried again at once, forever: a core spent for as long as the shortage
     * lasted. It now waits between attempts, and the probes are answered once descriptors are free, on the
     * connection that waited too. Run in a child JVM under {@code ulimit -n}, as {@code RegistryOutOfFilesTest}.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void withoutADescriptorLeftTheServerWaitsRatherThanSpinsAndAnswersOnceOneIsFree() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder("bash", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", java.toString(),
                "-cp", System.getProperty("java.class.path"), OutOfFilesCheck.class.getName())
                .redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), out);
            assertEquals(0, child.exitValue(), out);
            Matcher cpu = Pattern.compile("dispatcher cpu (\\d+) ms of (\\d+)").matcher(out);
            assertTrue(cpu.find(), out);
            assertTrue(Long.parseLong(cpu.group(1)) * 5 < Long.parseLong(cpu.group(2)),
                    "the dispatcher thread spins while it cannot accept: " + out);
            assertTrue(out.contains("waiting connection: HTTP/1.1 200"), "answered once descriptors are free: " + out);
            assertTrue(out.contains("new connection: HTTP/1.1 200"), out);
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * The dispatcher's failure to accept is recognised by the JDK's record, not by the error's text: the JVM takes the
     * system's locale, under which "Too many open files" may come translated, and the dispatcher spun again. A
     * connection's own failure (a client resetting it, logged by another step of the loop) pauses nothing.
     */
    @Test
    void aFailedAcceptIsRecognisedWhateverTheLanguageOfItsError() {
        java.util.logging.LogRecord german = new java.util.logging.LogRecord(java.util.logging.Level.FINER, "Dispatcher (4)");
        german.setThrown(new IOException("Zu viele offene Dateien"));
        assertTrue(AcceptBackoff.acceptFailed(german));
        java.util.logging.LogRecord reset = new java.util.logging.LogRecord(java.util.logging.Level.FINER, "Dispatcher (2)");
        reset.setThrown(new IOException("Connection reset by peer"));
        assertFalse(AcceptBackoff.acceptFailed(reset));
        java.util.logging.LogRecord error = new java.util.logging.LogRecord(java.util.logging.Level.FINER, "Dispatcher (4)");
        error.setThrown(new IllegalStateException("not an I/O failure"));
        assertFalse(AcceptBackoff.acceptFailed(error));
    }

    /** Run in its own JVM under a small descriptor limit by {@link #withoutADescriptorLeftTheServerWaitsRatherThanSpinsAndAnswersOnceOneIsFree}. */
    public static final class OutOfFilesCheck {
        public static void main(String[] args) throws Exception {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
                // the classes used below are loaded before the descriptors run out (loading one may open a file)
                System.out.println("before: " + probe(new Socket("127.0.0.1", server.port()), "/healthy"));
                long dispatcher = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().equals("HTTP-Dispatcher")).findFirst().orElseThrow().getId();
                threads.getThreadCpuTime(dispatcher);
                List<FileInputStream> held = new ArrayList<>();
                try {
                    while (true) {
                        held.add(new FileInputStream("/dev/null"));
                    }
                } catch (IOException full) {
                    // every descriptor is taken
                }
                Socket waiting = null; // the last descriptor: the server has none to accept it
                while (waiting == null) {
                    held.remove(held.size() - 1).close();
                    try {
                        waiting = new Socket("127.0.0.1", server.port());
                    } catch (java.net.SocketException taken) {
                        // another thread of this JVM took the descriptor just freed: free one more
                    }
                }
                long cpu = threads.getThreadCpuTime(dispatcher);
                long start = System.nanoTime();
                Thread.sleep(1000);
                long cpuMs = (threads.getThreadCpuTime(dispatcher) - cpu) / 1_000_000;
                long wallMs = (System.nanoTime() - start) / 1_000_000;
                for (FileInputStream f : held) {
                    f.close();
                }
                System.out.println("dispatcher cpu " + cpuMs + " ms of " + wallMs);
                System.out.println("waiting connection: " + probe(waiting, "/healthy"));
                System.out.println("new connection: " + probe(new Socket("127.0.0.1", server.port()), "/ready"));
            }
            System.exit(0);
        }

        /** The status line of the answer to a GET of {@code path} on {@code s}, which it closes. */
        static String probe(Socket s, String path) throws IOException {
            try (s) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                return answer.lines().findFirst().orElse("(none)");
            }
        }
    }

    /**
     * The JDK server's logger passes its TRACE and DEBUG records (FINER, FINE) to {@link AcceptBackoff}: serving probes
     * (answered, not found, a client gone before the answer) prints nothing on the console nor in the component's log,
     * and the handler pauses no thread for those records. Run in a child JVM with the logging as a component starts
     * it, so that all it writes is seen.
     */
    @Test
    void servingProbesWritesNothingAndPausesNoThread() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), QuietCheck.class.getName())
                .redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), out);
            assertEquals(0, child.exitValue(), out);
            assertEquals("HTTP/1.1 200 OK|HTTP/1.1 200 OK|HTTP/1.1 200 OK|HTTP/1.1 404 Not Found|"
                    + "records FINER and up: true, out of descriptors: 0\n", out);
        } finally {
            child.destroyForcibly();
        }
    }

    /** Run in its own JVM by {@link #servingProbesWritesNothingAndPausesNoThread}. */
    public static final class QuietCheck {
        public static void main(String[] args) throws Exception {
            List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (ManagementServer server = ManagementServer.start("127.0.0.1", 0, new Metrics(), () -> true)) {
                java.util.logging.Logger.getLogger("com.sun.net.httpserver").addHandler(new java.util.logging.Handler() {
                    @Override
                    public void publish(java.util.logging.LogRecord record) {
                        records.add(record);
                    }

                    @Override
                    public void flush() {
                    }

                    @Override
                    public void close() {
                    }
                });
                StringBuilder answers = new StringBuilder();
                for (String path : List.of("/healthy", "/ready", "/metrics", "/nothing")) {
                    answers.append(OutOfFilesCheck.probe(new Socket("127.0.0.1", server.port()), path)).append('|');
                }
                try (Socket gone = new Socket("127.0.0.1", server.port())) {
                    gone.setSoLinger(true, 0); // reset as the server answers
                    gone.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                Thread.sleep(200); // the records of the connection reset, written by the server's threads
                System.out.print(answers);
            }
            System.out.println("records FINER and up: " + !records.isEmpty() + ", out of descriptors: "
                    + records.stream().filter(AcceptBackoff::acceptFailed).count());
            System.exit(0);
        }
    }

    private static Socket stall(int port) throws IOException, InterruptedException {
        Socket s = new Socket("127.0.0.1", port);
        OutputStream out = s.getOutputStream();
        out.write("GET /heal".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(100); // let the server hand it to a thread
        return s;
    }

    private static HttpResponse<String> get(int port, String path, Duration timeout) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    }
}
