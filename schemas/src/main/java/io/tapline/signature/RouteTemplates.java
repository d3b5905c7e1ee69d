package io.tapline.signature;

import io.tapline.redaction.RedactionTokens;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns concrete request paths into route templates: {@code /owners/42/pets/3f2c...-...} becomes
 * {@code /owners/{id}/pets/{uuid}}. Shared by the sidecar (record keys), the dedup stream (signatures)
 * and the replay worker (route names), so all three name a route the same way.
 *
 * <p>Each path segment is classified on its own, first rule wins:
 * <ol>
 *   <li>{@code {id}}: decimal integer, optionally signed ({@code 42}, {@code -7});</li>
 *   <li>{@code {uuid}}: RFC 4122 textual UUID, any case;</li>
 *   <li>{@code {date}}: ISO date or date-time ({@code 2024-05-01}, {@code 2024-05-01T10:00:00Z});</li>
 *   <li>{@code {email}}: something@domain.tld;</li>
 *   <li>{@code {hex}}: 8 or more hex digits containing at least one digit (hashes, object ids);</li>
 *   <li>{@code {token}}: 16 or more base64/base64url characters mixing letters and digits (opaque ids,
 *       redaction tokens);</li>
 *   <li>anything else is kept literally.</li>
 * </ol>
 * Empty segments ({@code //}) and a trailing slash are dropped; the empty path is {@code /}.
 * Configured templates (see {@link #withTemplates(List)}) are tried before the segment rules, so a route
 * with word-like ids, e.g. {@code /owners/{name}/pets} matching {@code /owners/george/pets}, can be named.
 */
public final class RouteTemplates {

    public static final String ID = "{id}";
    public static final String UUID = "{uuid}";
    public static final String DATE = "{date}";
    public static final String EMAIL = "{email}";
    public static final String HEX = "{hex}";
    public static final String TOKEN = "{token}";
    /** Every placeholder the default rules write (a configured template may name its own). */
    public static final Set<String> DEFAULT_PLACEHOLDERS = Set.of(ID, UUID, DATE, EMAIL, HEX, TOKEN);

    private static final Pattern INTEGER = Pattern.compile("[-+]?\\d+");
    private static final Pattern UUID_PATTERN =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern DATE_PATTERN =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:?\\d{2})?)?");
    private static final Pattern EMAIL_PATTERN = Pattern.compile("[^@/\\s]+@[^@/\\s]+\\.[A-Za-z]{2,}");
    private static final Pattern HEX_PATTERN = Pattern.compile("(?=.*\\d)[0-9a-fA-F]{8,}");
    private static final Pattern TOKEN_PATTERN =
            Pattern.compile("(?=.*\\d)(?=.*[A-Za-z])[A-Za-z0-9_\\-+=]{16,}");

    /** What a configured template's placeholder may be named: {@code {owner}}, {@code {order-id}}, {@code {file.name}}. */
    private static final Pattern PLACEHOLDER_NAME = Pattern.compile("[\\p{L}\\p{N}_.\\-]+");

    private static final RouteTemplates DEFAULT = new RouteTemplates(List.of());

    private final List<String[]> templates;

    private RouteTemplates(List<String[]> templates) {
        this.templates = templates;
    }

    /**
     * Route templates that try the given templates first, in order. A template is a path whose
     * {@code {name}} segments match any single segment, e.g. {@code /owners/{owner}/pets}.
     *
     * @throws IllegalArgumentException naming the template and what is wrong when the matcher would not read it as
     *                                  written (see {@link #problem(String)})
     */
    public static RouteTemplates withTemplates(List<String> configured) {
        List<String[]> parsed = new ArrayList<>(configured.size());
        for (String template : configured) {
            Objects.requireNonNull(template, "template");
            String problem = problem(template);
            if (problem != null) {
                throw new IllegalArgumentException("route template '" + template + "' " + problem);
            }
            parsed.add(segments(template).toArray(String[]::new));
        }
        return new RouteTemplates(List.copyOf(parsed));
    }

    /**
     * Refuses a route's path as route keys write it after the method ({@code /owners/{id}/pets/{id}}, or a template
     * of {@link #withTemplates}), for an option that names such a route (the sidecar's per-route caps, replay's ignore
     * rules): the checks of {@link #withTemplates} but one, a placeholder may come twice, as the default rules write
     * {@code {id}} for every id of a path. A placeholder's name is not checked against those the default rules write,
     * since dedup-stream's configured templates may name their own.
     *
     * @throws IllegalArgumentException naming the template and what is wrong, in the words of {@link #withTemplates}
     */
    public static void requireRoute(String template) {
        String problem = problem(Objects.requireNonNull(template, "template"), false);
        if (problem != null) {
            throw new IllegalArgumentException("route template '" + template + "' " + problem);
        }
    }

    /** {@link #problem(String, boolean)} of a template of {@link #withTemplates}: each placeholder has its own name. */
    static String problem(String template) {
        return problem(template, true);
    }

    /**
     * What keeps the matcher from reading {@code template} as written, or null. The matcher knows literal segments and
     * segments that are one placeholder, {@code {name}}, matching any one segment; anything else it read silently as
     * something else: a segment with a stray brace ({@code {y}), an empty placeholder or text beside one as literal
     * text no request holds (the template matched nothing), a pattern or wildcard in braces ({@code {id:\d+}},
     * {@code {*}}) as any one segment, a '*' as the character, a query or a segment's parameters dropped.
     *
     * @param distinctNames whether a placeholder's name may come once only (a configured template's, whose names tell
     *                      its segments apart), or twice too (a route key's, {@code /owners/{id}/pets/{id}})
     */
    private static String problem(String template, boolean distinctNames) {
        if (!template.startsWith("/")) {
            return "does not start with '/'";
        }
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
                return "holds a blank or control character (at " + i + "): a request path holds none";
            }
        }
        for (char c : new char[] {'?', '#'}) {
            if (template.indexOf(c) >= 0) {
                return "holds '" + c + "': a template matches a request's path alone, without its query or fragment";
            }
        }
        if (template.indexOf(';') >= 0) {
            return "holds ';': the matcher drops a segment's parameters (';...') from templates as from paths, so "
                    + "'/cart;v=2' would be '/cart'";
        }
        Set<String> names = new HashSet<>();
        for (String segment : template.split("/")) {
            if (segment.indexOf('{') < 0 && segment.indexOf('}') < 0) {
                if (segment.indexOf('*') >= 0) {
                    return "has segment '" + segment + "' holding '*': the matcher has no wildcards, a segment is literal "
                            + "text or one placeholder {name} matching exactly one segment";
                }
                continue;
            }
            if (segment.contains("{}")) {
                return "has an empty placeholder '{}' in segment '" + segment + "': a placeholder is {name}";
            }
            int depth = 0;
            for (int i = 0; i < segment.length() && depth >= 0; i++) {
                char c = segment.charAt(i);
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            }
            if (depth != 0) {
                return "has an unbalanced brace in segment '" + segment + "': a placeholder is a whole segment, {name}";
            }
            String name = segment.substring(1, segment.length() - 1);
            if (segment.charAt(0) != '{' || segment.charAt(segment.length() - 1) != '}'
                    || name.indexOf('{') >= 0 || name.indexOf('}') >= 0) {
                return "has segment '" + segment + "' that is not one placeholder alone: a placeholder is a whole "
                        + "segment, {name}, and the matcher would read this one as "
                        + (segment.charAt(0) == '{' && segment.charAt(segment.length() - 1) == '}'
                                ? "one placeholder matching any segment" : "literal text");
            }
            if (!PLACEHOLDER_NAME.matcher(name).matches()) {
                return "has placeholder '" + segment + "', which is not a name (letters, digits, '_', '-', '.'): a "
                        + "placeholder matches exactly one whole segment, any; the matcher has no patterns or wildcards";
            }
            if (!names.add(name) && distinctNames) {
                return "names placeholder '" + segment + "' twice: each placeholder of a template needs a name of its own";
            }
        }
        return null;
    }

    /** The default rules, no configured templates. */
    public static RouteTemplates defaults() {
        return DEFAULT;
    }

    /** Normalises a path with the default rules, e.g. {@code /owners/42} to {@code /owners/{id}}. */
    public static String normalise(String path) {
        return DEFAULT.template(path);
    }

    /** Route key with the default rules: upper-case method, a space, the template: {@code GET /owners/{id}}. */
    public static String routeKey(String method, String path) {
        return DEFAULT.route(method, path);
    }

    /** Template of a path: a matching configured template, else the segment rules. */
    public String template(String path) {
        List<String> segments = segments(path == null ? "" : stripQuery(path));
        for (String[] template : templates) {
            if (matches(template, segments)) {
                return join(List.of(template));
            }
        }
        List<String> out = new ArrayList<>(segments.size());
        for (String segment : segments) {
            out.add(classify(segment));
        }
        return join(out);
    }

    /** Route key: upper-case method, a space, the template. */
    public String route(String method, String path) {
        return Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT) + " " + template(path);
    }

    /**
     * The route key of the requests a template names, as a configured template writes it (a template taken by
     * {@link #requireRoute}, as written; its segments are not classified): upper-case method, a space, the template
     * without empty segments or a trailing slash. {@code get /products/{slug}/} is {@code GET /products/{slug}}.
     */
    public static String templateRoute(String method, String template) {
        return Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT) + " "
                + join(segments(Objects.requireNonNull(template, "template")));
    }

    /**
     * The placeholder a value stands for when it looks like an id ({@code {id}}, {@code {uuid}}, {@code {date}},
     * {@code {email}}, {@code {hex}}, {@code {token}}), else the value itself: the rule for path segments, also
     * applied to JSON object keys by the dedup stream (an object keyed by id is a map, not a new shape per key). A
     * redaction token ({@code tapline:hmac:…}, whatever it stood for) is a {@code {token}}.
     */
    public static String classify(String segment) {
        if (RedactionTokens.is(segment)) {
            return TOKEN; // what the capture redacted (an email in a path, a map keyed by card number): one kind
        }
        if (plainWord(segment)) {
            return segment;
        }
        if (INTEGER.matcher(segment).matches()) {
            return ID;
        }
        if (UUID_PATTERN.matcher(segment).matches()) {
            return UUID;
        }
        if (DATE_PATTERN.matcher(segment).matches()) {
            return DATE;
        }
        if (EMAIL_PATTERN.matcher(segment).matches()) {
            return EMAIL;
        }
        if (HEX_PATTERN.matcher(segment).matches()) {
            return HEX;
        }
        if (TOKEN_PATTERN.matcher(segment).matches()) {
            return TOKEN;
        }
        return segment;
    }

    /**
     * A segment no rule can match, found without running the regexes (most segments are words like "owners"):
     * every rule but the UUID needs a digit or an '@', and a UUID is 36 characters long.
     */
    private static boolean plainWord(String segment) {
        if (segment.length() == 36) {
            return false;
        }
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (Character.isDigit(c) || c == '@') {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(String[] template, List<String> segments) {
        if (template.length != segments.size()) {
            return false;
        }
        for (int i = 0; i < template.length; i++) {
            String t = template[i];
            boolean placeholder = t.length() > 2 && t.charAt(0) == '{' && t.charAt(t.length() - 1) == '}';
            if (!placeholder && !t.equals(segments.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    /** A path's segments without their parameters ({@code /cart;jsessionid=...} is {@code /cart}). */
    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            int semi = s.indexOf(';');
            String segment = semi < 0 ? s : s.substring(0, semi);
            if (!segment.isEmpty()) {
                out.add(segment);
            }
        }
        return out;
    }

    private static String join(List<String> segments) {
        if (segments.isEmpty()) {
            return "/";
        }
        StringBuilder sb = new StringBuilder();
        for (String s : segments) {
            sb.append('/').append(s);
        }
        return sb.toString();
    }
}
