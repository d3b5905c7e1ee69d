package io.tapline.dedup.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two Confluent registry calls the serde makes (register, schema by id), in process on a loopback port, for
 * {@code TopologyTestDriver} tests. Integration tests use the real Apicurio registry instead.
 */
public final class FakeRegistry implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    private final Map<Integer, String> schemaTypes = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger(1);
    /** Schema-by-id requests received, by id, whatever the answer (or none). */
    private final Map<Integer, AtomicInteger> asked = new ConcurrentHashMap<>();
    private volatile int refuseWith;
    private volatile boolean laggingBehind;
    private volatile boolean silent;
    private volatile boolean proxy;

    static {
        // Answers go out at once: with Nagle's algorithm each answer waited for the client's delayed ACK (about 50 ms
        // a call on loopback). Read once, when the JDK's server first starts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public FakeRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean byId = exchange.getRequestMethod().equals("GET") && path.startsWith("/schemas/ids/");
        if (byId) {
            asked.computeIfAbsent(Integer.parseInt(path.substring("/schemas/ids/".length())), id -> new AtomicInteger())
                    .incrementAndGet();
        }
        try (exchange) {
            if (silent) {
                return; // closing the exchange before any answer drops the connection
            }
            if (proxy) {
                byte[] page = "<html><body>Not Found</body></html>".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/html");
                exchange.sendResponseHeaders(404, page.length);
                exchange.getResponseBody().write(page);
            } else if (refuseWith != 0) {
                respond(exchange, refuseWith, "{\"error_code\":" + refuseWith + "01,\"message\":\"refused\"}");
            } else if (exchange.getRequestMethod().equals("POST") && path.startsWith("/subjects/")) {
                JsonNode body = JSON.readTree(exchange.getRequestBody());
                String schema = body.path("schema").asText();
                int id = ids.computeIfAbsent(schema, s -> {
                    int n = next.getAndIncrement();
                    schemas.put(n, s);
                    return n;
                });
                respond(exchange, 200, JSON.createObjectNode().put("id", id).toString());
            } else if (byId) {
                String schema = laggingBehind ? null : schemas.get(Integer.parseInt(path.substring("/schemas/ids/".length())));
                if (schema == null) {
                    respond(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
                } else {
                    int id = Integer.parseInt(path.substring("/schemas/ids/".length()));
                    respond(exchange, 200, JSON.createObjectNode().put("schema", schema)
                            .put("schemaType", schemaTypes.getOrDefault(id, "AVRO")).toString());
                }
            } else {
                respond(exchange, 404, "{\"error_code\":404,\"message\":\"not faked\"}");
            }
        }
    }

    /** Stores a schema of another type (e.g. PROTOBUF) and returns its id. */
    public int put(String schema, String schemaType) {
        int id = next.getAndIncrement();
        schemas.put(id, schema);
        schemaTypes.put(id, schemaType);
        return id;
    }

    /** Answers every call with this status from now on (e.g. 401 for bad credentials); 0 answers normally. */
    public void refuseWith(int status) {
        refuseWith = status;
    }

    /**
     * While true, answers every schema-by-id request 404 with error code 40403, as a registry node that has not yet
     * caught up with a schema registered on another node does.
     */
    public void lagBehind(boolean lagging) {
        laggingBehind = lagging;
    }

    /** While true, drops every connection without an answer (the client sees a transport error). */
    public void answerNothing(boolean nothing) {
        silent = nothing;
    }

    /**
     * While true, answers every request 404 with an HTML page and no registry error code, as a proxy or an ingress's
     * default backend does for a URL that does not reach the registry.
     */
    public void answerAsAProxy(boolean asProxy) {
        proxy = asProxy;
    }

    /** How many times the schema with this id was asked for, whatever the answer (or none). */
    public int timesAsked(int id) {
        AtomicInteger n = asked.get(id);
        return n == null ? 0 : n.get();
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private boolean closed;

    /** Stops answering; idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            server.stop(0);
        }
    }
}
