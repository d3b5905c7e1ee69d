package io.tapline.dedup.signature;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
            JsonNode node = parse(decoded);
            if (node == null) {
                return truncated ? "json:truncated" : "json:invalid";
            }
            return jsonShape(node);
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

    static boolean isJson(String media, byte[] decoded) {
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

    /** Canonical shape of a JSON tree. */
    public static String jsonShape(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        append(node, sb, 0);
        return sb.toString();
    }

    private static void append(JsonNode node, StringBuilder sb, int depth) {
        if (depth > MAX_DEPTH) {
            sb.append("...");
            return;
        }
        switch (node.getNodeType()) {
            case OBJECT -> {
                TreeSet<String> keys = new TreeSet<>();
                node.fieldNames().forEachRemaining(keys::add);
                sb.append('{');
                int n = 0;
                for (String key : keys) {
                    if (n == MAX_KEYS) {
                        sb.append(",...");
                        break;
                    }
                    if (n++ > 0) {
                        sb.append(',');
                    }
                    sb.append(key).append(':');
                    append(node.get(key), sb, depth + 1);
                }
                sb.append('}');
            }
            case ARRAY -> {
                TreeSet<String> elements = new TreeSet<>();
                for (JsonNode element : node) {
                    StringBuilder e = new StringBuilder();
                    append(element, e, depth + 1);
                    elements.add(e.toString());
                    if (elements.size() > MAX_ARRAY_SHAPES) {
                        break;
                    }
                }
                sb.append('[');
                sb.append(elements.size() > MAX_ARRAY_SHAPES ? "mixed" : String.join("|", elements));
                sb.append(']');
            }
            case STRING, BINARY -> sb.append("string");
            case NUMBER -> sb.append("number");
            case BOOLEAN -> sb.append("bool");
            case NULL, MISSING -> sb.append("null");
            default -> sb.append("any");
        }
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
