package io.tapline.demo;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Production-like traffic for the demo shop: varied ids drawn from a Zipf distribution (so popular requests repeat
 * exactly, which is what noise learning needs), three routes plus health checks and not-found ids, and secrets in
 * headers and bodies that must never reach Kafka in clear.
 */
final class TrafficDriver {

    /** What was sent, by route, and how it went. */
    record Totals(int sent, int failed, Map<String, Integer> byRoute, Map<Integer, Integer> byStatus) {
    }

    private final Vertx vertx;
    private final int port;
    private final Random random;

    TrafficDriver(Vertx vertx, int port, long seed) {
        this.vertx = vertx;
        this.port = port;
        this.random = new Random(seed);
    }

    Totals drive(int requests, int concurrency, Runnable onProgress) {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(concurrency));
        Map<String, Integer> byRoute = new ConcurrentHashMap<>();
        Map<Integer, Integer> byStatus = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        LongAdder failed = new LongAdder();
        Promise<Void> done = Promise.promise();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger active = new AtomicInteger(concurrency);
        for (int lane = 0; lane < concurrency; lane++) {
            vertx.runOnContext(v -> sendNext(client, requests, next, finished, failed, byRoute, byStatus, active, done, onProgress));
        }
        try {
            done.future().await(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new DemoException("driving traffic failed: " + e);
        } finally {
            client.close();
        }
        return new Totals(requests, (int) failed.sum(), new TreeMap<>(byRoute), new TreeMap<>(byStatus));
    }

    private void sendNext(HttpClient client, int requests, AtomicInteger next, AtomicInteger finished, LongAdder failed,
                          Map<String, Integer> byRoute, Map<Integer, Integer> byStatus, AtomicInteger active,
                          Promise<Void> done, Runnable onProgress) {
        if (next.getAndIncrement() >= requests) {
            if (active.decrementAndGet() == 0) {
                done.tryComplete();
            }
            return;
        }
        Request request = nextRequest();
        RequestOptions options = new RequestOptions().setMethod(request.method()).setHost("127.0.0.1").setPort(port)
                .setURI(request.uri());
        request.headers().forEach(options::putHeader);
        Future<Integer> status = client.request(options)
                .compose(req -> request.body() == null ? req.send() : req.send(Buffer.buffer(request.body())))
                .compose(resp -> resp.body().map(b -> resp.statusCode()));
        status.onComplete(ar -> {
            byRoute.merge(request.route(), 1, Integer::sum);
            if (ar.succeeded()) {
                byStatus.merge(ar.result(), 1, Integer::sum);
            } else {
                failed.increment();
            }
            if (finished.incrementAndGet() % 500 == 0) {
                onProgress.run();
            }
            sendNext(client, requests, next, finished, failed, byRoute, byStatus, active, done, onProgress);
        });
    }

    private record Request(HttpMethod method, String uri, String route, Map<String, String> headers, String body) {
    }

    private synchronized Request nextRequest() {
        double pick = random.nextDouble();
        Map<String, String> headers = new TreeMap<>();
        headers.put("User-Agent", "tapline-demo-client/1.0");
        if (random.nextInt(4) == 0) {
            headers.put("Authorization", "Bearer sk_live_" + Integer.toHexString(random.nextInt(8) + 0x5eed00));
        }
        if (pick < 0.48) {
            long id = zipf(300);
            return new Request(HttpMethod.GET, "/products/" + id, "GET /products/{id}", headers, null);
        }
        if (pick < 0.51) {
            return new Request(HttpMethod.GET, "/products/" + (200_000 + random.nextInt(1000)), "GET /products/{id}",
                    headers, null);
        }
        if (pick < 0.75) {
            long owner = zipf(100);
            int page = 1 + (int) zipf(3) - 1;
            return new Request(HttpMethod.GET, "/owners/" + owner + "/orders?page=" + page, "GET /owners/{id}/orders",
                    headers, null);
        }
        if (pick < 0.95) {
            long sku = zipf(20) - 1;
            int qty = 1 + (int) zipf(3) - 1;
            headers.put("Content-Type", "application/json");
            String body = "{\"sku\":\"SKU-" + sku + "\",\"qty\":" + qty + ",\"customer\":\"customer" + zipf(5)
                    + "@example.com\",\"card\":\"4111 1111 1111 1111\"}";
            return new Request(HttpMethod.POST, "/orders", "POST /orders", headers, body);
        }
        return new Request(HttpMethod.GET, "/health", "GET /health", headers, null);
    }

    /** A Zipf-like draw from 1..n (rank r with weight 1/r). */
    private long zipf(int n) {
        double harmonic = 0;
        for (int r = 1; r <= n; r++) {
            harmonic += 1.0 / r;
        }
        double target = random.nextDouble() * harmonic;
        double sum = 0;
        for (int r = 1; r <= n; r++) {
            sum += 1.0 / r;
            if (sum >= target) {
                return r;
            }
        }
        return n;
    }
}
