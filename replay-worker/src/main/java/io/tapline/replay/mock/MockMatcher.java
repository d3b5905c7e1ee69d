package io.tapline.replay.mock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.OutboundCall;
import io.tapline.signature.RouteTemplates;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scores how well a candidate's outbound call matches a recorded one. Method and destination must be equal,
 * and the path must at least share the route template; the rest adds up to an explicit score in [0, 1]:
 * <pre>
 *   path      exact 0.40 | same route template 0.25
 *   query     same parameters and values 0.30 | same parameter names 0.15 | else 0
 *   body      equal bytes or equal JSON 0.30 | else 0
 * </pre>
 * A call is answered from the best recorded call scoring at least the configured minimum. Stateless, thread-safe.
 */
public final class MockMatcher {

    public static final double PATH_EXACT = 0.40;
    public static final double PATH_TEMPLATE = 0.25;
    public static final double QUERY_EXACT = 0.30;
    public static final double QUERY_NAMES = 0.15;
    public static final double BODY_EQUAL = 0.30;
    /** Default minimum: an exact path and query, or a templated path with equal query names and body. */
    public static final double DEFAULT_MIN_SCORE = 0.60;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final double minScore;

    public MockMatcher(double minScore) {
        if (!(minScore > 0 && minScore <= 1)) { // also refuses NaN
            throw new IllegalArgumentException("minimum match score must be in (0, 1], got " + minScore);
        }
        this.minScore = minScore;
    }

    public double minScore() {
        return minScore;
    }

    /** Score of {@code call} against {@code recorded}: 0 when method, destination or route differ. */
    public double score(MockRequest call, OutboundCall recorded) {
        HttpRequest req = recorded.getRequest();
        if (!call.method().equalsIgnoreCase(req.getMethod())) {
            return 0;
        }
        if (!sameDestination(call.destination(), recorded.getDestination())) {
            return 0;
        }
        String recordedPath = withoutRoutePrefix(req.getPath(), recorded.getDestination());
        double score;
        if (call.path().equals(recordedPath)) {
            score = PATH_EXACT;
        } else if (RouteTemplates.normalise(call.path()).equals(RouteTemplates.normalise(recordedPath))) {
            score = PATH_TEMPLATE;
        } else {
            return 0;
        }
        Map<String, List<String>> q1 = query(call.rawQuery());
        Map<String, List<String>> q2 = query(req.getRawQuery());
        if (q1.equals(q2)) {
            score += QUERY_EXACT;
        } else if (q1.keySet().equals(q2.keySet())) {
            score += QUERY_NAMES;
        }
        if (sameBody(call.body(), bytes(req.getBody()))) {
            score += BODY_EQUAL;
        }
        return Math.round(score * 100) / 100.0;
    }

    /** True when a score is high enough to answer from the recorded call. */
    public boolean accepts(double score) {
        return score + 1e-9 >= minScore;
    }

    /**
     * The dependency's own path of a recorded named-route call. The sidecar may record the path the app sent to its
     * egress listener ({@code /inventory/stock/42} for route {@code inventory}); the mock strips the route name, so
     * both are compared without it.
     */
    static String withoutRoutePrefix(String path, String destination) {
        String prefix = "/" + destination;
        if (path.equals(prefix)) {
            return "/";
        }
        return path.startsWith(prefix + "/") ? path.substring(prefix.length()) : path;
    }

    static boolean sameDestination(String a, String b) {
        return stripDefaultPort(a).equals(stripDefaultPort(b));
    }

    private static String stripDefaultPort(String destination) {
        String d = destination.toLowerCase(Locale.ROOT);
        return d.endsWith(":80") ? d.substring(0, d.length() - 3) : d;
    }

    /** Query parameters, decoded, names sorted, values in order. */
    static Map<String, List<String>> query(String rawQuery) {
        Map<String, List<String>> out = new TreeMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // malformed escapes: compare the raw text
        }
    }

    static boolean sameBody(byte[] a, byte[] b) {
        if (Arrays.equals(a, b)) {
            return true;
        }
        if (a.length == 0 || b.length == 0) {
            return false;
        }
        try {
            JsonNode ja = MAPPER.readTree(a);
            JsonNode jb = MAPPER.readTree(b);
            return ja != null && ja.equals(jb);
        } catch (IOException e) {
            return false;
        }
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
