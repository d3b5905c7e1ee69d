package io.tapline.replay.mock;

import io.tapline.replay.compare.PathPattern;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The parts of dependency calls that carry a value generated per request ({@code --mock-ignore}): an idempotency key,
 * a request id, a timestamp, a nonce. Such a value is never what production sent, so without a rule the call cannot
 * match its recording. A rule is {@code DESTINATION PART}:
 * <ul>
 *   <li>{@code payments query:idempotency_key}: the value of query parameter {@code idempotency_key} is not compared
 *       (its presence and how often it occurs still are);</li>
 *   <li>{@code payments path:/payments/{*}/confirm}: two paths that both match the pattern are equal, whatever the
 *       segments at a placeholder ({@code {*}}, or a named one such as {@code {id}}, each exactly one non-empty
 *       segment); literal segments and the number of segments must still be equal.</li>
 *   <li>{@code payments body:$.nonce}: the request body's value at that JSON path (a prefix pattern, {@code [*]} for
 *       any array index and {@code *} for any field name, as {@code --ignore} takes) is not compared;
 *       {@code body:form:NAME} does the same for a field of a form body, and {@code body:$} ignores the whole body.
 *       Such values also do not count when recorded calls are ranked by their body.</li>
 *   <li>{@code payments header:idempotency-key}: that request header is not compared; {@code header:*} compares
 *       none of the call's headers.</li>
 * </ul>
 * DESTINATION names the dependency as the recordings and the {@code call:...} differences do: a {@code --mock-route}
 * name, {@code host:port} for a forward-proxied call ({@code host} alone: that host on any port), or {@code *} for every
 * dependency; case-insensitive. Everything not named by a rule stays strict. Immutable, thread-safe.
 */
public final class MockIgnoreRules {

    public static final String ANY_DESTINATION = "*";

    /** The accepted forms, for error messages. */
    public static final String EXPECTED = "expected 'DESTINATION query:NAME', 'DESTINATION path:/pattern/{*}/...',"
            + " 'DESTINATION body:$.json.path', 'DESTINATION body:form:NAME' or 'DESTINATION header:NAME'"
            + " where DESTINATION is a --mock-route name, host, host:port or '*',"
            + " e.g. 'payments query:idempotency_key', '* path:/payments/{*}/confirm' or 'payments body:$.nonce'";

    private static final String QUERY = "query:";
    private static final String PATH = "path:";
    private static final String BODY = "body:";
    private static final String FORM = "form:";
    private static final String HEADER = "header:";
    private static final String ANY_HEADER = "*";
    private static final String PLACEHOLDER_NAME = "\\*|[A-Za-z_][A-Za-z0-9_.-]*";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(" + PLACEHOLDER_NAME + ")}");
    private static final Pattern PORT = Pattern.compile(":\\d+$");
    private static final MockIgnoreRules NONE = new MockIgnoreRules(List.of(), List.of(), List.of(), List.of());

    /** A rule for the calls to one destination. */
    private interface Rule {
        String destination();
    }

    private record QueryRule(String destination, String name) implements Rule {
    }

    /** @param segments the pattern split on '/' (a leading empty segment), null where a placeholder stands */
    private record PathRule(String destination, String[] segments) implements Rule {

        /** @param actual a path split by {@link #segments(String)} */
        boolean matches(String[] actual) {
            if (actual.length != segments.length) {
                return false;
            }
            for (int i = 0; i < segments.length; i++) {
                if (segments[i] == null ? actual[i].isEmpty() : !segments[i].equals(actual[i])) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * @param pattern a body difference path pattern ({@code $.nonce}, {@code form:nonce}), null for {@code $}: the
     *                whole body, whatever its kind
     */
    private record BodyRule(String destination, PathPattern pattern) implements Rule {

        boolean matches(String differencePath) {
            return pattern == null || pattern.matches(differencePath);
        }
    }

    /** @param name a lower-case header name, or {@code *} for every header */
    private record HeaderRule(String destination, String name) implements Rule {
    }

    private final List<QueryRule> queryRules;
    private final List<PathRule> pathRules;
    private final List<BodyRule> bodyRules;
    private final List<HeaderRule> headerRules;

    private MockIgnoreRules(List<QueryRule> queryRules, List<PathRule> pathRules, List<BodyRule> bodyRules,
                            List<HeaderRule> headerRules) {
        this.queryRules = queryRules;
        this.pathRules = pathRules;
        this.bodyRules = bodyRules;
        this.headerRules = headerRules;
    }

    public static MockIgnoreRules none() {
        return NONE;
    }

    /**
     * Parses rules of the forms in the class comment ({@code DESTINATION query:NAME}, {@code path:/pattern/{*}},
     * {@code body:PATH}, {@code header:NAME}); blank ones are skipped.
     *
     * @throws IllegalArgumentException naming the malformed rule and the expected form
     */
    public static MockIgnoreRules parse(List<String> rules) {
        List<QueryRule> queries = new ArrayList<>();
        List<PathRule> paths = new ArrayList<>();
        List<BodyRule> bodies = new ArrayList<>();
        List<HeaderRule> headers = new ArrayList<>();
        for (String rule : rules) {
            String r = rule.trim();
            if (r.isEmpty()) {
                continue;
            }
            String[] parts = r.split("\\s+", 2);
            if (parts.length < 2) {
                throw malformed(rule, "no part to ignore");
            }
            String destination = parts[0].toLowerCase(Locale.ROOT);
            if (destination.contains("/")) {
                throw malformed(rule, "'" + parts[0] + "' is not a dependency name (a URL or a path?)");
            }
            String part = parts[1].trim();
            if (part.regionMatches(true, 0, QUERY, 0, QUERY.length())) {
                String name = part.substring(QUERY.length());
                if (name.isEmpty() || name.contains("=") || name.contains("&")) {
                    throw malformed(rule, "'" + part + "' is not 'query:NAME'");
                }
                queries.add(new QueryRule(destination, name));
            } else if (part.regionMatches(true, 0, PATH, 0, PATH.length())) {
                paths.add(new PathRule(destination, pathPattern(rule, part.substring(PATH.length()))));
            } else if (part.regionMatches(true, 0, BODY, 0, BODY.length())) {
                bodies.add(new BodyRule(destination, bodyPattern(rule, part.substring(BODY.length()))));
            } else if (part.regionMatches(true, 0, HEADER, 0, HEADER.length())) {
                String name = part.substring(HEADER.length()).trim().toLowerCase(Locale.ROOT);
                if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':')) {
                    throw malformed(rule, "'" + part + "' is not 'header:NAME' or 'header:*'");
                }
                headers.add(new HeaderRule(destination, name));
            } else {
                throw malformed(rule, "'" + part + "' is neither query:NAME, path:/pattern, body:PATH nor header:NAME");
            }
        }
        return queries.isEmpty() && paths.isEmpty() && bodies.isEmpty() && headers.isEmpty() ? NONE
                : new MockIgnoreRules(List.copyOf(queries), List.copyOf(paths), List.copyOf(bodies),
                        List.copyOf(headers));
    }

    /** The pattern of a {@code body:} rule; null for {@code $}, the whole body. */
    private static PathPattern bodyPattern(String rule, String pattern) {
        boolean json = pattern.equals("$") || pattern.startsWith("$.") || pattern.startsWith("$[");
        boolean form = pattern.regionMatches(true, 0, FORM, 0, FORM.length()) && pattern.length() > FORM.length();
        if (!json && !form) {
            throw malformed(rule, "body pattern '" + pattern + "' is neither a JSON path ($, $.field, $.items[*].id)"
                    + " nor form:NAME");
        }
        if (pattern.equals("$")) {
            return null;
        }
        if (form) {
            return PathPattern.of(FORM + pattern.substring(FORM.length()));
        }
        try {
            return PathPattern.written(pattern);
        } catch (IllegalArgumentException e) {
            throw malformed(rule, e.getMessage());
        }
    }

    private static String[] pathPattern(String rule, String pattern) {
        if (!pattern.startsWith("/") || pattern.contains("?") || pattern.contains("#")) {
            throw malformed(rule, "path pattern '" + pattern + "' must be a path starting with '/', without a query");
        }
        String[] segments = pattern.split("/", -1);
        boolean placeholder = false;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            if (PLACEHOLDER.matcher(s).matches()) {
                segments[i] = null;
                placeholder = true;
            } else if (s.indexOf('{') >= 0 || s.indexOf('}') >= 0) {
                throw malformed(rule, "'" + s + "' in path pattern '" + pattern
                        + "': a placeholder ({*} or {name}) must be a whole segment");
            }
        }
        if (!placeholder) {
            throw malformed(rule, "path pattern '" + pattern + "' has no {*} segment, so it ignores nothing");
        }
        return segments;
    }

    private static IllegalArgumentException malformed(String rule, String why) {
        return new IllegalArgumentException("mock ignore rule '" + rule + "': " + why + "; " + EXPECTED);
    }

    public boolean isEmpty() {
        return queryRules.isEmpty() && pathRules.isEmpty() && bodyRules.isEmpty() && headerRules.isEmpty();
    }

    /** The rules for calls to {@code destination}, resolved once for every recorded call a call is scored against. */
    Scope forDestination(String destination) {
        if (isEmpty()) {
            return Scope.NONE;
        }
        return new Scope(applying(pathRules, destination, r -> r),
                Set.copyOf(applying(queryRules, destination, QueryRule::name)),
                applying(bodyRules, destination, r -> r),
                Set.copyOf(applying(headerRules, destination, HeaderRule::name)));
    }

    /** What {@code value} gives of each rule that applies to {@code destination}, in order. */
    private static <R extends Rule, T> List<T> applying(List<R> rules, String destination, Function<R, T> value) {
        return rules.stream().filter(r -> appliesTo(r.destination(), destination)).map(value).toList();
    }

    /** A path split on '/' as a path rule compares it (a leading empty segment, empty ones kept). */
    static String[] segments(String path) {
        return path.split("/", -1);
    }

    /** The rules that apply to one destination. Immutable, thread-safe. */
    static final class Scope {

        private static final Scope NONE = new Scope(List.of(), Set.of(), List.of(), Set.of());

        private final List<PathRule> pathRules;
        private final Set<String> ignoredQueryNames;
        private final List<BodyRule> bodyRules;
        private final Set<String> ignoredHeaders;

        private Scope(List<PathRule> pathRules, Set<String> ignoredQueryNames, List<BodyRule> bodyRules,
                      Set<String> ignoredHeaders) {
            this.pathRules = pathRules;
            this.ignoredQueryNames = ignoredQueryNames;
            this.bodyRules = bodyRules;
            this.ignoredHeaders = ignoredHeaders;
        }

        /** True when a rule names request header {@code name} (lower case), or every header. */
        boolean ignoresHeader(String name) {
            return !ignoredHeaders.isEmpty() && (ignoredHeaders.contains(ANY_HEADER) || ignoredHeaders.contains(name));
        }

        /** False when {@link #ignoresBody} is false for every path. */
        boolean hasBodyRules() {
            return !bodyRules.isEmpty();
        }

        /** True when a rule ignores the body difference at {@code path} ({@code $.nonce}, {@code form:nonce}, {@code body}). */
        boolean ignoresBody(String path) {
            for (BodyRule r : bodyRules) {
                if (r.matches(path)) {
                    return true;
                }
            }
            return false;
        }

        /** False when {@link #samePath} is false whatever the paths: callers may skip splitting them. */
        boolean hasPathRules() {
            return !pathRules.isEmpty();
        }

        /** True when both paths (split by {@link #segments(String)}) match one path pattern of a rule. */
        boolean samePath(String[] a, String[] b) {
            for (PathRule r : pathRules) {
                if (r.matches(a) && r.matches(b)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * True when both decoded queries have the same parameters, each occurring as often in both, and every value
         * that differs belongs to a parameter a rule ignores.
         */
        boolean sameQuery(Map<String, List<String>> a, Map<String, List<String>> b) {
            if (!a.keySet().equals(b.keySet())) {
                return false;
            }
            for (Map.Entry<String, List<String>> e : a.entrySet()) {
                List<String> other = b.get(e.getKey());
                if (!e.getValue().equals(other)
                        && (e.getValue().size() != other.size() || !ignoredQueryNames.contains(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Whether a rule's destination names {@code destination}: {@code *}; the same name or host:port ({@code host:80} =
     * {@code host}); or a name without a port equal to the destination's host, on any port.
     */
    static boolean appliesTo(String ruleDestination, String destination) {
        if (ruleDestination.equals(ANY_DESTINATION) || MockMatcher.sameDestination(ruleDestination, destination)) {
            return true;
        }
        return !PORT.matcher(ruleDestination).find()
                && ruleDestination.equals(PORT.matcher(destination.toLowerCase(Locale.ROOT)).replaceFirst(""));
    }
}
