package io.tapline.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for the registry's REST API, for unit tests of the client's protocol handling and
 * failure paths (the real registry is exercised by the integration tests in the deploy module).
 */
public final class RegistryStub implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    /** Handlers run here, so a stalled answer does not hold up the others. */
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicInteger stallsLeft = new AtomicInteger();
    /** Requests still handled as usual before every later one stalls; -1 for no such stall. */
    private final AtomicInteger beforeStalling = new AtomicInteger(-1);
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final AtomicInteger cannedLeft = new AtomicInteger();
    private volatile int cannedStatus;
    private volatile String cannedContentType;
    private volatile String cannedBody;
    private volatile boolean cannedChunked;
    private volatile String cannedLocation;
    private volatile String lastAuthorization;
    private final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());

    public RegistryStub() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(handlers);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/apis/ccompat/v7";
    }

    /** The next {@code count} requests are answered with {@code status} and a registry error body. */
    public void failNext(int count, int status) {
        answerNext(count, status, "application/vnd.schemaregistry.v1+json",
                "{\"error_code\":" + status + ",\"message\":\"stub failure\"}");
    }

    /** The next {@code count} requests are answered with this status and body, as something other than a registry may. */
    public void answerNext(int count, int status, String contentType, String body) {
        answerNext(count, status, contentType, body, false);
    }

    /** As {@link #answerNext(int, int, String, String)}, the body sent chunked (no {@code Content-Length}) if asked. */
    public void answerNext(int count, int status, String contentType, String body, boolean chunked) {
        cannedStatus = status;
        cannedContentType = contentType;
        cannedBody = body;
        cannedChunked = chunked;
        cannedLocation = null;
        cannedLeft.set(count);
    }

    /** The next {@code count} requests are answered with a redirect ({@code status}) to {@code location}. */
    public void redirectNext(int count, int status, String location) {
        answerNext(count, status, "text/html", "<html><body>Moved</body></html>");
        cannedLocation = location;
    }

    /**
     * The next {@code count} requests get their status line, headers and the start of a body, and then nothing more
     * until the stub is closed.
     */
    public void stallNext(int count) {
        stallsLeft.set(count);
    }

    /** The next {@code count} requests are handled as usual, and every one after them stalls as {@link #stallNext} says. */
    public void stallAfter(int count) {
        beforeStalling.set(count);
    }

    public String lastAuthorization() {
        return lastAuthorization;
    }

    public List<String> requests() {
        return requests;
    }

    /** Registers a schema text directly, as another client would. */
    public int put(String subject, String schema) {
        return ids.computeIfAbsent(subject + "\n" + schema, k -> {
            int id = nextId.getAndIncrement();
            schemas.put(id, schema);
            return id;
        });
    }

    private void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath().replaceFirst("^/apis/ccompat/v7", "");
        requests.add(method + " " + path);
        lastAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (stallsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0
                || beforeStalling.getAndUpdate(n -> n > 0 ? n - 1 : n) == 0) {
            stall(exchange);
            return;
        }
        if (cannedLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            if (cannedLocation != null) {
                exchange.getResponseHeaders().set("Location", cannedLocation);
            }
            send(exchange, cannedStatus, cannedContentType, cannedBody, cannedChunked);
            return;
        }
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (method.equals("POST") && path.matches("/subjects/[^/]+/versions")) {
            String subject = path.split("/")[2];
            String schema = JSON.readTree(body).path("schema").asText();
            send(exchange, 200, "{\"id\":" + put(subject, schema) + "}");
        } else if (method.equals("GET") && path.startsWith("/schemas/ids/")) {
            String schema = schemas.get(Integer.parseInt(path.substring("/schemas/ids/".length())));
            if (schema == null) {
                send(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
            } else {
                send(exchange, 200, JSON.createObjectNode().put("schema", schema).toString());
            }
        } else if (method.equals("POST") && path.matches("/subjects/[^/]+")) {
            String subject = path.split("/")[2];
            JsonNode request = JSON.readTree(body);
            Integer id = ids.get(subject + "\n" + request.path("schema").asText());
            if (id == null) {
                send(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
            } else {
                send(exchange, 200, "{\"subject\":\"" + subject + "\",\"id\":" + id + ",\"version\":1}");
            }
        } else {
            send(exchange, 404, "{\"error_code\":404,\"message\":\"not in stub\"}");
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "application/vnd.schemaregistry.v1+json", body);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        send(exchange, status, contentType, body, false);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body, boolean chunked)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, chunked ? 0 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private void stall(HttpExchange exchange) throws IOException {
        byte[] start = "{\"schema\":\"".getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
        exchange.sendResponseHeaders(200, 1000);
        OutputStream out = exchange.getResponseBody();
        out.write(start);
        out.flush();
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchange.close();
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    /** A server that answers every request with a head the HTTP client cannot read: 'Content-Length: abc'. */
    public static java.net.ServerSocket brokenProxy() throws java.io.IOException {
        java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (java.net.Socket s = server.accept()) {
                    java.io.BufferedReader in = new java.io.BufferedReader(
                            new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1));
                    String line;
                    while ((line = in.readLine()) != null && !line.isEmpty()) {
                        // the request head
                    }
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            + "Content-Length: abc\r\n\r\n{}").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "broken-proxy");
        t.setDaemon(true);
        t.start();
        return server;
    }
}
