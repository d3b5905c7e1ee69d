package io.tapline.sidecar.impl;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HopByHopTest {

    private static MultiMap head() {
        return MultiMap.caseInsensitiveMultiMap()
                .add("Host", "x")
                .add("Connection", "keep-alive, X-Forwarded-For, traceparent, X-Custom")
                .add("X-Forwarded-For", "203.0.113.7")
                .add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .add("X-Custom", "1")
                .add("Accept", "*/*");
    }

    private static List<String> lines(MultiMap m) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : m) {
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    /**
     * The inbound listener keeps the forwarded headers and the trace context a client names in Connection, in their
     * place and spelled as the client sent them: put back after the copy, they were spelled in lower case and moved
     * after every other header.
     */
    @Test
    void theManagedHeadersAClientNamesInConnectionAreKeptInPlaceAsSpelled() {
        MultiMap up = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(head(), up, true, null);
        assertEquals(List.of("Host: x", "X-Forwarded-For: 203.0.113.7",
                "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Accept: */*"), lines(up));
    }

    /**
     * A request's Host line is copied in the client's spelling and place, with the value the upstream is to get when
     * one is given; none named in Connection takes it away. Without one from the client, one is added last.
     */
    @Test
    void aRequestsHostLineKeepsItsSpellingAndPlaceAndTakesTheValueGiven() {
        MultiMap head = MultiMap.caseInsensitiveMultiMap().add("X-A", "1").add("HOST", "h:0081").add("Connection", "Host")
                .add("X-B", "2");
        MultiMap asSent = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(head, asSent, true, null);
        assertEquals(List.of("X-A: 1", "HOST: h:0081", "X-B: 2"), lines(asSent));
        MultiMap replaced = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(head, replaced, false, "dep:8080");
        assertEquals(List.of("X-A: 1", "HOST: dep:8080", "X-B: 2"), lines(replaced));
        MultiMap added = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(MultiMap.caseInsensitiveMultiMap().add("X-A", "1"), added, false, "dep");
        assertEquals(List.of("X-A: 1", "host: dep"), lines(added));
        MultiMap answer = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(head, answer);
        assertEquals(List.of("X-A: 1", "X-B: 2"), lines(answer), "elsewhere a Host named in Connection is dropped too");
    }

    /** Elsewhere (answers, the egress listener) every header Connection names is dropped, as RFC 9110 7.6.1 says. */
    @Test
    void withoutKeepingManagedHeadersEveryHeaderConnectionNamesIsDropped() {
        MultiMap up = MultiMap.caseInsensitiveMultiMap();
        HopByHop.copyEndToEnd(head(), up);
        assertEquals(List.of("Host: x", "Accept: */*"), lines(up));
    }
}
