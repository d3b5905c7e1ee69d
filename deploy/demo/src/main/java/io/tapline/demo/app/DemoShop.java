package io.tapline.demo.app;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.time.Instant;
import java.util.UUID;

/**
 * The demo's service under test: a small shop with three routes and one dependency (inventory).
 * <ul>
 *   <li>{@code GET /products/{id}} reads stock from inventory;</li>
 *   <li>{@code GET /owners/{id}/orders?page=N} answers from its own data, with the owner's contact email;</li>
 *   <li>{@code POST /orders} reserves stock in inventory and creates an order.</li>
 * </ul>
 * Every answer carries a generated id and a timestamp (noise). Version v2 plants five regressions: {@code inStock}
 * renamed to {@code in_stock} on products; on order creation, 200 instead of 201 and the reservation sent to inventory
 * with {@code quantity} where its API reads {@code qty}; and when listing an owner's orders, an extra call to
 * inventory's loyalty endpoint and the next owner's contact email. Like an app instrumented with OpenTelemetry, it propagates the
 * inbound {@code traceparent} to its outbound calls.
 */
public final class DemoShop {

    public enum Version { V1, V2 }

    private final Version version;
    private final HttpClient client;
    private final URI inventory;

    private DemoShop(Vertx vertx, Version version, URI inventory) {
        this.version = version;
        this.client = vertx.createHttpClient();
        this.inventory = inventory;
    }

    /** Starts the shop; {@code inventoryUrl} is where its dependency is reached (directly, via egress, or a mock). */
    public static Future<HttpServer> start(Vertx vertx, Version version, String host, int port, String inventoryUrl) {
        DemoShop shop = new DemoShop(vertx, version, URI.create(inventoryUrl.endsWith("/")
                ? inventoryUrl.substring(0, inventoryUrl.length() - 1) : inventoryUrl));
        return vertx.createHttpServer().requestHandler(shop::handle).listen(port, host);
    }

    static double price(long id) {
        return Math.floorMod(id * 37, 1000) / 10.0 + 0.9;
    }

    static String sku(long id) {
        return "SKU-" + Math.floorMod(id, 50);
    }

    private void handle(HttpServerRequest request) {
        String[] parts = request.path().split("/");
        try {
            if (request.method() == HttpMethod.GET && parts.length == 3 && parts[1].equals("products")) {
                product(request, Long.parseLong(parts[2]));
            } else if (request.method() == HttpMethod.GET && parts.length == 4 && parts[1].equals("owners")
                    && parts[3].equals("orders")) {
                ownerOrders(request, Long.parseLong(parts[2]));
            } else if (request.method() == HttpMethod.POST && request.path().equals("/orders")) {
                createOrder(request);
            } else if (request.path().equals("/health")) {
                request.response().end("ok");
            } else {
                DemoInventory.json(request, 404, new JsonObject().put("error", "no route " + request.path()));
            }
        } catch (NumberFormatException e) {
            DemoInventory.json(request, 400, new JsonObject().put("error", "ids are numbers"));
        }
    }

    private void product(HttpServerRequest request, long id) {
        if (id > 100_000) {
            DemoInventory.json(request, 404, new JsonObject().put("error", "no such product").put("id", id));
            return;
        }
        String sku = sku(id);
        call(request, HttpMethod.GET, "/stock/" + sku, null).onComplete(ar -> {
            if (ar.failed()) {
                DemoInventory.json(request, 503, new JsonObject().put("error", "inventory unavailable"));
                return;
            }
            int available = ar.result().getInteger("available", 0);
            JsonObject body = new JsonObject().put("id", id).put("name", "product-" + id).put("sku", sku)
                    .put("price", price(id));
            body.put(version == Version.V2 ? "in_stock" : "inStock", available > 0);
            body.put("available", available).put("requestId", UUID.randomUUID().toString())
                    .put("servedAt", Instant.now().toString());
            DemoInventory.json(request, 200, body);
        });
    }

    private void ownerOrders(HttpServerRequest request, long owner) {
        int page = parsePage(request.params());
        JsonArray orders = new JsonArray();
        for (int i = 0; i < 3; i++) {
            long n = owner * 10 + page * 3L + i;
            orders.add(new JsonObject().put("orderId", "o-" + n).put("total", price(n)).put("items", 1 + (int) (n % 3)));
        }
        // The owner's contact email comes from the shop's own data (the capture redacts it): v2 looks it up for the
        // next owner, a regression the replay can only judge with the sidecar's redaction key.
        String contact = "owner" + (version == Version.V2 ? owner + 1 : owner) + "@example.com";
        JsonObject body = new JsonObject().put("owner", owner).put("contact", contact).put("page", page)
                .put("orders", orders);
        if (version == Version.V2) {
            call(request, HttpMethod.GET, "/loyalty/" + owner, null).onComplete(ar -> {
                body.put("generatedAt", Instant.now().toString());
                DemoInventory.json(request, 200, body);
            });
        } else {
            body.put("generatedAt", Instant.now().toString());
            DemoInventory.json(request, 200, body);
        }
    }

    private void createOrder(HttpServerRequest request) {
        request.body().onSuccess(raw -> {
            JsonObject in;
            try {
                in = raw.length() == 0 ? new JsonObject() : new JsonObject(raw);
            } catch (RuntimeException e) {
                DemoInventory.json(request, 400, new JsonObject().put("error", "body must be JSON"));
                return;
            }
            String sku = in.getString("sku", "SKU-0");
            int qty = in.getInteger("qty", 1);
            // v2 names the quantity as inventory's API does not: inventory reserves its default of 1 instead. The
            // idempotency key is new on every request, in both versions: noise the dedup stream learns.
            JsonObject reserve = new JsonObject().put("sku", sku).put(version == Version.V2 ? "quantity" : "qty", qty)
                    .put("idempotencyKey", UUID.randomUUID().toString());
            call(request, HttpMethod.POST, "/reserve", reserve).onComplete(ar -> {
                if (ar.failed() || !ar.result().getBoolean("ok", false)) {
                    DemoInventory.json(request, 409, new JsonObject().put("error", "could not reserve").put("sku", sku));
                    return;
                }
                long skuNumber = Long.parseLong(sku.replaceAll("\\D", "0"));
                JsonObject order = new JsonObject().put("orderId", UUID.randomUUID().toString()).put("status", "CREATED")
                        .put("sku", sku).put("qty", qty).put("total", Math.round(qty * price(skuNumber) * 100) / 100.0)
                        .put("createdAt", Instant.now().toString());
                DemoInventory.json(request, version == Version.V2 ? 200 : 201, order);
            });
        });
    }

    private static int parsePage(MultiMap params) {
        try {
            return Math.max(1, Integer.parseInt(params.get("page") == null ? "1" : params.get("page")));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private Future<JsonObject> call(HttpServerRequest inbound, HttpMethod method, String path, JsonObject body) {
        int port = inventory.getPort() > 0 ? inventory.getPort() : 80;
        String prefix = inventory.getPath() == null ? "" : inventory.getPath();
        RequestOptions options = new RequestOptions().setMethod(method).setHost(inventory.getHost()).setPort(port)
                .setURI(prefix + path);
        String traceparent = inbound.getHeader("traceparent");
        if (traceparent != null) {
            options.putHeader("traceparent", traceparent);
        }
        return client.request(options)
                .compose(req -> body == null ? req.send() : req.putHeader("Content-Type", "application/json")
                        .send(Buffer.buffer(body.encode())))
                .compose(response -> response.statusCode() / 100 == 2 ? response.body()
                        : Future.failedFuture("inventory answered " + response.statusCode()))
                .map(buffer -> buffer.length() == 0 ? new JsonObject() : new JsonObject(buffer));
    }

}
