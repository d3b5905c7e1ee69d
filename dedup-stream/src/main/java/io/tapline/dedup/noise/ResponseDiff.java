package io.tapline.dedup.noise;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.avro.Header;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.dedup.signature.Bodies;
import io.tapline.dedup.signature.Shapes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Field-by-field comparison of two responses to identical requests: which paths were compared and which differed.
 * JSON bodies are flattened to paths ({@code $.items[*].id}); other bodies compare as one field {@code body};
 * headers compare as {@code header:<lower-case name>}.
 */
public final class ResponseDiff {

    /** A path compared in a pair, and whether it differed. */
    public record Outcome(List<String> compared, List<String> differing) {
    }

    private ResponseDiff() {
    }

    /**
     * Request headers that say who is asking or which representation they want: {@code GET /me} of two users, or in
     * two languages, is not the same request, and fields that differ between their answers are not noise. Credential
     * values are redaction tokens by now, which stay equal for one caller.
     */
    static final Set<String> CALLER_HEADERS = Set.of("authorization", "proxy-authorization", "cookie", "x-api-key",
            "accept", "accept-language", "x-tenant-id", "x-user-id");

    /**
     * Fingerprint of what makes two requests "the same request": method, path, raw query, body bytes and the
     * {@link #CALLER_HEADERS caller's identity headers}. Other headers are left out on purpose: trace ids and dates
     * differ on every request without changing its meaning.
     */
    public static long requestFingerprint(HttpRequest request) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            TreeMap<String, List<String>> caller = new TreeMap<>();
            for (Header h : request.getHeaders()) {
                String name = h.getName().toLowerCase(Locale.ROOT);
                if (CALLER_HEADERS.contains(name)) {
                    caller.computeIfAbsent(name, k -> new ArrayList<>()).add(h.getValue());
                }
            }
            caller.forEach((name, values) -> {
                sha.update(name.getBytes(StandardCharsets.UTF_8));
                for (String v : values) {
                    sha.update((byte) 1);
                    sha.update(v.getBytes(StandardCharsets.UTF_8));
                }
                sha.update((byte) 0);
            });
            sha.update(request.getMethod().toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(request.getPath().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(Objects.toString(request.getRawQuery(), "").getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(Bodies.bytes(request.getBody()));
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    public static Outcome compare(HttpResponse a, HttpResponse b) {
        TreeSet<String> compared = new TreeSet<>();
        TreeSet<String> differing = new TreeSet<>();
        diff(headers(a.getHeaders()), headers(b.getHeaders()), compared, differing);
        byte[] bodyA = Bodies.decode(Bodies.bytes(a.getBody()), a.getContentEncoding());
        byte[] bodyB = Bodies.decode(Bodies.bytes(b.getBody()), b.getContentEncoding());
        JsonNode jsonA = bodyA == null || bodyA.length == 0 ? null : Shapes.parse(bodyA);
        JsonNode jsonB = bodyB == null || bodyB.length == 0 ? null : Shapes.parse(bodyB);
        if (jsonA != null && jsonB != null && (jsonA.isContainerNode() || jsonB.isContainerNode())) {
            Map<String, List<String>> flatA = new TreeMap<>();
            Map<String, List<String>> flatB = new TreeMap<>();
            Shapes.flatten(jsonA, "$", flatA, 0);
            Shapes.flatten(jsonB, "$", flatB, 0);
            diff(flatA, flatB, compared, differing);
        } else if (bodyA != null && bodyB != null && (bodyA.length > 0 || bodyB.length > 0)) {
            compared.add("body");
            if (!Arrays.equals(bodyA, bodyB)) {
                differing.add("body");
            }
        }
        return new Outcome(new ArrayList<>(compared), new ArrayList<>(differing));
    }

    private static void diff(Map<String, List<String>> a, Map<String, List<String>> b,
                             TreeSet<String> compared, TreeSet<String> differing) {
        TreeSet<String> paths = new TreeSet<>(a.keySet());
        paths.addAll(b.keySet());
        for (String path : paths) {
            compared.add(path);
            if (!Objects.equals(a.get(path), b.get(path))) {
                differing.add(path);
            }
        }
    }

    private static Map<String, List<String>> headers(List<Header> headers) {
        Map<String, List<String>> out = new TreeMap<>();
        for (Header h : headers) {
            out.computeIfAbsent("header:" + h.getName().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
        }
        return out;
    }
}
