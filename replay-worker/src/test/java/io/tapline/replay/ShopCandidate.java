package io.tapline.replay;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small candidate service for tests: {@code GET /items/{id}} asks its inventory dependency
 * ({@code GET {inventory}/stock/{id}}, propagating {@code traceparent}) and answers
 * {@code {"id","name","price","stock","generatedAt"}}. {@code generatedAt} is the clock (a noisy field);
 * with {@code regressed} set, item 13's price is doubled and its answer names a customer, {@code "buyer":
 * "ann@example.com"}, which production never showed (planted regressions; the second must reach results only as a
 * token). {@code GET /ping} answers
 * {@code {"ok":true}} without dependencies.
 */
public final class ShopCandidate implements AutoCloseable {

    /** The customer email the regressed candidate adds to item 13's answer. */
    public static final String BUYER = "ann@example.com";

    private final HttpServer server;
    private final HttpClientAgent client;
    private final AtomicInteger requests = new AtomicInteger();
    private final Map<String, AtomicInteger> byPath = new ConcurrentHashMap<>();

    private ShopCandidate(HttpServer server, HttpClientAgent client) {
        this.server = server;
        this.client = client;
    }

    /** v1 (the recorded behaviour) or the candidate with the regression, calling inventory at {@code inventoryUrl}. */
    public static ShopCandidate start(Vertx vertx, String inventoryUrl, boolean regressed, long delayMillis,
                                      boolean propagate) {
        HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(64));
        ShopCandidate[] holder = new ShopCandidate[1];
        HttpServer server = vertx.createHttpServer().requestHandler(req -> {
            holder[0].requests.incrementAndGet();
            holder[0].byPath.computeIfAbsent(req.path(), k -> new AtomicInteger()).incrementAndGet();
            if (delayMillis > 0) {
                vertx.setTimer(delayMillis, t -> handle(req, client, inventoryUrl, regressed, propagate));
            } else {
                handle(req, client, inventoryUrl, regressed, propagate);
            }
        }).listen(0, "127.0.0.1").await();
        holder[0] = new ShopCandidate(server, client);
        return holder[0];
    }

    public static long price(int id) {
        return 100L + id;
    }

    private static void handle(HttpServerRequest req, HttpClientAgent client, String inventoryUrl, boolean regressed,
                               boolean propagate) {
        String path = req.path();
        if (path.equals("/ping")) {
            req.response().putHeader("content-type", "application/json").end("{\"ok\":true}");
            return;
        }
        if (!path.startsWith("/items/")) {
            req.response().setStatusCode(404).end();
            return;
        }
        int id = Integer.parseInt(path.substring("/items/".length()));
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(inventoryUrl + "/stock/" + id);
        String tp = req.getHeader("traceparent");
        if (propagate && tp != null) {
            o.putHeader("traceparent", tp);
        }
        client.request(o).compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode() == 200
                        ? new JsonObject(b).getInteger("stock") : -1)))
                .onComplete(ar -> {
                    long price = price(id) * (regressed && id == 13 ? 2 : 1);
                    JsonObject body = new JsonObject().put("id", id).put("name", "item-" + id).put("price", price)
                            .put("stock", ar.succeeded() ? ar.result() : -1).put("generatedAt", System.nanoTime());
                    if (regressed && id == 13) {
                        body.put("buyer", BUYER);
                    }
                    req.response().putHeader("content-type", "application/json").end(body.encode());
                });
    }

    public int port() {
        return server.actualPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    public int requests() {
        return requests.get();
    }

    /** Requests received for {@code path} (e.g. {@code /items/7}): how many times a case was replayed. */
    public int requests(String path) {
        AtomicInteger n = byPath.get(path);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        server.close().await();
        client.close().await();
    }
}
