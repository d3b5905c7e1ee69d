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
    private volatile int refuseWith;

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
        try (exchange) {
            if (refuseWith != 0) {
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
            } else if (exchange.getRequestMethod().equals("GET") && path.startsWith("/schemas/ids/")) {
                String schema = schemas.get(Integer.parseInt(path.substring("/schemas/ids/".length())));
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
