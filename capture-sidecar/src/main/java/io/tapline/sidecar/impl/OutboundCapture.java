package io.tapline.sidecar.impl;

import io.tapline.avro.Attribution;
import io.tapline.avro.CallKind;

/**
 * An outbound call as captured on the event loop, before redaction.
 *
 * @param destination egress route name, or host:port for forward-proxied calls and tunnels
 * @param exchange    the call's exchange (request head is CONNECT host:port for a tunnel)
 * @param bytesUp     for a tunnel, bytes the app sent; otherwise the request body size
 * @param bytesDown   for a tunnel, bytes the app received; otherwise the response body size
 */
public record OutboundCapture(String destination, CallKind kind, Exchange exchange, Attribution attribution,
                              long bytesUp, long bytesDown) {

    long estimatedBytes() {
        long n = 128;
        if (exchange.request() != null) {
            n += exchange.request().estimatedBytes();
        }
        if (exchange.response() != null) {
            n += exchange.response().estimatedBytes();
        }
        return n;
    }
}
