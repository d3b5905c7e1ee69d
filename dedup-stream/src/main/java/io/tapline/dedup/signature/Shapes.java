package io.tapline.dedup.signature;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.json.StrictJson;
import io.tapline.json.JsonCanonical;
import io.tapline.json.JsonPathSegments;
import io.tapline.signature.RouteTemplates;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Canonical body shapes: JSON keys and value types, never values. Objects list their keys sorted, arrays are
 * summarised as the sorted set of distinct element shapes ({@code [{id:number}]}), so a list of 2 or 200 items has
 * the same shape; keys that look like ids are generalised ({@link #shapeKey}), so a map keyed by id or date has one
 * shape whatever its keys. Bounded: nesting deeper than {@link #MAX_DEPTH} is {@code ...}, more than {@link #MAX_KEYS} keys
 * in one object or more than {@link #MAX_ARRAY_SHAPES} distinct element shapes collapse to a marker.
 */
public final class Shapes {

    public static final int MAX_DEPTH = 12;
    public static final int MAX_KEYS = 128;
    public static final int MAX_ARRAY_SHAPES = 4;

    /** The shape of a body of a JSON type that is not one JSON value read strictly ({@link StrictJson}). */
    public static final String JSON_INVALID = "json:invalid";
    /** The shape of a body of a JSON type cut by the capture or the decode cap that is not JSON so read. */
    public static final String JSON_TRUNCATED = "json:truncated";
    /** Marks an id-like key among the values of its generalised path ({@link #flatten}). */
    private static final String ID_KEY = "\u0000key:";
    /** The value of a path holding an object, or an array, of any content ({@link #flatten}). */
    private static final String OBJECT = "\u0000object";
    private static final String ARRAY = "\u0000array";

    private Shapes() {
    }

    /**
     * Shape of a captured body.
     *
     * @return "" for an empty body; a JSON shape; {@code form{a,b}} for url-encoded forms; {@code encoded:br} for an
     * encoding we cannot undo; {@code json:invalid} / {@code json:truncated}; otherwise the media type or
     * {@code bytes}
     */
    public static String bodyShape(byte[] body, String contentType, String contentEncoding, boolean truncated) {
        if (body.length == 0) {
            return "";
        }
        byte[] decoded = Bodies.decode(body, contentEncoding);
        if (decoded == null) {
            return truncated ? "truncated" : "encoded:" + contentEncoding.trim().toLowerCase(java.util.Locale.ROOT);
        }
        String media = Bodies.mediaType(contentType);
        if (isJson(media, decoded)) {
            String shape = jsonShape(decoded);
            if (shape == null) {
                return truncated || Bodies.cutByDecoding(body, decoded) ? JSON_TRUNCATED : JSON_INVALID;
            }
            return shape;
        }
        if ("application/x-www-form-urlencoded".equals(media)) {
            return "form" + formNames(new String(decoded, StandardCharsets.UTF_8));
        }
        return media == null ? "bytes" : media;
    }

    /** JSON by its media type; without one, by its first non-blank byte opening an object or an array. */
    public static boolean isJson(String media, byte[] decoded) {
        if (media != null) {
            return media.equals("application/json") || media.endsWith("+json") || media.endsWith("/json");
        }
        for (byte b : decoded) {
            if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
                continue;
            }
            return b == '{' || b == '[';
        }
        return false;
    }

    /**
     * Canonical shape of a JSON document, read as a token stream (no tree; of the numbers, only a float with an
     * exponent is parsed, {@link StrictJson#requireDecimal}): object keys sorted
     * (the first {@link #MAX_KEYS}), the distinct shapes of an array's elements sorted ({@code mixed} past
     * {@link #MAX_ARRAY_SHAPES}), {@code ...} below {@link #MAX_DEPTH}. Read strictly, as noise learning and the
     * replay worker read a body ({@link StrictJson}), in the same pass: content after the value, a key repeated in one
     * object (below {@link #MAX_DEPTH} too), nesting deeper than {@link StrictJson#MAX_NESTING_DEPTH} and a number no
     * decimal holds make the bytes not JSON (read leniently, such a body had the shape of its first value, or of a
     * repeated key's last value).
     *
     * @return the shape ({@code "null"} for whitespace only, as a tree reading gives), or Java null when the bytes are
     *         not JSON
     */
    static String jsonShape(byte[] decoded) {
        try (JsonParser p = StrictJson.parser(decoded)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return "null"; // no value at all (whitespace only)
            }
            String shape = shape(p, first, 0);
            p.finishToken(); // a string at the root is read lazily: an unterminated one must be refused here
            StrictJson.requireEnd(p);
            return shape;
        } catch (IOException e) {
            return null; // malformed, cut short, not one value, a key repeated, or nested too deep
        }
    }

    /** The shape of the value starting at {@code token}, leaving the parser on that value's last token. */
    private static String shape(JsonParser p, JsonToken token, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            skip(p, token); // still read through, so a malformed document is refused whatever its depth
            return "...";
        }
        return switch (token) {
            case START_OBJECT -> objectShape(p, depth);
            case START_ARRAY -> arrayShape(p, depth);
            case VALUE_STRING, VALUE_EMBEDDED_OBJECT -> "string";
            case VALUE_NUMBER_INT -> "number";
            case VALUE_NUMBER_FLOAT -> {
                StrictJson.requireDecimal(p);
                yield "number";
            }
            case VALUE_TRUE, VALUE_FALSE -> "bool";
            case VALUE_NULL -> "null";
            default -> throw new JsonParseException(p, "unexpected token " + token);
        };
    }

    /**
     * Keys are generalised ({@link #shapeKey}) and sorted; keys that generalise alike (a map keyed by id or date)
     * are one entry whose shape is the sorted distinct shapes of their values, as an array's elements are, so a map of
     * 2 or 200 entries, whatever their keys, has one shape.
     */
    private static String objectShape(JsonParser p, int depth) throws IOException {
        Map<String, String> members = new HashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            members.put(key, shape(p, p.nextToken(), depth + 1)); // a repeated key is refused by the parser
        }
        TreeMap<String, List<String>> fields = new TreeMap<>();
        for (Map.Entry<String, String> member : members.entrySet()) {
            List<String> shapes = fields.computeIfAbsent(shapeKey(member.getKey()), k -> new ArrayList<>(1));
            if (!shapes.contains(member.getValue()) && shapes.size() <= MAX_ARRAY_SHAPES) {
                shapes.add(member.getValue());
            }
        }
        StringBuilder sb = new StringBuilder(16 * fields.size() + 2).append('{');
        int n = 0;
        for (Map.Entry<String, List<String>> field : fields.entrySet()) {
            if (n == MAX_KEYS) {
                sb.append(",...");
                break;
            }
            if (n++ > 0) {
                sb.append(',');
            }
            List<String> shapes = field.getValue();
            shapes.sort(null);
            sb.append(field.getKey()).append(':')
                    .append(shapes.size() > MAX_ARRAY_SHAPES ? "mixed" : String.join("|", shapes));
        }
        return sb.append('}').toString();
    }

    /**
     * An object key as it appears in a shape: an id-like key stands for its kind ({@code 12345} → {@code {id}},
     * {@code 2024-05-01} → {@code {date}}, a UUID → {@code {uuid}}: {@link RouteTemplates#classify}), digits in any
     * other key are {@code #} ({@code sku-17} → {@code sku-#}), and a key holding a character that structures a shape
     * ({@code :,{}[]|"}) is quoted, so that no key reads as two.
     */
    static String shapeKey(String key) {
        String kind = RouteTemplates.classify(key);
        if (!kind.equals(key)) {
            return kind;
        }
        StringBuilder sb = null;
        boolean quote = false;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c >= '0' && c <= '9') {
                if (sb == null) {
                    sb = new StringBuilder(key.length()).append(key, 0, i);
                }
                if (sb.length() == 0 || sb.charAt(sb.length() - 1) != '#') {
                    sb.append('#');
                }
                continue;
            }
            quote |= ":,{}[]|\"#".indexOf(c) >= 0;
            if (sb != null) {
                sb.append(c);
            }
        }
        String out = sb == null ? key : sb.toString();
        return quote ? "\"" + out.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : out;
    }

    private static String arrayShape(JsonParser p, int depth) throws IOException {
        List<String> distinct = new ArrayList<>(MAX_ARRAY_SHAPES + 1);
        JsonToken element;
        while ((element = p.nextToken()) != JsonToken.END_ARRAY) {
            if (element == null) {
                throw new JsonParseException(p, "end of input inside an array");
            }
            if (distinct.size() > MAX_ARRAY_SHAPES) {
                skip(p, element); // already mixed: the rest is only read through
                continue;
            }
            String shape = shape(p, element, depth + 1);
            if (!distinct.contains(shape)) {
                distinct.add(shape);
            }
        }
        if (distinct.size() > MAX_ARRAY_SHAPES) {
            return "[mixed]";
        }
        distinct.sort(null);
        return "[" + String.join("|", distinct) + "]";
    }

    /**
     * Reads through the value starting at {@code token} without shaping it, checking its floats as {@link #shape}
     * does; the parser itself refuses a repeated key and too deep a nesting there.
     */
    private static void skip(JsonParser p, JsonToken token) throws IOException {
        if (!token.isStructStart()) {
            if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                StrictJson.requireDecimal(p);
            }
            return;
        }
        int open = 1;
        while (open > 0) {
            JsonToken next = p.nextToken();
            if (next == null) {
                throw new JsonParseException(p, "end of input inside a value");
            } else if (next.isStructStart()) {
                open++;
            } else if (next.isStructEnd()) {
                open--;
            } else if (next == JsonToken.VALUE_NUMBER_FLOAT) {
                StrictJson.requireDecimal(p);
            }
        }
    }

    private static String formNames(String form) {
        TreeSet<String> names = new TreeSet<>();
        for (String pair : form.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            names.add(shapeKey(decodedName(eq < 0 ? pair : pair.substring(0, eq))));
        }
        return "{" + String.join(",", names) + "}";
    }

    /**
     * Sorted, de-duplicated query parameter names of a raw query string, each as a shape key ({@link #shapeKey}): a
     * name holding an index or an id ({@code ids[0]}, {@code items[1700000000123][qty]}, as {@code qs}, PHP and Rails
     * write lists and nested forms) stands for its kind, so a list of another length is not another signature. Form
     * field names likewise.
     */
    public static List<String> queryNames(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return List.of();
        }
        TreeSet<String> names = new TreeSet<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            names.add(shapeKey(decodedName(eq < 0 ? pair : pair.substring(0, eq))));
        }
        return new ArrayList<>(names);
    }

    /** A form or query parameter name, %-decoded; a malformed %-escape keeps the raw name. */
    private static String decodedName(String raw) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw;
        }
    }

    /**
     * {@code path} extended by the object key {@code key}: after a dot as it is (dots too: the replay worker matches
     * {@code $.hosts.10.0.0.1} against its {@code $.hosts['10.0.0.1']}; nothing for a key ""), or in brackets when the
     * replay worker would read it as more than that key: a bracket (an index), or a part {@code *} (every member) or
     * {@code {x}} (a placeholder) between its dots.
     */
    static String member(String path, String key) {
        boolean bracketed = key.indexOf('[') >= 0 || key.indexOf(']') >= 0;
        for (int start = 0; !bracketed && start <= key.length(); ) {
            int end = key.indexOf('.', start);
            String part = key.substring(start, end < 0 ? key.length() : end);
            bracketed = JsonPathSegments.readsAsPattern(part);
            start = end < 0 ? key.length() + 1 : end + 1;
        }
        return bracketed ? path + "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']" : path + "." + key;
    }

    /**
     * Flattens a JSON tree to path → values, arrays written {@code [*]} (values kept in order), e.g.
     * {@code $.items[*].id -> [1, 2]}. Used to compare two responses field by field. An object key that looks like
     * an id is written as the placeholder of its kind ({@link RouteTemplates#classify}: {@code {id}}, {@code {uuid}},
     * {@code {date}}, ...), which a replay ignore pattern matches against any key of that kind: a map keyed by id
     * ({@code $.bySku.1017.qty}) is one field {@code $.bySku.{id}.qty} whose values are taken in key order, not a field
     * per id, which would use up the route's tracked fields in one response and teach nothing about the next
     * response's ids. The keys themselves are values of {@code $.bySku.{id}}, so a map whose ids change between
     * identical requests makes that path noisy, and with it (an ignore pattern is a prefix) everything under it.
     *
     * <p>A path holding an object or an array (the root's aside: a response's is part of its signature) has its kind
     * among its values, as an element of {@code $.items[*]} is one of that path's values: the replay worker names a
     * member that one answer has and the other lacks by that member ({@code $.error} of an optional
     * {@code "error":{...}}, an empty object too) and an element one array has past the other's end by its index
     * ({@code $.events[5]}), not by the fields inside them, so a path of those fields learned as noise did not apply
     * there. Values as {@link #value} writes them, each after its position among the elements of the arrays (and the
     * members of the maps by id, in key order) above it: {@code [{"a":1},{"a":2,"b":3}]} and
     * {@code [{"a":1,"b":3},{"a":2}]} hold {@code b} at another element, which the replay worker reports
     * ({@code $[0].b}, {@code $[1].b}), while the values of {@code $[*].b} in order were one list, {@code [3]}.
     */
    public static void flatten(JsonNode node, String path, Map<String, List<String>> out, int depth) {
        flatten(node, path, "", true, out, depth);
    }

    /**
     * {@link #flatten} as the replay worker compares arrays with {@code --compare-array-order ignore}: values without
     * their positions among the elements of the arrays above them (positions among the members of a map by id are
     * kept, as objects are compared by key), so that, once each path's values are sorted, two answers whose arrays
     * hold the same elements in another order give the same values. A value of an element is no longer tied to the
     * element it sits in: values that trade places between elements ({@code [{"a":1,"b":3},{"a":2}]} and
     * {@code [{"a":1},{"a":2,"b":3}]}) give the same values too.
     */
    public static void flattenInAnyOrder(JsonNode node, String path, Map<String, List<String>> out, int depth) {
        flatten(node, path, "", false, out, depth);
    }

    /**
     * @param at      where the node is among the elements of the arrays (with {@code ordered}) and maps by id above
     *                it: a value's prefix
     * @param ordered whether array positions go into {@code at}
     */
    private static void flatten(JsonNode node, String path, String at, boolean ordered, Map<String, List<String>> out,
                                int depth) {
        if (depth > MAX_DEPTH) {
            StringBuilder whole = new StringBuilder(at);
            JsonCanonical.append(node, whole);
            out.computeIfAbsent(path, k -> new ArrayList<>()).add(whole.toString());
            return;
        }
        if (node.isContainerNode() && depth > 0) {
            out.computeIfAbsent(path, k -> new ArrayList<>()).add(at + (node.isObject() ? OBJECT : ARRAY));
        }
        if (node.isObject()) {
            TreeMap<String, TreeMap<String, JsonNode>> byKind = null;
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String kind = RouteTemplates.classify(field.getKey());
                if (kind.equals(field.getKey())) {
                    flatten(field.getValue(), member(path, field.getKey()), at, ordered, out, depth + 1);
                } else {
                    if (byKind == null) {
                        byKind = new TreeMap<>();
                    }
                    byKind.computeIfAbsent(kind, k -> new TreeMap<>()).put(field.getKey(), field.getValue());
                }
            }
            if (byKind != null) {
                for (Map.Entry<String, TreeMap<String, JsonNode>> kind : byKind.entrySet()) {
                    String any = path + "." + kind.getKey();
                    int i = 0;
                    for (Map.Entry<String, JsonNode> member : kind.getValue().entrySet()) {
                        String position = at + i++ + ",";
                        out.computeIfAbsent(any, k -> new ArrayList<>()).add(position + ID_KEY + member.getKey());
                        flatten(member.getValue(), any, position, ordered, out, depth + 1);
                    }
                }
            }
        } else if (node.isArray()) {
            int i = 0;
            for (JsonNode element : node) {
                String position = ordered ? at + i + "," : at;
                i++;
                flatten(element, path + "[*]", position, ordered, out, depth + 1);
            }
        } else {
            out.computeIfAbsent(path, k -> new ArrayList<>()).add(at + value(node));
        }
    }

    /**
     * Scales of a number's decimal value beyond this either way (only an exponent writes them) are written with their
     * exponent by {@link #value}, not digit by digit: {@code 1e999999999} is ten characters of JSON.
     */
    private static final int MAX_PLAIN_SCALE = 1000;

    /**
     * A value as the replay worker compares it, as text equal for equal values only: a string by its text, marked as
     * a string, so that {@code "1"} and {@code 1}, {@code "null"} and {@code null} differ (a type change there, where
     * both were one text here); a number by its decimal value, so that {@code 1}, {@code 1.0} and {@code 1e0},
     * {@code -0.0} and {@code 0} are one value (read as doubles they were two), and {@code 12345678901234567.89} and
     * {@code ...88}, {@code 1e400} and {@code 2e400} two (one double each); for that, the tree holds decimals exactly
     * (read with {@code USE_BIG_DECIMAL_FOR_FLOATS}). An object or array as {@link JsonCanonical} writes it.
     */
    static String value(JsonNode node) {
        if (node.isTextual()) {
            return "\"" + node.textValue();
        }
        if (node.isNumber()) {
            BigDecimal n = node.decimalValue().stripTrailingZeros();
            return Math.abs((long) n.scale()) <= MAX_PLAIN_SCALE ? n.toPlainString() : n.toString();
        }
        if (node.isContainerNode()) {
            StringBuilder whole = new StringBuilder();
            JsonCanonical.append(node, whole);
            return whole.toString();
        }
        return node.toString(); // true, false, null
    }
}
