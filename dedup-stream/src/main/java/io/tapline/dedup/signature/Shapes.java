package io.tapline.dedup.signature;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Canonical body shapes: JSON keys and value types, never values. Objects list their keys sorted, arrays are
 * summarised as the sorted set of distinct element shapes ({@code [{id:number}]}), so a list of 2 or 200 items has
 * the same shape. Bounded: nesting deeper than {@link #MAX_DEPTH} is {@code ...}, more than {@link #MAX_KEYS} keys
 * in one object or more than {@link #MAX_ARRAY_SHAPES} distinct element shapes collapse to a marker.
 */
public final class Shapes {

    public static final int MAX_DEPTH = 12;
    public static final int MAX_KEYS = 128;
    public static final int MAX_ARRAY_SHAPES = 4;

    static final ObjectMapper JSON = new ObjectMapper();

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
                return truncated ? "json:truncated" : "json:invalid";
            }
            return shape;
        }
        if ("application/x-www-form-urlencoded".equals(media)) {
            return "form" + formNames(new String(decoded, StandardCharsets.UTF_8));
        }
        return media == null ? "bytes" : media;
    }

    /** Parsed JSON or null when the bytes are not a JSON document. */
    public static JsonNode parse(byte[] decoded) {
        try {
            return JSON.readTree(decoded);
        } catch (JsonProcessingException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
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
     * Canonical shape of a JSON document, read as a token stream (no tree, no number parsing): object keys sorted
     * (the first {@link #MAX_KEYS}), the distinct shapes of an array's elements sorted ({@code mixed} past
     * {@link #MAX_ARRAY_SHAPES}), {@code ...} below {@link #MAX_DEPTH}. Content after the first value is ignored.
     *
     * @return the shape ({@code "null"} for whitespace only, as a tree reading gives), or Java null when the bytes are
     *         not JSON
     */
    static String jsonShape(byte[] decoded) {
        try (JsonParser p = JSON.getFactory().createParser(decoded)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return "null"; // no value at all (whitespace only)
            }
            String shape = shape(p, first, 0);
            p.finishToken(); // a string at the root is read lazily: an unterminated one must be refused here
            return shape;
        } catch (IOException e) {
            return null; // malformed, cut short, or nested deeper than the parser allows
        }
    }

    /** The shape of the value starting at {@code token}, leaving the parser on that value's last token. */
    private static String shape(JsonParser p, JsonToken token, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            p.skipChildren(); // still read through, so a malformed document is refused whatever its depth
            return "...";
        }
        return switch (token) {
            case START_OBJECT -> objectShape(p, depth);
            case START_ARRAY -> arrayShape(p, depth);
            case VALUE_STRING, VALUE_EMBEDDED_OBJECT -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "bool";
            case VALUE_NULL -> "null";
            default -> throw new JsonParseException(p, "unexpected token " + token);
        };
    }

    private record Field(String key, String shape) {
    }

    private static String objectShape(JsonParser p, int depth) throws IOException {
        List<Field> fields = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            fields.add(new Field(key, shape(p, p.nextToken(), depth + 1)));
        }
        fields.sort(Comparator.comparing(Field::key)); // stable: of a repeated key, the last value stays last
        StringBuilder sb = new StringBuilder(16 * fields.size() + 2).append('{');
        int n = 0;
        for (int i = 0; i < fields.size(); i++) {
            Field field = fields.get(i);
            if (i + 1 < fields.size() && fields.get(i + 1).key().equals(field.key())) {
                continue; // a repeated key: the last value counts
            }
            if (n == MAX_KEYS) {
                sb.append(",...");
                break;
            }
            if (n++ > 0) {
                sb.append(',');
            }
            sb.append(field.key()).append(':').append(field.shape());
        }
        return sb.append('}').toString();
    }

    private static String arrayShape(JsonParser p, int depth) throws IOException {
        List<String> distinct = new ArrayList<>(MAX_ARRAY_SHAPES + 1);
        JsonToken element;
        while ((element = p.nextToken()) != JsonToken.END_ARRAY) {
            if (element == null) {
                throw new JsonParseException(p, "end of input inside an array");
            }
            if (distinct.size() > MAX_ARRAY_SHAPES) {
                p.skipChildren(); // already mixed: the rest is only read through
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

    private static String formNames(String form) {
        TreeSet<String> names = new TreeSet<>();
        for (String pair : form.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            names.add(decodedName(eq < 0 ? pair : pair.substring(0, eq)));
        }
        return "{" + String.join(",", names) + "}";
    }

    /** Sorted, de-duplicated query parameter names of a raw query string. */
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
            names.add(decodedName(eq < 0 ? pair : pair.substring(0, eq)));
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
     * Flattens a JSON tree to path → values, arrays written {@code [*]} (values kept in order), e.g.
     * {@code $.items[*].id -> [1, 2]}. Used to compare two responses field by field.
     */
    public static void flatten(JsonNode node, String path, Map<String, List<String>> out, int depth) {
        if (depth > MAX_DEPTH) {
            out.computeIfAbsent(path, k -> new ArrayList<>()).add(node.toString());
            return;
        }
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                flatten(field.getValue(), path + "." + field.getKey(), out, depth + 1);
            }
        } else if (node.isArray()) {
            if (node.isEmpty()) {
                out.computeIfAbsent(path, k -> new ArrayList<>()).add("[]");
            }
            for (JsonNode element : node) {
                flatten(element, path + "[*]", out, depth + 1);
            }
        } else {
            out.computeIfAbsent(path, k -> new ArrayList<>()).add(node.isTextual() ? node.textValue() : node.toString());
        }
    }
}
