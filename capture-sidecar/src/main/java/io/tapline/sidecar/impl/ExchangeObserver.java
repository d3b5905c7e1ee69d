package io.tapline.sidecar.impl;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;

/** Hooks of the capture into the proxy engine. Called on the request's event loop; must not block. */
public interface ExchangeObserver {

    /**
     * Called with the request head, before it is forwarded.
     *
     * @param upstreamHeaders headers about to be sent upstream; the observer may add some (e.g. traceparent)
     * @return where to deliver the finished exchange, or null when nothing needs to know
     */
    Sink begin(HttpServerRequest request, MultiMap upstreamHeaders, long startNanos);

    /**
     * Called with the head of a WebSocket upgrade, which is tunneled uncaptured, before it is forwarded.
     *
     * @return run once when the WebSocket has ended (refused, failed, or its tunnel closed)
     */
    default Runnable tunnel(HttpServerRequest request) {
        return () -> { };
    }

    /** Receives the finished exchange exactly once. */
    interface Sink {
        void completed(Exchange exchange);

        /** False for a sink that only wants to know when the exchange ends (no headers or bodies kept). */
        default boolean capturing() {
            return true;
        }

        /** The tap a body of this exchange streams through: how much of it is copied, and from what budget. */
        default BodyTap tap(ReadStream<Buffer> body) {
            return new BodyTap(body);
        }
    }
}
