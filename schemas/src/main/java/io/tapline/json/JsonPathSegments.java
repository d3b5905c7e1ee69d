package io.tapline.json;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads Tapline's JSON paths ({@code $.items[2].id}, {@code $.byUser['ann@example.com'].visits}), as the replay worker
 * writes them in differences and takes them in ignore rules, and as redaction reads them back: one parser for both.
 */
public final class JsonPathSegments {

    /**
     * One step of a path: a member name, or an array index ({@code [2]}, {@code [*]}) when {@code index}; {@code quoted}
     * for a name written in brackets ({@code ['*']}), which is that name and nothing else: no wildcard, no placeholder.
     */
    public record Segment(String text, boolean index, boolean quoted) {

        public Segment(String text, boolean index) {
            this(text, index, false);
        }

        public static Segment name(String name) {
            return new Segment(name, false);
        }
    }

    private JsonPathSegments() {
    }

    /**
     * Whether a member name written after a dot is read by an ignore rule as more than that name: {@code *} (every
     * member) or a placeholder {@code {x}} (every name of that kind). Writers of paths put such a name in brackets,
     * where it is only itself.
     */
    public static boolean readsAsPattern(String name) {
        return name.equals("*") || name.length() > 2 && name.startsWith("{") && name.endsWith("}");
    }

    /**
     * Splits {@code $.a.b[2].c} into {@code $, a, b, [2], c} and {@code $.a['x.y'].c} into {@code $, a, x.y, c} (a
     * name in brackets, in single or double quotes, with {@code \'}, {@code \"} and {@code \\} inside). A dot with
     * nothing after it (another dot, a bracket, the end) names a member "", as dedup-stream writes one: {@code $..t}
     * is {@code t} in the root's member "" (with that name left out, {@code $.} read as {@code $}, the whole body).
     */
    public static List<Segment> parse(String path) {
        List<Segment> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean named = false; // after a dot: a name follows, possibly an empty one
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '.') {
                flush(out, current, named);
                named = true;
            } else if (c == '[') {
                flush(out, current, named);
                named = false;
                int end = i + 1 < path.length() && (path.charAt(i + 1) == '\'' || path.charAt(i + 1) == '"')
                        ? quotedName(path, i, out) : -1;
                if (end >= 0) {
                    i = end;
                    continue;
                }
                int close = path.indexOf(']', i);
                if (close < 0) {
                    current.append(path, i, path.length());
                    break;
                }
                out.add(new Segment(path.substring(i, close + 1), true));
                i = close;
            } else {
                current.append(c);
            }
        }
        flush(out, current, named);
        return out;
    }

    /** Reads {@code ['name']} at {@code open} into {@code out}; the index of its {@code ]}, or -1 when it is not one. */
    private static int quotedName(String path, int open, List<Segment> out) {
        char quote = path.charAt(open + 1);
        StringBuilder name = new StringBuilder();
        for (int i = open + 2; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\\' && i + 1 < path.length()) {
                name.append(path.charAt(++i));
            } else if (c == quote) {
                if (i + 1 < path.length() && path.charAt(i + 1) == ']') {
                    out.add(new Segment(name.toString(), false, true));
                    return i + 1;
                }
                return -1;
            } else {
                name.append(c);
            }
        }
        return -1;
    }

    private static void flush(List<Segment> out, StringBuilder current, boolean named) {
        if (current.length() > 0 || named) {
            out.add(Segment.name(current.toString()));
            current.setLength(0);
        }
    }
}
