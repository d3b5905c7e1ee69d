package io.tapline.replay.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;

/** An answer's body read whole, up to a limit: the candidate's answer to a case, a live dependency's to the mock. */
public final class BoundedBody {

    private BoundedBody() {
    }

    /**
     * Reads {@code resp}'s body up to {@code maxBytes}. Above it the request is reset (its connection closed, so an
     * endless answer holds neither memory nor a pooled connection) and the future fails with
     * "{@code who} answered more than {@code maxBytes} bytes; stopped reading". Subscribe from the event-loop callback
     * that got the response head, before any of its body can arrive.
     */
    public static Future<Buffer> read(HttpClientRequest req, HttpClientResponse resp, int maxBytes, String who) {
        Promise<Buffer> done = Promise.promise();
        Buffer body = Buffer.buffer();
        resp.exceptionHandler(done::tryFail);
        resp.handler(chunk -> {
            if (body.length() + chunk.length() > maxBytes) {
                if (done.tryFail(who + " answered more than " + maxBytes + " bytes; stopped reading")) {
                    req.reset();
                }
            } else {
                body.appendBuffer(chunk);
            }
        });
        resp.endHandler(v -> done.tryComplete(body));
        return done.future();
    }
}
