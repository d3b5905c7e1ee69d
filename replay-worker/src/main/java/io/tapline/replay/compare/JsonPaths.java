package io.tapline.replay.compare;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.json.JsonPathSegments;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Tapline's JSON paths ({@code $.items[2].id}, {@code $.byUser['ann@example.com'].visits}) and JsonUnit's
 * ({@code items[2].id}, {@code byUser.ann@example.com.visits}).
 *
 * <p>JsonUnit joins member names with dots as they are, so its path of a key holding a dot (an email, an IP address,
 * a timestamp with fractions) reads as several members. Tapline finds the names in the tree the path came from and
 * writes a name holding a dot, a bracket, a quote or a backslash, an empty one, and {@code *} or {@code {x}} (which a
 * rule reads as a wildcard or a placeholder) in brackets: {@code ['a.b']} ({@code \'} and {@code \\} inside). Any
 * other name is written after a dot, as before.
 */
public final class JsonPaths {

    private JsonPaths() {
    }

    /** {@code path} extended by the member {@code name}. */
    static String member(String path, String name) {
        return needsBrackets(name) ? path + "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"
                : path + "." + name;
    }

    /**
     * A Tapline JSON path with each member name replaced by {@code rename}'s answer for it (written in brackets when it
     * needs them), indexes kept: {@code $.owners['ann@example.com'].age} to {@code $.owners.tapline:hmac:….age}. The same
     * instance when no name changed.
     */
    public static String renameMembers(String path, UnaryOperator<String> rename) {
        List<JsonPathSegments.Segment> segments = JsonPathSegments.parse(path);
        if (segments.isEmpty() || segments.get(0).index() || !segments.get(0).text().equals("$")) {
            return path;
        }
        StringBuilder out = new StringBuilder("$");
        boolean changed = false;
        for (JsonPathSegments.Segment s : segments.subList(1, segments.size())) {
            if (s.index()) {
                out.append(s.text());
                continue;
            }
            String name = rename.apply(s.text());
            changed |= !name.equals(s.text());
            out.append(member("", name));
        }
        return changed ? out.toString() : path;
    }

    private static boolean needsBrackets(String name) {
        if (name.isEmpty() || JsonPathSegments.readsAsPattern(name)) {
            return true; // after a dot, a rule would read these as every member and as a placeholder
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.' || c == '[' || c == ']' || c == '\'' || c == '\\') {
                return true;
            }
        }
        return false;
    }

    /**
     * Tapline's path of a JsonUnit path into {@code root}. When the path cannot be followed in the tree (it never
     * is for a difference JsonUnit reported in it), it is written as JsonUnit wrote it.
     */
    static String fromJsonUnit(JsonNode root, String path) {
        return fromJsonUnit(root, path, null);
    }

    /**
     * The same, where the path reads as several paths of the tree (JsonUnit writes {@code a.b} both for a member
     * {@code a.b} and for {@code b} in {@code a}): the first of them that {@code fits} accepts (for a changed value,
     * one where the other side holds another value); the first of them when it accepts none, or is null.
     */
    static String fromJsonUnit(JsonNode root, String path, Predicate<String> fits) {
        if (path == null || path.isEmpty()) {
            return "$";
        }
        if (root != null) {
            StringBuilder out = new StringBuilder("$");
            Holder holder = new Holder();
            holder.fits = fits;
            if (fits != null && walk(root, path, 0, out, holder)) {
                return out.toString();
            }
            out.setLength(1);
            holder.fits = null;
            if (walk(root, path, 0, out, holder)) {
                return out.toString();
            }
        }
        return path.startsWith("[") ? "$" + path : "$." + path;
    }

    /** The node at a Tapline path ({@code $.a['x.y'][2]}), or null when the tree has none there. */
    static JsonNode at(JsonNode root, String path) {
        List<JsonPathSegments.Segment> segments = JsonPathSegments.parse(path);
        if (segments.isEmpty() || segments.get(0).index() || !segments.get(0).text().equals("$")) {
            return null;
        }
        JsonNode node = root;
        for (JsonPathSegments.Segment s : segments.subList(1, segments.size())) {
            if (node == null) {
                return null;
            }
            if (s.index()) {
                int i = parseIndex(s.text(), 1, s.text().length() - 1);
                node = node.isArray() && s.text().length() > 2 && i >= 0 ? node.get(i) : null;
            } else {
                node = node.isObject() ? node.get(s.text()) : null;
            }
        }
        return node;
    }

    /** The node at a JsonUnit path, or null when the tree has none there. */
    static JsonNode resolve(JsonNode root, String path) {
        if (root == null || path == null) {
            return null;
        }
        Holder found = new Holder();
        return walk(root, path, 0, null, found) ? found.node : null;
    }

    private static final class Holder {
        JsonNode node;
        /** Which complete paths are taken; null for the first. */
        Predicate<String> fits;
        /** Complete paths {@link #fits} refused: past {@link #MAX_REFUSED}, the search gives up on it. */
        int refused;
    }

    /**
     * How many complete paths a search refuses at most: names that read alike are rare, and a tree built so that a
     * path reads as thousands of others is not searched through.
     */
    private static final int MAX_REFUSED = 64;

    /**
     * Follows {@code path} from {@code pos} down from {@code node}, appending Tapline's segments to {@code out}
     * (when not null) and leaving the node reached in {@code found}. A member is the text up to the next dot or
     * bracket when the object has it and the rest of the path can be followed from it; otherwise the longest of the
     * object's longer names that the path continues with and from which the rest can be followed; with a member named
     * "" of the root, JsonUnit's path may go on inside it. (JsonUnit writes {@code a.b} both for a member {@code a.b}
     * and for {@code b} in {@code a}; when a tree has both, the latter is taken, unless {@code found.fits} refuses its
     * complete path.)
     */
    private static boolean walk(JsonNode node, String path, int pos, StringBuilder out, Holder found) {
        if (pos == path.length()) {
            if (found.fits != null && out != null && !found.fits.test(out.toString())) {
                found.refused++;
                return false;
            }
            found.node = node;
            return true;
        }
        if (found.fits != null && found.refused > MAX_REFUSED) {
            return false;
        }
        int mark = out == null ? 0 : out.length();
        char c = path.charAt(pos);
        if (c == '[' && node.isArray()) {
            int close = path.indexOf(']', pos);
            if (close > pos + 1) {
                int index = parseIndex(path, pos + 1, close);
                if (index >= 0 && index < node.size()) {
                    if (out != null) {
                        out.append(path, pos, close + 1);
                    }
                    if (walk(node.get(index), path, close + 1, out, found)) {
                        return true;
                    }
                    truncate(out, mark);
                }
            }
        }
        if (!node.isObject()) {
            return false;
        }
        int start = pos;
        if (pos > 0) {
            if (c != '.') {
                return false;
            }
            start = pos + 1;
        }
        int end = start;
        while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') {
            end++;
        }
        String direct = path.substring(start, end);
        JsonNode child = node.get(direct);
        if (child != null && tryMember(child, direct, path, end, out, found, mark)) {
            return true;
        }
        List<String> dotted = end == path.length() ? null : longerNames(node, path, start, end);
        if (dotted != null) {
            for (String name : dotted) {
                if (tryMember(node.get(name), name, path, start + name.length(), out, found, mark)) {
                    return true;
                }
            }
        }
        // JsonUnit writes no name for a member "" of the root (nor for one "" in that, ...): the path may go on in it
        JsonNode empty = pos == 0 && end > 0 ? node.get("") : null;
        return empty != null && tryMember(empty, "", path, 0, out, found, mark);
    }

    /**
     * How many members named "" down from the roots a difference JsonUnit reported at the root path ({@code ""}) is:
     * JsonUnit writes no name for a member "" of the root, nor for one "" in that, so all of them share the root's
     * path. A member missing or extra is the first "" that one side lacks; a changed value is below the last "" both
     * hold (JsonUnit never reports two objects as changed, only their members).
     */
    static int emptyNamesAtRoot(JsonNode expected, JsonNode actual) {
        int n = 0;
        while (expected != null && actual != null && expected.isObject() && actual.isObject()
                && (expected.has("") || actual.has(""))) {
            n++;
            expected = expected.get("");
            actual = actual.get("");
        }
        return n;
    }

    /** The node {@code n} members named "" down from {@code root}, or null when there is none. */
    static JsonNode emptyNamesDown(JsonNode root, int n) {
        JsonNode node = root;
        for (int i = 0; i < n && node != null; i++) {
            node = node.get("");
        }
        return node;
    }

    /**
     * The object's names longer than the one ending at {@code end} that the path continues with up to a dot, a
     * bracket or its end, longest first; null for none. Found by looking up each such prefix of the path, or by going
     * through the object's names when it has fewer than the path has prefixes: a difference inside a map of 20,000
     * entries (keyed by email, each changed) is not a pass over all of them, nor a long path one per character.
     */
    private static List<String> longerNames(JsonNode node, String path, int start, int end) {
        int prefixes = 0;
        for (int i = end + 1; i <= path.length() && prefixes <= node.size(); i++) {
            if (boundary(path, i)) {
                prefixes++;
            }
        }
        List<String> dotted = null;
        if (prefixes <= node.size()) {
            for (int i = path.length(); i > end; i--) {
                if (boundary(path, i) && node.has(path.substring(start, i))) {
                    if (dotted == null) {
                        dotted = new ArrayList<>(2);
                    }
                    dotted.add(path.substring(start, i));
                }
            }
            return dotted;
        }
        int direct = end - start;
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (name.length() > direct && path.startsWith(name, start) && boundary(path, start + name.length())) {
                if (dotted == null) {
                    dotted = new ArrayList<>(2);
                }
                dotted.add(name);
            }
        }
        if (dotted != null) {
            dotted.sort(Comparator.comparingInt(String::length).reversed());
        }
        return dotted;
    }

    private static boolean tryMember(JsonNode child, String name, String path, int next, StringBuilder out,
                                     Holder found, int mark) {
        if (out != null) {
            out.append(member("", name));
        }
        if (walk(child, path, next, out, found)) {
            return true;
        }
        truncate(out, mark);
        return false;
    }

    private static boolean boundary(String path, int at) {
        return at == path.length() || path.charAt(at) == '.' || path.charAt(at) == '[';
    }

    private static int parseIndex(String path, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            char d = path.charAt(i);
            if (d < '0' || d > '9' || value > (Integer.MAX_VALUE - 9) / 10) {
                return -1;
            }
            value = value * 10 + (d - '0');
        }
        return value;
    }

    private static void truncate(StringBuilder out, int mark) {
        if (out != null) {
            out.setLength(mark);
        }
    }
}
