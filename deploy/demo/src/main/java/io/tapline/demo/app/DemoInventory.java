package io.tapline.demo.app;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.UUID;

/**
 * The demo's dependency: an inventory service the shop calls. Stock levels are a pure function of the SKU; each
 * answer carries a timestamp (and reservations a generated id), as real services do.
 */
public final class DemoInventory {

    private DemoInventory() {
    }

    public static Future<HttpServer> start(Vertx vertx, String host, int port) {
        return vertx.createHttpServer().requestHandler(handler()).listen(port, host);
    }

    public static Handler<HttpServerRequest> handler() {
        return DemoInventory::handle;
    }

    static int available(String sku) {
        return Math.floorMod(sku.hashCode(), 7) == 0 ? 0 : Math.floorMod(sku.hashCode(), 40) + 1;
    }

    private static void handle(HttpServerRequest request) {
        String path = request.path();
        if (path.startsWith("/stock/")) {
            String sku = path.substring("/stock/".length());
            json(request, 200, new JsonObject().put("sku", sku).put("available", available(sku))
                    .put("checkedAt", Instant.now().toString()));
        } else if (path.equals("/reserve") && request.method().name().equals("POST")) {
            request.body().onSuccess(body -> {
                JsonObject in = body.length() == 0 ? new JsonObject() : new JsonObject(body);
                json(request, 200, new JsonObject().put("reservation", "r-" + UUID.randomUUID())
                        .put("sku", in.getString("sku")).put("qty", in.getInteger("qty", 1)).put("ok", true));
            });
        } else if (path.startsWith("/loyalty/")) {
            String owner = path.substring("/loyalty/".length());
            json(request, 200, new JsonObject().put("owner", owner).put("tier", owner.hashCode() % 2 == 0 ? "gold" : "silver"));
        } else {
            json(request, 404, new JsonObject().put("error", "not found"));
        }
    }

    static void json(HttpServerRequest request, int status, JsonObject body) {
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }
}
