package io.tapline.replay.compare;

import io.tapline.json.JsonPathSegments;
import io.tapline.json.JsonPathSegments.Segment;
import io.tapline.signature.RouteTemplates;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A difference path pattern: {@code $.items[*].id}, {@code $.meta.*}, {@code header:date}, {@code status}.
 * A pattern matches a path when its segments are a prefix of the path's segments, {@code [*]} standing for
 * any array index, {@code *} for any field name, and a route placeholder ({@code {id}}, {@code {uuid}}, {@code {date}},
 * {@code {email}}, {@code {hex}}, {@code {token}}) for a field name of that kind, as route templates classify path
 * segments: {@code $.bySku.{id}.qty} is the quantity of every member of a map keyed by number, and leaves a
 * {@code $.bySku.total} beside them compared, and {@code $.byUser.{email}} matches {@code $.byUser['ann@example.com']}.
 * A name in brackets is only that name: {@code ['*']} and {@code ['{id}']} match a member so named.
 * A name holding a dot is written in brackets ({@code $.hosts['10.0.0.1'].at}; {@link JsonPaths}), and is also
 * matched by its parts after dots ({@code $.hosts.10.0.0.1.at}). So ignoring {@code $.meta} also ignores
 * {@code $.meta.etag}.
 */
public final class PathPattern {

    private final String text;
    private final List<Segment> segments;

    private PathPattern(String text, List<Segment> segments) {
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

    /**
     * {@link #of} for a pattern a user wrote (an ignore rule): a dot with no name after it ({@code $..ts},
     * {@code $.meta.}) is refused. JSONPath reads {@code ..} as "at any depth", which patterns do not support; read as
     * a member named "" (as learned noise writes one, {@link JsonPathSegments#parse}), such a rule would silently
     * ignore nothing. A member named "" is written {@code ['']}.
     *
     * @throws IllegalArgumentException naming the pattern
     */
    public static PathPattern written(String pattern) {
        String p = Objects.requireNonNull(pattern, "pattern").trim();
        for (int i = 0; p.startsWith("$") && i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '[' && i + 1 < p.length() && (p.charAt(i + 1) == '\'' || p.charAt(i + 1) == '"')) {
                char quote = p.charAt(++i);
                while (++i < p.length() && p.charAt(i) != quote) {
                    if (p.charAt(i) == '\\') {
                        i++;
                    }
                }
            } else if (c == '.' && (i + 1 == p.length() || p.charAt(i + 1) == '.' || p.charAt(i + 1) == '[')) {
                throw new IllegalArgumentException("path '" + p + "' has a dot with no name after it: JSONPath's '..'"
                        + " (any depth) is not supported; write the path from $ ($.items[*].ts, $.*.ts for the members"
                        + " of $), and a member named \"\" as ['']");
            }
        }
        return of(p);
    }

    public boolean matches(String path) {
        return matches(0, segments(path), 0);
    }

    /**
     * Whether the pattern from segment {@code p} on is a prefix of {@code target} from {@code t} on. A member name
     * holding dots ({@code ['10.0.0.1']}) also matches the pattern's names that it reads as when split at its dots
     * ({@code .10.0.0.1}): dedup-stream and earlier paths write such a name without brackets.
     */
    private boolean matches(int p, List<Segment> target, int t) {
        if (p == segments.size()) {
            return true;
        }
        if (t == target.size()) {
            return false;
        }
        Segment actual = target.get(t);
        if (segmentMatches(segments.get(p), actual) && matches(p + 1, target, t + 1)) {
            return true;
        }
        if (actual.index() || actual.text().indexOf('.') < 0) {
            return false;
        }
        String name = actual.text();
        int at = 0;
        for (int q = p; q < segments.size(); q++) {
            Segment part = segments.get(q);
            if (part.index() || !name.startsWith(part.text(), at)) {
                return false;
            }
            at += part.text().length();
            if (at == name.length()) {
                return q > p && matches(q + 1, target, t + 1);
            }
            if (name.charAt(at) != '.') {
                return false;
            }
            at++;
        }
        return false;
    }

    private static boolean segmentMatches(Segment pattern, Segment actual) {
        if (pattern.index() || actual.index()) {
            return pattern.index() && actual.index()
                    && (pattern.text().equals(actual.text()) || pattern.text().equals("[*]"));
        }
        String p = pattern.text();
        if (p.equals(actual.text())) {
            return true;
        }
        if (pattern.quoted()) {
            return false; // a name in brackets is that name: ['*'] is a member "*", not every member
        }
        return p.equals("*") || JsonPathSegments.readsAsPattern(p) && RouteTemplates.classify(actual.text()).equals(p);
    }

    /** {@link JsonPathSegments#parse}, and a {@code header:Name} path as one lower-cased name. */
    static List<Segment> segments(String path) {
        if (path.regionMatches(true, 0, "header:", 0, 7)) {
            return List.of(Segment.name(path.toLowerCase(Locale.ROOT)));
        }
        return JsonPathSegments.parse(path);
    }

    @Override
    public String toString() {
        return text;
    }
}
