package io.tapline.replay.run;

import io.tapline.avro.HttpResponse;
import io.tapline.http.HttpUrl;
import io.tapline.replay.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class CandidateClientTest {

    @Test
    void batchesFromTwoWorkersThroughOneGateAllCompleteInOrder() throws Exception {
        Vertx server = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        Vertx client = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try {
            HttpServer s = server.createHttpServer().requestHandler(r -> r.response().putHeader("content-type", "application/json")
                    .end("{\"ok\":true}")).listen(0, "127.0.0.1").await();
            CandidateClient c = new CandidateClient(client, HttpUrl.parse("http://127.0.0.1:" + s.actualPort()), 32, Duration.ofSeconds(5));
            ConcurrencyGate gate = new ConcurrencyGate(() -> 32);
            io.tapline.replay.mock.MockRegistry registry = new io.tapline.replay.mock.MockRegistry();
            CaseReplayer replayer = new CaseReplayer("r", "w", c, registry,
                    new io.tapline.replay.mock.MockMatcher(0.6), new io.tapline.replay.compare.ResponseComparator(
                    io.tapline.replay.compare.CompareOptions.defaults(), io.tapline.replay.compare.IgnoreRules.none()),
                    ResultRedaction.of(io.tapline.redaction.RedactionKey.random()), java.time.Clock.systemUTC());
            RateLimiter unlimited = new RateLimiter(0);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < 2; t++) {
                int base = t * 100000;
                Thread th = new Thread(() -> {
                    try {
                        io.vertx.core.Context context = client.getOrCreateContext();
                        for (int batch = 0; batch < 6; batch++) {
                            List<io.tapline.avro.Case> cases = new ArrayList<>();
                            for (int i = 0; i < 500; i++) {
                                int id = base + batch * 1000 + i;
                                cases.add(Fixtures.caseOf("c" + id, Fixtures.request("GET", "x", "/ping/" + id, null, null),
                                        Fixtures.json(200, "{\"ok\":true}"), List.of(), 1));
                            }
                            List<io.tapline.avro.ReplayResult> results = BatchPump.start(context, gate, unlimited, cases, replayer::replay)
                                    .await(30_000, 30_000);
                            assertEquals(500, results.size());
                            for (int i = 0; i < 500; i++) {
                                assertEquals(io.tapline.avro.Verdict.PASS, results.get(i).getVerdict());
                                assertEquals(cases.get(i).getCaseId(), results.get(i).getCaseId(), "results in batch order");
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                th.start();
                threads.add(th);
            }
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(0, gate.inFlight());
            assertEquals(List.of(), errors);
        } finally {
            client.close().await();
            server.close().await();
        }
    }

    @Test
    void headerOverridesReplaceRecordedValuesAndTheTraceparentIsTheCases() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer s = vertx.createHttpServer().requestHandler(r -> r.response()
                    .end(r.getHeader("authorization") + "|" + r.getHeader("traceparent") + "|" + r.getHeader("x-keep")))
                    .listen(0, "127.0.0.1").await();
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + s.actualPort()), 1,
                    Duration.ofSeconds(5), java.util.Map.of("Authorization", "Bearer test-token"));
            io.tapline.avro.HttpRequest recorded = Fixtures.request("GET", "x", "/a", null, null);
            recorded.setHeaders(List.of(new io.tapline.avro.Header("Authorization", "hmac:0123"),
                    new io.tapline.avro.Header("traceparent", "00-" + "f".repeat(32) + "-" + "e".repeat(16) + "-01"),
                    new io.tapline.avro.Header("X-Keep", "yes")));
            String tp = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";
            HttpResponse r = c.send(recorded, tp).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).response();
            assertEquals("Bearer test-token|" + tp + "|yes",
                    java.nio.charset.StandardCharsets.UTF_8.decode(r.getBody()).toString());
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void aRequestBodyTheSidecarDecodedIsSentWithoutItsContentEncodingAndAnEncodedOneWithIt() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer s = vertx.createHttpServer().requestHandler(r -> r.body().onSuccess(b -> r.response()
                    .end(r.getHeader("content-encoding") + "|" + java.util.Base64.getEncoder().encodeToString(b.getBytes()))))
                    .listen(0, "127.0.0.1").await();
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + s.actualPort()), 1,
                    Duration.ofSeconds(5));
            String tp = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";
            // as the sidecar records a gzip upload: the body decoded (no content encoding), the header as sent
            io.tapline.avro.HttpRequest decoded = Fixtures.request("POST", "x", "/orders", null, "{\"sku\":\"A\"}");
            decoded.setHeaders(List.of(new io.tapline.avro.Header("Content-Encoding", "gzip")));
            // as another writer may: the body still encoded, and said so
            java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(zipped)) {
                z.write("{\"sku\":\"B\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            io.tapline.avro.HttpRequest encoded = Fixtures.request("POST", "x", "/orders", null, null);
            encoded.setHeaders(List.of(new io.tapline.avro.Header("Content-Encoding", "gzip")));
            encoded.setBody(java.nio.ByteBuffer.wrap(zipped.toByteArray()));
            encoded.setContentEncoding("gzip");
            java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
            assertEquals("null|" + b64.encodeToString("{\"sku\":\"A\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                    java.nio.charset.StandardCharsets.UTF_8.decode(c.send(decoded, tp).toCompletionStage()
                            .toCompletableFuture().get(10, TimeUnit.SECONDS).response().getBody()).toString());
            assertEquals("gzip|" + b64.encodeToString(zipped.toByteArray()),
                    java.nio.charset.StandardCharsets.UTF_8.decode(c.send(encoded, tp).toCompletionStage()
                            .toCompletableFuture().get(10, TimeUnit.SECONDS).response().getBody()).toString());
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void aResponseHeadOverVertxsDefaultEightKibIsRead() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            String policy = "default-src 'self' " + "https://cdn.example.com/".repeat(800); // ~20 KB
            HttpServer s = vertx.createHttpServer().requestHandler(r -> r.response()
                    .putHeader("Content-Security-Policy", policy).end("ok")).listen(0, "127.0.0.1").await();
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + s.actualPort()), 1,
                    Duration.ofSeconds(5));
            HttpResponse r = c.send(Fixtures.request("GET", "x", "/a", null, null), "00-" + "a".repeat(32) + "-"
                    + "b".repeat(16) + "-01").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).response();
            assertEquals(policy, r.getHeaders().stream().filter(h -> h.getName().equalsIgnoreCase("content-security-policy"))
                    .findFirst().orElseThrow().getValue());
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void anAnswerOverTheCapOrPastTheTimeoutIsStoppedAndItsConnectionClosed() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(2);
            io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer(new byte[64 * 1024]);
            HttpServer s = vertx.createHttpServer().requestHandler(r -> {
                r.connection().closeHandler(v -> closed.countDown());
                r.response().setChunked(true);
                long period = r.path().equals("/flood") ? 1 : 100; // /flood: 64 MiB/s; /drip: an answer that never ends
                vertx.setPeriodic(period, id -> {
                    if (r.response().closed()) {
                        vertx.cancelTimer(id);
                    } else if (!r.response().writeQueueFull()) {
                        r.response().write(r.path().equals("/flood") ? chunk : io.vertx.core.buffer.Buffer.buffer("."));
                    }
                });
            }).listen(0, "127.0.0.1").await();
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + s.actualPort()), 2,
                    Duration.ofMillis(1500));
            String tp = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";
            java.util.concurrent.ExecutionException flood = assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> c.send(Fixtures.request("GET", "x", "/flood", null, null), tp)
                            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertTrue(flood.getCause().getMessage().contains("more than " + CandidateClient.MAX_RESPONSE_BYTES + " bytes"),
                    flood.getCause().toString());
            java.util.concurrent.ExecutionException drip = assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> c.send(Fixtures.request("GET", "x", "/drip", null, null), tp)
                            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertTrue(drip.getCause() instanceof java.util.concurrent.TimeoutException, drip.getCause().toString());
            assertTrue(closed.await(5, TimeUnit.SECONDS), "both connections closed by the client, not left busy in its pool");
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void aRequestThatTimedOutBeforeItHadAConnectionIsNeverSentLater() throws Exception {
        // A candidate too busy to accept connections (its accept queue full, so the kernel drops the client's SYN and
        // it retries a second later): the case is given up, its slot in --concurrency freed and the next case started;
        // its request, still waiting for a connection, must not reach the candidate when the connection comes.
        Vertx vertx = Vertx.vertx();
        List<java.net.Socket> queued = new ArrayList<>();
        try (java.net.ServerSocket listener = new java.net.ServerSocket()) {
            Fixtures.fillAcceptQueue(listener, queued);
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + listener.getLocalPort()), 4,
                    Duration.ofMillis(200));
            String tp = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";
            java.util.concurrent.ExecutionException timedOut = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> c.send(Fixtures.request("GET", "x", "/late", null, null), tp).toCompletionStage()
                            .toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertTrue(timedOut.getCause() instanceof java.util.concurrent.TimeoutException, timedOut.getCause().toString());
            // The candidate catches up: the queued connections, then the client's retried one, are accepted.
            listener.setSoTimeout(6000);
            StringBuilder received = new StringBuilder();
            for (int i = 0; i <= queued.size(); i++) {
                try (java.net.Socket accepted = listener.accept()) {
                    if (i < queued.size()) {
                        continue;
                    }
                    accepted.setSoTimeout(1000);
                    byte[] buf = new byte[4096];
                    try {
                        for (int n; (n = accepted.getInputStream().read(buf)) > 0; ) {
                            received.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
                        }
                    } catch (java.io.IOException e) {
                        // reset or nothing sent: either way no request
                    }
                } catch (java.net.SocketTimeoutException e) {
                    break; // the client gave the connection up
                }
            }
            assertEquals("", received.toString(), "the request of a case already given up reached the candidate");
        } finally {
            for (java.net.Socket s : queued) {
                s.close();
            }
            vertx.close().await();
        }
    }

    @Test
    void aConnectionThatIsNotOpenWithinTheRequestTimeoutIsGivenUpNotTriedOnFor60Seconds() throws Exception {
        // As above, a candidate whose accept queue is full: the case is given up at its 200 ms, and so is the connect,
        // which Vert.x would otherwise retry for 60 s, holding a pooled connection's place and, in the pool's wait
        // queue, the requests of cases already given up.
        Vertx vertx = Vertx.vertx();
        List<java.net.Socket> queued = new ArrayList<>();
        try (java.net.ServerSocket listener = new java.net.ServerSocket()) {
            Fixtures.fillAcceptQueue(listener, queued);
            CandidateClient c = new CandidateClient(vertx, HttpUrl.parse("http://127.0.0.1:" + listener.getLocalPort()), 1,
                    Duration.ofMillis(200));
            String tp = "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01";
            assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> c.send(Fixtures.request("GET", "x", "/late", null, null), tp).toCompletionStage()
                            .toCompletableFuture().get(10, TimeUnit.SECONDS));
            // The candidate catches up: the queued connections are accepted, and nothing after them within the 1 s and
            // 3 s a dropped SYN is retried after (before: the client's connect, still being tried, was accepted).
            listener.setSoTimeout(5000);
            int accepted = 0;
            try {
                while (true) {
                    listener.accept().close();
                    accepted++;
                }
            } catch (java.net.SocketTimeoutException e) {
                // nothing more came
            }
            assertEquals(queued.size(), accepted, "connections accepted: the queued ones, and the client's?");
        } finally {
            for (java.net.Socket s : queued) {
                s.close();
            }
            vertx.close().await();
        }
    }
}
