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
 * headers compare as {@code header:<lower-case name>}. A response is first reduced to {@link ResponseFields} (a digest
 * per field), which is also what is kept as the baseline of a request between two comparisons.
 */
public final class ResponseDiff {

    /** A path compared in a pair, and whether it differed. */
    public record Outcome(List<String> compared, List<String> differing) {
    }

    /**
     * Longer field paths (a JSON key of kilobytes) are not compared: the stores and the repartition topic write a path
     * in at most 64 KiB of modified UTF-8, and such a key is no field anyone would ignore.
     */
    static final int MAX_PATH_CHARS = 4096;

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
        MessageDigest sha = sha256();
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
    }

    /**
     * The response as noise compares it: headers as {@code header:<lower-case name>}, a JSON object or array body
     * flattened to paths (values of one {@code [*]} path taken as an ordered list), any other non-empty body as one
     * field {@code body}; each field's values reduced to a digest.
     */
    public static ResponseFields fields(HttpResponse response) {
        MessageDigest sha = sha256();
        Map<String, List<String>> values = headers(response.getHeaders());
        byte[] body = Bodies.decode(Bodies.bytes(response.getBody()), response.getContentEncoding());
        JsonNode json = body == null || body.length == 0 ? null : Shapes.parse(body);
        boolean structured = json != null && json.isContainerNode();
        if (structured) {
            Shapes.flatten(json, "$", values, 0);
        }
        TreeMap<String, Long> digests = new TreeMap<>();
        values.forEach((path, v) -> {
            if (path.length() <= MAX_PATH_CHARS) {
                digests.put(path, digest(sha, v));
            }
        });
        if (!structured && body != null && body.length > 0) {
            sha.update(body);
            digests.put("body", ByteBuffer.wrap(sha.digest()).getLong());
        }
        return ResponseFields.wrap(digests);
    }

    /** Every field present in either response, and those whose values differ (or that only one of them has). */
    public static Outcome compare(ResponseFields a, ResponseFields b) {
        TreeSet<String> compared = new TreeSet<>(a.digests().keySet());
        compared.addAll(b.digests().keySet());
        List<String> differing = new ArrayList<>();
        for (String path : compared) {
            if (!Objects.equals(a.digests().get(path), b.digests().get(path))) {
                differing.add(path);
            }
        }
        return new Outcome(new ArrayList<>(compared), differing);
    }

    private static long digest(MessageDigest sha, List<String> values) {
        for (String v : values) {
            sha.update(v.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
        }
        return ByteBuffer.wrap(sha.digest()).getLong();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
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
