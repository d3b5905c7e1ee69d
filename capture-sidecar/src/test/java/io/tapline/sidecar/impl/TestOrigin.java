package io.tapline.sidecar.impl;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * An in-process app for tests, on a real loopback port. Paths:
 * /hello, /early (401 at once, before any upload is read), /delay?ms=N (hello after N ms), /hold (hello once the test
 * calls {@link #release()}), /echo (body back; X-Set-Cookie comes back as Set-Cookie, X-Location as Location), /count (body size), /download?n=N (N bytes, chunked), /gzip, /slow (never answers),
 * /call (calls the dependency through the sidecar's egress: /inv/items with the same query, propagating traceparent
 * when the request has X-Propagate, X-Outbound-Auth as Authorization, and Referer), /late-call?ms=N (/call after N ms),
 * /items (the dependency; 50 ms latency). A TRACE to any path is answered as RFC 9110 9.3.8 has it: 200 with the
 * request received, header lines included, as a message/http body.
 */
final class TestOrigin implements AutoCloseable {

    /** What the origin saw of a request. */
    record Seen(String method, String uri, Map<String, String> headers, long bodyBytes) {
    }

    final Vertx vertx;
    final HttpServer server;
    final HttpClient client;
    final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    /** The client ports of the connections requests came in on: one per upstream connection the sidecar opened. */
    final Set<Integer> connectionPorts = ConcurrentHashMap.newKeySet();
    /** Request heads that reached the origin, counted as they arrive (before their bodies). */
    final java.util.concurrent.atomic.AtomicInteger heads = new java.util.concurrent.atomic.AtomicInteger();
    volatile int egressPort;
    /** The answers of /hold requests, sent by {@link #release()}. */
    private final BlockingQueue<io.vertx.core.http.HttpServerResponse> held = new LinkedBlockingQueue<>();

    TestOrigin() throws Exception {
        vertx = Vertx.vertx();
        client = vertx.createHttpClient();
        // takes request lines longer than Vert.x's 4096-byte default, as nginx and most app servers (8 KiB and more) do
        server = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setMaxInitialLineLength(32 * 1024))
                .requestHandler(this::handle).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    int port() {
        return server.actualPort();
    }

    /** Waits until this origin has seen {@code n} request heads, or 10 s, and fails if it has not. */
    void awaitHeads(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (heads.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        org.junit.jupiter.api.Assertions.assertEquals(n, heads.get(), "request heads at the app");
    }

    /**
     * Answers every /hold request received so far: a request held this way is in flight at the sidecar for as long as
     * the test needs, however slow the machine, where a /delay ends after its time whether the test is ready or not.
     */
    void release() {
        io.vertx.core.http.HttpServerResponse r;
        while ((r = held.poll()) != null) {
            r.putHeader("content-type", "text/plain").end("hello");
        }
    }

    private void handle(HttpServerRequest req) {
        connectionPorts.add(req.remoteAddress().port());
        heads.incrementAndGet();
        Map<String, String> headers = new ConcurrentHashMap<>();
        req.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + "," + b));
        String path = req.path();
        if (path.equals("/slow")) {
            return; // never answers
        }
        if (path.equals("/early")) {
            req.response().setStatusCode(401).end("early"); // answered before the upload is read
            return;
        }
        long[] n = new long[1];
        Buffer body = Buffer.buffer();
        boolean keep = path.equals("/echo");
        req.handler(b -> {
            n[0] += b.length();
            if (keep) {
                body.appendBuffer(b);
            }
        });
        req.endHandler(v -> {
            seen.add(new Seen(req.method().name(), req.uri(), headers, n[0]));
            if (req.method() == HttpMethod.TRACE) {
                StringBuilder echo = new StringBuilder("TRACE ").append(req.uri()).append(" HTTP/1.1\r\n");
                req.headers().forEach(e -> echo.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n"));
                req.response().putHeader("content-type", "message/http").end(echo.append("\r\n").toString());
                return;
            }
            switch (path) {
                case "/echo" -> {
                    if (headers.containsKey("x-set-cookie")) {
                        req.response().putHeader("Set-Cookie", headers.get("x-set-cookie"));
                    }
                    if (headers.containsKey("x-location")) {
                        req.response().putHeader("Location", headers.get("x-location"));
                    }
                    req.response().putHeader("content-type", headers.getOrDefault("content-type", "text/plain")).end(body);
                }
                case "/count" -> req.response().end(Long.toString(n[0]));
                case "/delay" -> vertx.setTimer(Long.parseLong(req.getParam("ms")), t -> req.response().end("hello"));
                case "/hold" -> held.add(req.response());
                case "/download" -> download(req, Integer.parseInt(req.getParam("n")));
                case "/gzip" -> gzip(req);
                case "/trailers" -> req.response().setChunked(true).putHeader("Trailer", "X-Checksum")
                        .write("part-1;").compose(w -> req.response().write("part-2"))
                        .compose(w -> req.response().putTrailer("X-Checksum", "sha256:abc").end());
                case "/call" -> call(req, headers);
                case "/late-call" -> vertx.setTimer(Long.parseLong(req.getParam("ms")), t -> call(req, headers));
                case "/items" -> vertx.setTimer(50, t -> req.response().putHeader("content-type", "application/json")
                        .end("{\"marker\":\"" + req.getParam("marker") + "\"}"));
                default -> req.response().putHeader("content-type", "text/plain").end("hello");
            }
        });
    }

    private void download(HttpServerRequest req, int n) {
        req.response().setChunked(true);
        byte[] chunk = new byte[8192];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i % 251);
        }
        download(req.response(), chunk, n, 0);
    }

    /**
     * Writes as the peer takes it, as an app streaming a large body does: queued whole before returning, a large body
     * reached the sidecar only once all of it was queued (50 MB took longer than a test's upstream timeout on a busy
     * machine, and the client got a 504 instead of the download).
     */
    private static void download(io.vertx.core.http.HttpServerResponse resp, byte[] chunk, int n, int from) {
        int sent = from;
        while (sent < n) {
            if (resp.writeQueueFull()) {
                int at = sent;
                resp.drainHandler(v -> download(resp, chunk, n, at));
                return;
            }
            int len = Math.min(chunk.length, n - sent);
            resp.write(Buffer.buffer(chunk).slice(0, len));
            sent += len;
        }
        resp.end();
    }

    private void gzip(HttpServerRequest req) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream g = new GZIPOutputStream(out)) {
                g.write("{\"message\":\"compressed hello\",\"email\":\"someone@example.com\"}".getBytes());
            }
            req.response().putHeader("content-type", "application/json").putHeader("content-encoding", "gzip").end(Buffer.buffer(out.toByteArray()));
        } catch (java.io.IOException e) {
            req.response().setStatusCode(500).end();
        }
    }

    private void call(HttpServerRequest req, Map<String, String> headers) {
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(egressPort)
                .setURI("/inv/items?" + req.query());
        if (headers.containsKey("x-propagate") && headers.containsKey("traceparent")) {
            o.putHeader("traceparent", headers.get("traceparent"));
        }
        if (headers.containsKey("x-outbound-auth")) {
            o.putHeader("Authorization", headers.get("x-outbound-auth"));
        }
        if (headers.containsKey("referer")) {
            o.putHeader("Referer", headers.get("referer"));
        }
        client.request(o).compose(r -> r.send().compose(resp -> resp.body()))
                .onSuccess(b -> req.response().end(b))
                .onFailure(e -> req.response().setStatusCode(500).end(e.toString()));
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
