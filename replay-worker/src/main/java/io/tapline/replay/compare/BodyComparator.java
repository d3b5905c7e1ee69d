package io.tapline.replay.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import net.javacrumbs.jsonunit.core.Configuration;
import net.javacrumbs.jsonunit.core.Option;
import net.javacrumbs.jsonunit.core.internal.Diff;
import net.javacrumbs.jsonunit.core.listener.DifferenceContext;
import net.javacrumbs.jsonunit.core.listener.DifferenceListener;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Compares a recorded HTTP body with the candidate's, after content decoding, by the recorded body's kind: JSON
 * structurally with JsonUnit (paths {@code $.items[2].id}), form fields one by one ({@code form:NAME}), text
 * normalised and binary by hash (path {@code body}). Used for responses and for the requests a candidate sends its
 * dependencies. Stateless and thread-safe.
 */
public final class BodyComparator {

    /** JsonUnit treats this placeholder in expected values as "ignore"; make it one no real body contains. */
    private static final String NO_PLACEHOLDER = "\u0000tapline-no-ignore-placeholder\u0000";
    private static final int MAX_RENDERED_CHARS = 512;

    private final CompareOptions options;
    /**
     * Strict about what a lenient reading would let pass: content after the first value (a body written twice) and a
     * key repeated in one object (the second value silently winning) make a body not JSON.
     */
    private final ObjectMapper mapper = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Decimals exactly, not as the nearest double (12345678901234567.89 and .88 differ), and with their
            // scale, so a difference shows 2.50 as the body wrote it, not 2.5.
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public BodyComparator(CompareOptions options) {
        this.options = options;
    }

    /**
     * Adds to {@code out} the differences between the recorded body and the candidate's. Each body is decoded by its
     * own content encoding first; when one cannot be decoded the raw bytes are compared by hash.
     */
    public void compare(byte[] recorded, String recordedEncoding, String recordedType,
                        byte[] candidate, String candidateEncoding, String candidateType, List<Difference> out) {
        byte[] expected;
        byte[] actual;
        try {
            expected = Bodies.decode(recorded, recordedEncoding);
            actual = Bodies.decode(candidate, candidateEncoding);
        } catch (IOException e) {
            String e1 = Bodies.sha256(recorded);
            String a1 = Bodies.sha256(candidate);
            if (!e1.equals(a1)) {
                out.add(diff("body", DifferenceKind.BODY, e1, a1 + " (" + e.getMessage() + ")"));
            }
            return;
        }
        if (Arrays.equals(expected, actual)) {
            return; // equal decoded bytes are equal under every kind of comparison (JSON, form, text, hash)
        }
        String type = recordedType != null ? recordedType : candidateType;
        switch (Bodies.kindOf(type, expected)) {
            case JSON -> compareJson(expected, actual, out);
            case FORM -> compareForm(expected, actual, out);
            case TEXT -> compareAsText(expected, Bodies.charsetOf(recordedType), actual,
                    Bodies.charsetOf(candidateType), out);
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
            compareAsText(expectedBytes, StandardCharsets.UTF_8, actualBytes, StandardCharsets.UTF_8, out);
            return;
        }
        JsonNode actual;
        try {
            actual = actualBytes.length == 0 ? null : mapper.readTree(actualBytes);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            out.add(diff("body", DifferenceKind.BODY, render(new String(expectedBytes, StandardCharsets.UTF_8)),
                    "not JSON (" + why + "): " + render(new String(actualBytes, StandardCharsets.UTF_8))));
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
        // A tolerance, even 0, makes JsonUnit compare numbers by value (10, 10.0 and 1e1 are one number, as in
        // JSON); without one it compares their types and scales (10 vs 10.0, 1.0 vs 1.00 would differ).
        config = config.withTolerance(options.numericTolerance());
        Diff.create(e, a, "body", "", config).similar();
        out.addAll(found);
    }

    /** Field by field: a field's values in order, whatever the order of the fields. */
    private static void compareForm(byte[] expectedBytes, byte[] actualBytes, List<Difference> out) {
        Map<String, List<String>> expected = Bodies.formFields(expectedBytes);
        Map<String, List<String>> actual = Bodies.formFields(actualBytes);
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            List<String> got = actual.get(e.getKey());
            if (got == null) {
                out.add(diff("form:" + e.getKey(), DifferenceKind.MISSING, values(e.getValue()), null));
            } else if (!got.equals(e.getValue())) {
                out.add(diff("form:" + e.getKey(), DifferenceKind.CHANGED, values(e.getValue()), values(got)));
            }
        }
        for (Map.Entry<String, List<String>> a : actual.entrySet()) {
            if (!expected.containsKey(a.getKey())) {
                out.add(diff("form:" + a.getKey(), DifferenceKind.EXTRA, null, values(a.getValue())));
            }
        }
    }

    private static String values(List<String> values) {
        return render(values.size() == 1 ? values.get(0) : String.join(", ", values));
    }

    /**
     * Each body read in its own charset, then normalised: the same text sent in another charset is equal. A body that
     * is not valid text in its charset is compared by hash (its bytes differ from the other's, or it would not be
     * here): a lenient reading would turn different invalid bytes into the same replacement characters.
     */
    private static void compareAsText(byte[] expected, Charset expectedCharset, byte[] actual, Charset actualCharset,
                                      List<Difference> out) {
        String e = Bodies.text(expected, expectedCharset);
        String a = Bodies.text(actual, actualCharset);
        if (e == null || a == null) {
            out.add(diff("body", DifferenceKind.BODY, textOrHash(e, expected, expectedCharset),
                    textOrHash(a, actual, actualCharset)));
            return;
        }
        String en = Bodies.normaliseText(e);
        String an = Bodies.normaliseText(a);
        if (!en.equals(an)) {
            out.add(diff("body", DifferenceKind.BODY, render(en), render(an)));
        }
    }

    private static String textOrHash(String text, byte[] body, Charset charset) {
        return text != null ? render(Bodies.normaliseText(text))
                : Bodies.sha256(body) + " (not " + (charset == null ? "text in a known charset" : charset.name() + " text") + ")";
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

    static String render(String s) {
        return s.length() <= MAX_RENDERED_CHARS ? s : s.substring(0, MAX_RENDERED_CHARS) + "...(" + s.length() + " chars)";
    }

    static Difference diff(String path, DifferenceKind kind, String expected, String actual) {
        return Difference.newBuilder().setPath(path).setKind(kind).setExpected(expected).setActual(actual).build();
    }
}
