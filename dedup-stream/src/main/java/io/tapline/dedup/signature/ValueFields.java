package io.tapline.dedup.signature;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-route "value fields": request JSON fields whose value splits a signature, e.g. {@code $.type} for a
 * payment endpoint where card and bank transfers take different code paths with the same body shape.
 * Configured as {@code ROUTE=PATH}, e.g. {@code POST /payments=$.type}, or {@code *=$.type} for every route.
 * Only simple dotted paths ({@code $.a.b}) are supported; values are cut to {@link #MAX_VALUE_CHARS}.
 */
public final class ValueFields {

    public static final String ANY_ROUTE = "*";
    public static final String ABSENT = "(absent)";
    public static final int MAX_VALUE_CHARS = 64;

    private final Map<String, List<String>> pathsByRoute;

    private ValueFields(Map<String, List<String>> pathsByRoute) {
        this.pathsByRoute = pathsByRoute;
    }

    public static ValueFields none() {
        return new ValueFields(Map.of());
    }

    /**
     * Parses {@code ROUTE=PATH} entries.
     *
     * @throws IllegalArgumentException naming the entry when it is not {@code ROUTE=$.path}
     */
    public static ValueFields parse(List<String> entries) {
        Map<String, List<String>> byRoute = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.lastIndexOf('=');
            String route = eq < 0 ? "" : entry.substring(0, eq).trim();
            String path = eq < 0 ? "" : entry.substring(eq + 1).trim();
            if (route.isEmpty() || !path.startsWith("$.") || path.length() < 3) {
                throw new IllegalArgumentException("value field '" + entry
                        + "' is not ROUTE=$.path, e.g. 'POST /payments=$.type' or '*=$.type'");
            }
            if (!dotted(path)) {
                // valueAt reads member names only: such a path matched no request and split nothing, silently
                throw new IllegalArgumentException("value field '" + entry + "' has a path other than dotted member "
                        + "names ($.a.b): array indexes, wildcards and '..' are not supported");
            }
            byRoute.computeIfAbsent(route, k -> new ArrayList<>()).add(path);
        }
        return new ValueFields(Map.copyOf(byRoute));
    }

    /** Whether {@code path} is {@code $.} and member names joined by dots, none empty and none holding [ ] or *. */
    private static boolean dotted(String path) {
        for (String step : path.substring(2).split("\\.", -1)) {
            if (step.isEmpty() || step.indexOf('[') >= 0 || step.indexOf(']') >= 0 || step.equals("*")) {
                return false;
            }
        }
        return true;
    }

    /** Paths configured for this route (its own, then the {@code *} ones). */
    public List<String> pathsFor(String route) {
        List<String> own = pathsByRoute.getOrDefault(route, List.of());
        List<String> any = pathsByRoute.getOrDefault(ANY_ROUTE, List.of());
        if (any.isEmpty()) {
            return own;
        }
        List<String> all = new ArrayList<>(own);
        all.addAll(any);
        return all;
    }

    /** Value at a dotted path, {@link #ABSENT} when missing or when there is no JSON body. */
    public static String valueAt(JsonNode root, String path) {
        if (root == null) {
            return ABSENT;
        }
        JsonNode node = root;
        for (String step : path.substring(2).split("\\.")) {
            node = node.path(step);
        }
        if (node.isMissingNode()) {
            return ABSENT;
        }
        String value = node.isValueNode() ? node.asText() : node.toString();
        return value.length() > MAX_VALUE_CHARS ? value.substring(0, MAX_VALUE_CHARS) : value;
    }
}
