package io.tapline.replay.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Vert.x (the version in the root pom) does with an exception thrown inside a callback, which the replay's
 * callbacks are written for (README, How failures become results): a throw inside a future's listener or an HTTP
 * handler never fails anything, and what was waiting for that callback's work waits on.
 */
@Timeout(30)
class VertxCallbacksTest {

    private Vertx vertx;
    private final List<Throwable> reported = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        vertx.exceptionHandler(reported::add); // where Vert.x reports it; without one it logs "Unhandled exception"
    }

    @AfterEach
    void tearDown() {
        vertx.close().await();
    }

    /** Completes {@code p} on an event loop; returns what completing it did: nothing is thrown back at the completer. */
    private String complete(Context context, Promise<String> p) throws Exception {
        Promise<String> done = Promise.promise();
        context.runOnContext(v -> {
            try {
                p.complete("x");
                done.complete("returned");
            } catch (RuntimeException e) {
                done.complete("threw " + e);
            }
        });
        return done.future().await(5, TimeUnit.SECONDS);
    }

    @Test
    void aThrowInAListenerIsNoFailureOfTheFutureAndTheOtherListenersRun() throws Exception {
        Context context = vertx.getOrCreateContext();
        for (boolean onContext : new boolean[] {false, true}) {
            reported.clear();
            Promise<String> p = onContext ? ((ContextInternal) context).promise() : Promise.promise();
            Future<String> f = p.future();
            List<String> ran = new CopyOnWriteArrayList<>();
            Future<String> same = f.onComplete(ar -> {
                throw new IllegalStateException("boom");
            });
            f.onSuccess(s -> {
                throw new IllegalStateException("boom");
            });
            f.onComplete(ar -> ran.add("next"));
            assertEquals("returned", complete(context, p));
            assertEquals(List.of("next"), ran);
            assertTrue(same == f && f.succeeded());
            // a future bound to a context reports the throws to it (logged "Unhandled exception" without a handler);
            // one made by Promise.promise() drops them without a word
            assertEquals(onContext ? 2 : 0, reported.size(), reported::toString);
        }
    }

    @Test
    void aThrowInAndThenFailsTheFutureItReturnsUnlikeOnComplete() {
        Promise<String> p = Promise.promise();
        Future<String> after = p.future().andThen(ar -> {
            throw new IllegalStateException("boom");
        });
        Future<String> mapped = p.future().map(s -> {
            throw new IllegalStateException("boom");
        });
        p.complete("x");
        assertTrue(after.failed() && mapped.failed());
    }

    /** The answer a POST to a server whose request handling is {@code handling} gets, or how it failed. */
    private String post(Consumer<HttpServerRequest> handling) throws Exception {
        HttpServer server = vertx.createHttpServer().requestHandler(handling::accept).listen(0, "127.0.0.1").await();
        HttpClientAgent client = vertx.createHttpClient();
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                .setPort(server.actualPort()).setURI("/").setIdleTimeout(1000);
        Promise<String> answer = Promise.promise();
        vertx.runOnContext(v -> client.request(o).compose(r -> r.send("body"))
                .compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b))
                .onComplete(ar -> answer.complete(ar.succeeded() ? ar.result() : "no answer")));
        return answer.future().await(10, TimeUnit.SECONDS);
    }

    @Test
    void aThrowInAServerRequestHandlerOrEndHandlerLeavesTheRequestUnanswered() throws Exception {
        assertEquals("no answer", post(req -> {
            throw new IllegalStateException("boom");
        }));
        assertEquals("no answer", post(req -> req.endHandler(v -> {
            throw new IllegalStateException("boom");
        })));
        // a throw in the body's handler loses that chunk only: the end still comes
        assertEquals("200 ok", post(req -> {
            req.handler(chunk -> {
                throw new IllegalStateException("boom");
            });
            req.endHandler(v -> req.response().end("ok"));
        }));
        assertEquals(3, reported.size(), reported::toString);
    }

    @Test
    void aThrowInAClientResponseEndHandlerEndsNothingElse() {
        HttpServer server = vertx.createHttpServer().requestHandler(req -> req.response().end("hello"))
                .listen(0, "127.0.0.1").await();
        HttpClientAgent client = vertx.createHttpClient();
        Promise<String> after = Promise.promise();
        vertx.runOnContext(v -> client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
                .compose(r -> r.send())
                .onSuccess(resp -> {
                    resp.endHandler(x -> {
                        throw new IllegalStateException("boom");
                    });
                    resp.exceptionHandler(e -> after.tryComplete("exception " + e));
                }));
        String seen = after.future().timeout(1, TimeUnit.SECONDS).recover(e -> Future.succeededFuture("nothing")).await();
        assertEquals("nothing", seen);
        assertEquals(1, reported.size(), reported::toString);
    }
}
