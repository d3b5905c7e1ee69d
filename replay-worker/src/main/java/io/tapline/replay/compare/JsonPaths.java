package io.tapline.replay.compare;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/** Converts JsonUnit's paths ({@code items[2].id}) to Tapline's ({@code $.items[2].id}) and resolves them in a tree. */
final class JsonPaths {

    private JsonPaths() {
    }

    static String fromJsonUnit(String path) {
        if (path == null || path.isEmpty()) {
            return "$";
        }
        return path.startsWith("[") ? "$" + path : "$." + path;
    }

    /** The node at a JsonUnit path, or null when absent or when the path holds a wildcard. */
    static JsonNode resolve(JsonNode root, String path) {
        if (root == null || path == null) {
            return null;
        }
        JsonNode node = root;
        List<String> segments = PathPattern.segments(path);
        for (String s : segments) {
            if (node == null) {
                return null;
            }
            if (s.startsWith("[") && s.endsWith("]")) {
                String idx = s.substring(1, s.length() - 1);
                try {
                    node = node.get(Integer.parseInt(idx));
                } catch (NumberFormatException e) {
                    return null;
                }
            } else {
                node = node.get(s);
            }
        }
        return node;
    }
}
