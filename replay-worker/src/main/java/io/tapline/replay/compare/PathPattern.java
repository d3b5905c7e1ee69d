package io.tapline.replay.compare;

import io.tapline.signature.RouteTemplates;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A difference path pattern: {@code $.items[*].id}, {@code $.meta.*}, {@code header:date}, {@code status}.
 * A pattern matches a path when its segments are a prefix of the path's segments, {@code [*]} standing for
 * any array index, {@code *} for any field name, and a route placeholder ({@code {id}}, {@code {uuid}}, {@code {date}},
 * {@code {email}}, {@code {hex}}, {@code {token}}) for a field name of that kind, as route templates classify path
 * segments: {@code $.bySku.{id}.qty} is the quantity of every member of a map keyed by number, and leaves a
 * {@code $.bySku.total} beside them compared. So ignoring {@code $.meta} also ignores {@code $.meta.etag}.
 */
public final class PathPattern {

    private final String text;
    private final List<String> segments;

    private PathPattern(String text, List<String> segments) {
        this.text = text;
        this.segments = segments;
    }

    public static PathPattern of(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        String trimmed = pattern.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty path pattern");
        }
        return new PathPattern(trimmed, segments(trimmed));
    }

    public boolean matches(String path) {
        List<String> target = segments(path);
        if (target.size() < segments.size()) {
            return false;
        }
        for (int i = 0; i < segments.size(); i++) {
            if (!segmentMatches(segments.get(i), target.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean segmentMatches(String pattern, String actual) {
        if (pattern.equals(actual)) {
            return true;
        }
        if (pattern.equals("[*]")) {
            return actual.startsWith("[");
        }
        if (pattern.startsWith("{") && pattern.endsWith("}")) {
            return !actual.startsWith("[") && RouteTemplates.classify(actual).equals(pattern);
        }
        return pattern.equals("*") && !actual.startsWith("[");
    }

    /** Splits {@code $.a.b[2].c} into {@code $, a, b, [2], c}; {@code header:Name} into one lower-cased segment. */
    static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        if (path.regionMatches(true, 0, "header:", 0, 7)) {
            out.add(path.toLowerCase(Locale.ROOT));
            return out;
        }
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '.') {
                flush(out, current);
            } else if (c == '[') {
                flush(out, current);
                int close = path.indexOf(']', i);
                if (close < 0) {
                    current.append(path, i, path.length());
                    break;
                }
                out.add(path.substring(i, close + 1));
                i = close;
            } else {
                current.append(c);
            }
        }
        flush(out, current);
        return out;
    }

    private static void flush(List<String> out, StringBuilder current) {
        if (current.length() > 0) {
            out.add(current.toString());
            current.setLength(0);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
