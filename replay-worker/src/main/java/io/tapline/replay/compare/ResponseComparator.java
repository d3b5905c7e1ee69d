package io.tapline.replay.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;
import net.javacrumbs.jsonunit.core.Configuration;
import net.javacrumbs.jsonunit.core.Option;
import net.javacrumbs.jsonunit.core.internal.Diff;
import net.javacrumbs.jsonunit.core.listener.DifferenceContext;
import net.javacrumbs.jsonunit.core.listener.DifferenceListener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares a recorded response with the candidate's: status, headers, and the body by its kind
 * (JSON structurally with JsonUnit, text normalised, binary by hash). Stateless and thread-safe.
 */
public final class ResponseComparator {

    /** JsonUnit treats this placeholder in expected values as "ignore"; make it one no real body contains. */
    private static final String NO_PLACEHOLDER = "\u0000tapline-no-ignore-placeholder\u0000";
    private static final int MAX_RENDERED_CHARS = 512;

    private final CompareOptions options;
    private final IgnoreRules rules;
    private final ObjectMapper mapper = new ObjectMapper();

    public ResponseComparator(CompareOptions options, IgnoreRules rules) {
        this.options = options;
        this.rules = rules;
    }

    /**
     * Compares {@code candidate} against {@code recorded} for a case of {@code route} ("METHOD /template") captured
     * from {@code service} (the ignore rules and learned noise of that service's route apply).
     */
    public Comparison compare(String service, String route, HttpResponse recorded, HttpResponse candidate) {
        List<Difference> all = new ArrayList<>();
        if (recorded.getStatus() != candidate.getStatus()) {
            all.add(diff("status", DifferenceKind.STATUS, Integer.toString(recorded.getStatus()),
                    Integer.toString(candidate.getStatus())));
        }
        if (options.compareHeaders()) {
            compareHeaders(recorded.getHeaders(), candidate.getHeaders(), all);
        }
        List<String> notes = new ArrayList<>(1);
        if (recorded.getTruncated()) {
            // Only a prefix was captured: judging the candidate's whole body against it would report a regression
            // that is the capture's. Status and headers are still compared.
            notes.add("response body not compared: the recorded body was truncated at capture ("
                    + Bodies.truncation(recorded) + ")");
        } else {
            compareBodies(recorded, candidate, all);
        }

        List<Difference> counted = new ArrayList<>(all.size());
        int ignored = 0;
        if (!all.isEmpty()) {
            IgnoreRules.Scope ignores = rules.scope(service, route);
            for (Difference d : all) {
                if (ignores.ignores(d.getPath())) {
                    ignored++;
                } else {
                    counted.add(d);
                }
            }
        }
        return new Comparison(counted, ignored, notes);
    }

    private void compareHeaders(List<Header> recorded, List<Header> candidate, List<Difference> out) {
        Map<String, String> expected = headerMap(recorded);
        Map<String, String> actual = headerMap(candidate);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String got = actual.get(e.getKey());
            if (got == null) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.MISSING, e.getValue(), null));
            } else if (!got.equals(e.getValue())) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.HEADER, e.getValue(), got));
            }
        }
        for (Map.Entry<String, String> e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                out.add(diff("header:" + e.getKey(), DifferenceKind.EXTRA, null, e.getValue()));
            }
        }
    }

    private Map<String, String> headerMap(List<Header> headers) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Header h : headers) {
            String name = h.getName().toLowerCase(Locale.ROOT);
            if (!options.ignoresHeader(name)) {
                map.merge(name, h.getValue(), (a, b) -> a + ", " + b);
            }
        }
        return map;
    }

    private void compareBodies(HttpResponse recorded, HttpResponse candidate, List<Difference> out) {
        byte[] expected;
        byte[] actual;
        try {
            expected = Bodies.decode(bytes(recorded.getBody()), recorded.getContentEncoding());
            actual = Bodies.decode(bytes(candidate.getBody()), candidate.getContentEncoding());
        } catch (IOException e) {
            String e1 = Bodies.sha256(bytes(recorded.getBody()));
            String a1 = Bodies.sha256(bytes(candidate.getBody()));
            if (!e1.equals(a1)) {
                out.add(diff("body", DifferenceKind.BODY, e1, a1 + " (" + e.getMessage() + ")"));
            }
            return;
        }
        if (Arrays.equals(expected, actual)) {
            return; // equal decoded bytes are equal under every kind of comparison (JSON, text, hash)
        }
        String type = recorded.getContentType() != null ? recorded.getContentType() : candidate.getContentType();
        switch (Bodies.kindOf(type, expected)) {
            case JSON -> compareJson(expected, actual, out);
            case TEXT -> {
                String e = Bodies.normaliseText(expected);
                String a = Bodies.normaliseText(actual);
                if (!e.equals(a)) {
                    out.add(diff("body", DifferenceKind.BODY, render(e), render(a)));
                }
            }
            case BINARY -> {
                String e = Bodies.sha256(expected);
                String a = Bodies.sha256(actual);
                if (!e.equals(a)) {
                    out.add(diff("body", DifferenceKind.BODY, e, a));
                }
            }
        }
    }

    private void compareJson(byte[] expectedBytes, byte[] actualBytes, List<Difference> out) {
        JsonNode expected;
        try {
            expected = expectedBytes.length == 0 ? null : mapper.readTree(expectedBytes);
        } catch (IOException e) {
            compareAsText(expectedBytes, actualBytes, out);
            return;
        }
        JsonNode actual;
        try {
            actual = actualBytes.length == 0 ? null : mapper.readTree(actualBytes);
        } catch (IOException e) {
            out.add(diff("body", DifferenceKind.BODY, render(new String(expectedBytes, java.nio.charset.StandardCharsets.UTF_8)),
                    "not JSON: " + render(new String(actualBytes, java.nio.charset.StandardCharsets.UTF_8))));
            return;
        }
        if (expected == null || actual == null) {
            if (expected != actual) {
                out.add(diff("body", DifferenceKind.BODY, expected == null ? "" : render(expected.toString()),
                        actual == null ? "" : render(actual.toString())));
            }
            return;
        }
        if (expected.equals(actual)) {
            // Jackson's deep equality (object members in any order, same value types): JsonUnit would find nothing,
            // and array-order or numeric tolerance only make it more lenient. Skips its diff for passing cases.
            return;
        }
        JsonNode e = expected;
        JsonNode a = actual;
        List<Difference> found = new ArrayList<>();
        DifferenceListener listener = (net.javacrumbs.jsonunit.core.listener.Difference d, DifferenceContext ctx) ->
                found.add(toDifference(d, e, a));
        Configuration config = Configuration.empty()
                .withIgnorePlaceholder(NO_PLACEHOLDER)
                .withDifferenceListener(listener);
        if (options.ignoreArrayOrder()) {
            config = config.withOptions(Option.IGNORING_ARRAY_ORDER);
        }
        if (options.numericTolerance() > 0) {
            config = config.withTolerance(options.numericTolerance());
        }
        Diff.create(e, a, "body", "", config).similar();
        out.addAll(found);
    }

    private void compareAsText(byte[] expected, byte[] actual, List<Difference> out) {
        String e = Bodies.normaliseText(expected);
        String a = Bodies.normaliseText(actual);
        if (!e.equals(a)) {
            out.add(diff("body", DifferenceKind.BODY, render(e), render(a)));
        }
    }

    private Difference toDifference(net.javacrumbs.jsonunit.core.listener.Difference d, JsonNode expectedRoot,
                                    JsonNode actualRoot) {
        String rawPath = d.getType() == net.javacrumbs.jsonunit.core.listener.Difference.Type.EXTRA
                ? d.getActualPath() : d.getExpectedPath();
        String path = JsonPaths.fromJsonUnit(rawPath);
        JsonNode e = JsonPaths.resolve(expectedRoot, rawPath);
        JsonNode a = JsonPaths.resolve(actualRoot, d.getActualPath() != null ? d.getActualPath() : rawPath);
        DifferenceKind kind = switch (d.getType()) {
            case EXTRA -> DifferenceKind.EXTRA;
            case MISSING -> DifferenceKind.MISSING;
            case DIFFERENT -> (e != null && a != null && e.getNodeType() != a.getNodeType())
                    ? DifferenceKind.TYPE_CHANGED : DifferenceKind.CHANGED;
        };
        String expected = kind == DifferenceKind.EXTRA ? null : renderNode(e, d.getExpected());
        String actual = kind == DifferenceKind.MISSING ? null : renderNode(a, d.getActual());
        return diff(path, kind, expected, actual);
    }

    private String renderNode(JsonNode node, Object fallback) {
        if (node != null) {
            try {
                return render(mapper.writeValueAsString(node));
            } catch (JsonProcessingException ex) {
                return render(node.toString());
            }
        }
        return fallback == null ? null : render(String.valueOf(fallback));
    }

    private static String render(String s) {
        return s.length() <= MAX_RENDERED_CHARS ? s : s.substring(0, MAX_RENDERED_CHARS) + "...(" + s.length() + " chars)";
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return Difference.newBuilder().setPath(path).setKind(kind).setExpected(expected).setActual(actual).build();
    }
}
