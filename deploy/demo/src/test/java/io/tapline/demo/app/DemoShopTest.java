package io.tapline.demo.app;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DemoShopTest {

    private Vertx vertx;
    private HttpClient client;
    private final List<String> inventoryCalls = new CopyOnWriteArrayList<>();
    /** The reservations the shop sent: method, path, traceparent and body. */
    private final List<String> reservations = new CopyOnWriteArrayList<>();
    private int inventoryPort;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        client = vertx.createHttpClient();
        // The real inventory handler behind a recording front, to see which calls the shop makes.
        var inventory = DemoInventory.handler();
        HttpServer recorder = vertx.createHttpServer().requestHandler(req -> {
            inventoryCalls.add(req.method() + " " + req.path() + " " + req.getHeader("traceparent"));
            if (req.path().equals("/reserve")) {
                req.body().onSuccess(b -> reservations.add(req.method() + " " + req.path() + " "
                        + req.getHeader("traceparent") + " " + b));
            }
            inventory.handle(req);
        }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
        inventoryPort = recorder.actualPort();
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private int shop(DemoShop.Version version) throws Exception {
        return DemoShop.start(vertx, version, "127.0.0.1", 0, "http://127.0.0.1:" + inventoryPort)
                .await(10, TimeUnit.SECONDS).actualPort();
    }

    private Response call(int port, HttpMethod method, String uri, String body, String traceparent) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri);
        if (traceparent != null) {
            options.putHeader("traceparent", traceparent);
        }
        // On a Vert.x context, subscribing to the body in the callback that gets the response head: from the test
        // thread, a callback can run on this thread while the event loop delivers the body, which is then lost.
        Promise<Response> response = Promise.promise();
        vertx.runOnContext(v -> client.request(options)
                .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
                .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), new JsonObject(b))))
                .onComplete(response));
        return response.future().await(10, TimeUnit.SECONDS);
    }

    record Response(int status, JsonObject body) {
    }

    @Test
    void v1AnswersTheThreeRoutesWithNoiseAndPropagatesTraceparent() throws Exception {
        int port = shop(DemoShop.Version.V1);
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        Response product = call(port, HttpMethod.GET, "/products/7", null, traceparent);
        assertEquals(200, product.status());
        assertTrue(product.body().containsKey("inStock"));
        assertEquals(List.of("GET /stock/SKU-7 " + traceparent), inventoryCalls);

        Response again = call(port, HttpMethod.GET, "/products/7", null, null);
        assertEquals(product.body().getDouble("price"), again.body().getDouble("price"));
        assertNotEquals(product.body().getString("requestId"), again.body().getString("requestId"), "noise field");

        inventoryCalls.clear();
        Response orders = call(port, HttpMethod.GET, "/owners/3/orders?page=2", null, null);
        assertEquals(200, orders.status());
        assertEquals(3, orders.body().getJsonArray("orders").size());
        assertEquals("owner3@example.com", orders.body().getString("contact"));
        assertEquals(List.of(), inventoryCalls, "no dependency call: the loyalty call is v2's extra one");

        Response created = call(port, HttpMethod.POST, "/orders", "{\"sku\":\"SKU-3\",\"qty\":2}", null);
        assertEquals(201, created.status());
        assertEquals(1, reservations.size());
        assertTrue(reservations.get(0).matches("POST /reserve null \\{\"sku\":\"SKU-3\",\"qty\":2,"
                + "\"idempotencyKey\":\"[0-9a-f-]{36}\"}"), reservations.get(0));
        assertEquals("CREATED", created.body().getString("status"));
    }

    @Test
    void v2PlantsARenamedFieldAChangedStatusAMisnamedReservationFieldAnExtraCallAndAnotherOwnersContact() throws Exception {
        int port = shop(DemoShop.Version.V2);
        Response product = call(port, HttpMethod.GET, "/products/7", null, null);
        assertTrue(product.body().containsKey("in_stock"));
        assertFalse(product.body().containsKey("inStock"));

        inventoryCalls.clear();
        assertEquals(200, call(port, HttpMethod.POST, "/orders", "{\"sku\":\"SKU-3\",\"qty\":2}", null).status());
        assertEquals(1, reservations.size());
        assertTrue(reservations.get(0).matches("POST /reserve null \\{\"sku\":\"SKU-3\",\"quantity\":2,"
                + "\"idempotencyKey\":\"[0-9a-f-]{36}\"}"), reservations.get(0));

        inventoryCalls.clear();
        Response orders = call(port, HttpMethod.GET, "/owners/3/orders", null, null);
        assertEquals(200, orders.status());
        assertEquals("owner4@example.com", orders.body().getString("contact"));
        assertEquals(1, inventoryCalls.size());
        assertTrue(inventoryCalls.get(0).startsWith("GET /loyalty/3"), inventoryCalls.toString());
    }

    @Test
    void badIdsAreClientErrors() throws Exception {
        int port = shop(DemoShop.Version.V1);
        assertEquals(400, call(port, HttpMethod.GET, "/products/abc", null, null).status());
        assertEquals(404, call(port, HttpMethod.GET, "/products/999999", null, null).status());
    }
}
