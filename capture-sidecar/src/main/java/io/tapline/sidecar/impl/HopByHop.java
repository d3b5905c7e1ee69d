package io.tapline.sidecar.impl;

import io.vertx.core.MultiMap;

import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Hop-by-hop header handling per RFC 9110 §7.6.1: these apply to one connection and are never forwarded. */
public final class HopByHop {

    /** Always hop-by-hop (plus Proxy-Connection, which some clients still send). */
    static final Set<String> ALWAYS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authenticate", "proxy-authorization");

    private HopByHop() {
    }

    /** Copies end-to-end headers: drops the fixed set and any header named in {@code Connection}. */
    public static void copyEndToEnd(MultiMap from, MultiMap to) {
        Set<String> named = connectionTokens(from);
        for (Map.Entry<String, String> e : from) {
            String lower = e.getKey().toLowerCase(Locale.ROOT);
            if (!ALWAYS.contains(lower) && !named.contains(lower)) {
                to.add(e.getKey(), e.getValue());
            }
        }
    }

    static Set<String> connectionTokens(MultiMap headers) {
        Set<String> out = new HashSet<>();
        for (String v : headers.getAll("connection")) {
            for (String token : v.split(",")) {
                String t = token.trim().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
    }
}
