package io.tapline.redaction;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.tapline.avro.Header;
import io.tapline.avro.Redaction;
import io.tapline.json.JsonPathSegments;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces secrets by keyed tokens before anything leaves the process.
 * <p>A token is {@code tapline:hmac:} followed by the first 16 hex digits (64 bits) of
 * {@code HMAC-SHA256(key, value)}: equal values give equal tokens (dedup and noise learning keep working),
 * but without the key a token cannot be confirmed by guessing candidate values.
 * <p>Not thread-safe in its record list arguments; the MAC itself is per thread.
 */
public final class Redactor {

    /** Header names redacted by default (compared case-insensitively). */
    public static final Set<String> DEFAULT_HEADERS = Set.of(
            "authorization", "proxy-authorization", "cookie", "set-cookie",
            "x-api-key", "api-key", "x-auth-token", "x-access-token", "x-csrf-token", "x-xsrf-token");

    /** Names of headers, query parameters, JSON and form fields that look like credentials. */
    public static final String DEFAULT_SENSITIVE_NAME =
            "(?i).*(passw|passwd|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential|session[-_]?id|client[-_]?secret).*";

    /** Header names that carry credentials beyond the exact defaults (X-Auth, X-Outbound-Auth, X-Amz-Signature...). */
    private static final Pattern SENSITIVE_HEADER = Pattern.compile("(?i).*(auth(?!or)|signature).*");
    /** A header value in an HTTP authentication scheme is a credential whatever the header is called. */
    private static final Pattern CREDENTIAL_VALUE = Pattern.compile("(?i)^\\s*(bearer|basic|digest|token|negotiate|apikey)\\s+\\S.*");
    /** Digit runs of 13 to 19 digits, optionally grouped by spaces or dashes, starting like a card (2-6). */
    private static final Pattern CARD = Pattern.compile("(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])");
    /**
     * "name": value pairs in JSON-like text that could not be parsed (e.g. a truncated body); for an object or array
     * value only its opening bracket (the rest is found by {@link #closingBracket}). The string value is
     * matched with possessive quantifiers: an alternation under {@code *} recurses once per character in
     * java.util.regex and overflows the stack on a long string.
     */
    private static final Pattern JSON_PAIR = Pattern.compile("\"([^\"\\\\]{1,128})\"\\s*:\\s*(\"[^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+(?:\"|$)|[^,}\\]\\s{\\[\"]+|[{\\[])");

    /**
     * Headers whose value is a URL reference, redacted by the request URL's rules (as is any header value that starts
     * with {@code /}, {@code http://} or {@code https://}); Link holds URLs in {@code <...>}.
     */
    private static final Set<String> URL_HEADERS = Set.of("location", "content-location", "referer");

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Reads text that must be one JSON value and nothing after it ({@code 4111 1111 1111 1111} is not the number 4111). */
    private static final ObjectReader WHOLE_JSON = JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A named extra pattern whose matches are tokenised in any text. */
    public record TextRule(String name, Pattern pattern) {
    }

    /**
     * What to redact.
     *
     * @param headers       header names (lower case) whose values are always tokenised
     * @param sensitiveName names of headers, query params, JSON and form fields to tokenise
     * @param fields        extra exact field names (lower case) for query, JSON and form
     * @param jsonPaths     JSON paths like {@code $.customer.ssn}, {@code $.items[*].cvv} or {@code $..pin}
     * @param textRules     extra regexes applied to every text value
     * @param cards         tokenise Luhn-valid card numbers
     * @param emails        tokenise email addresses
     */
    public record Rules(Set<String> headers, Pattern sensitiveName, Set<String> fields, List<String> jsonPaths,
                        List<TextRule> textRules, boolean cards, boolean emails) {
        public Rules {
            headers = headers.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());
            fields = fields.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());
            jsonPaths = jsonPaths.stream().map(Redactor::normalisePath).toList();
            textRules = List.copyOf(textRules);
        }

        public static Rules defaults() {
            return new Rules(DEFAULT_HEADERS, Pattern.compile(DEFAULT_SENSITIVE_NAME), Set.of(), List.of(), List.of(), true, true);
        }
    }

    private final RedactionKey key;
    private final Rules rules;

    public Redactor(byte[] key, Rules rules) {
        this(new RedactionKey(key), rules);
    }

    public Redactor(RedactionKey key, Rules rules) {
        this.key = key;
        this.rules = rules;
        this.sensitiveNames = new NameVerdicts<>(name ->
                rules.fields().contains(name.toLowerCase(Locale.ROOT)) || rules.sensitiveName().matcher(name).matches());
        this.sensitiveHeaders = new NameVerdicts<>(name -> sensitive(name) || SENSITIVE_HEADER.matcher(name).matches());
        this.headerKinds = new NameVerdicts<>(this::headerKind);
    }

    /** The keyed token for a value; a value that already is a token stays as it is (redacting twice changes nothing). */
    public String token(String value) {
        return RedactionTokens.is(value) ? value : key.token(value);
    }

    /** Names repeat (the same headers and fields on every request): their verdicts are remembered. */
    private final NameVerdicts<Boolean> sensitiveNames;
    private final NameVerdicts<Boolean> sensitiveHeaders;
    private final NameVerdicts<HeaderKind> headerKinds;

    private boolean sensitive(String name) {
        return sensitiveNames.get(name);
    }

    private boolean sensitiveHeader(String name) {
        return sensitiveHeaders.get(name);
    }

    /** The rule a sensitive query, JSON or form field name falls under: a configured field name, else the name pattern. */
    private String fieldRule(String name) {
        return rules.fields().contains(name.toLowerCase(Locale.ROOT)) ? "config:field" : "sensitive-name";
    }

    /** A name rule's verdicts, remembered for up to {@link #MAX} names (beyond that, computed each time). */
    private static final class NameVerdicts<V> {
        private static final int MAX = 10_000;
        private final Map<String, V> known = new ConcurrentHashMap<>();
        private final Function<String, V> rule;

        NameVerdicts(Function<String, V> rule) {
            this.rule = rule;
        }

        V get(String name) {
            V v = known.get(name);
            if (v != null) {
                return v;
            }
            V verdict = rule.apply(name);
            if (known.size() < MAX) {
                known.put(name, verdict);
            }
            return verdict;
        }
    }

    // ---------------------------------------------------------------- headers

    /** What a header's name alone decides about its value; a header's name is classified once, its value every time. */
    private enum HeaderKind {
        COOKIE, SET_COOKIE, DEFAULT_HEADER, CONFIG_HEADER, SENSITIVE_NAME, LINK, URL, OTHER
    }

    private HeaderKind headerKind(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("cookie") || (lower.contains("cookie") && !lower.equals("set-cookie"))) {
            return HeaderKind.COOKIE;
        } else if (lower.equals("set-cookie")) {
            return HeaderKind.SET_COOKIE;
        } else if (rules.headers().contains(lower)) {
            return DEFAULT_HEADERS.contains(lower) ? HeaderKind.DEFAULT_HEADER : HeaderKind.CONFIG_HEADER;
        } else if (sensitiveHeader(name)) {
            return HeaderKind.SENSITIVE_NAME;
        } else if (lower.equals("link")) {
            return HeaderKind.LINK;
        }
        return URL_HEADERS.contains(lower) ? HeaderKind.URL : HeaderKind.OTHER;
    }

    public List<Header> headers(String part, List<Header> headers, List<Redaction> out) {
        List<Header> result = new ArrayList<>(headers.size());
        for (Header h : headers) {
            String name = h.getName();
            String value = h.getValue();
            HeaderKind kind = headerKinds.get(name);
            String redacted;
            switch (kind) {
                case COOKIE -> {
                    redacted = cookie(value);
                    out.add(new Redaction(part, "header", name, "default-headers"));
                }
                case SET_COOKIE -> {
                    redacted = setCookie(value);
                    out.add(new Redaction(part, "header", name, "default-headers"));
                }
                case DEFAULT_HEADER, CONFIG_HEADER -> {
                    redacted = credentials(value);
                    out.add(new Redaction(part, "header", name, kind == HeaderKind.DEFAULT_HEADER ? "default-headers" : "config:header"));
                }
                case SENSITIVE_NAME -> {
                    redacted = credentials(value);
                    out.add(new Redaction(part, "header", name, "sensitive-name"));
                }
                default -> {
                    if (mayBeCredential(value) && CREDENTIAL_VALUE.matcher(value).matches()) {
                        redacted = credentials(value);
                        out.add(new Redaction(part, "header", name, "credential-value"));
                    } else if (kind == HeaderKind.LINK) {
                        redacted = links(part, name, value, out);
                    } else if (kind == HeaderKind.URL || looksLikeUrl(value)) {
                        redacted = url(part, name, value, out);
                    } else {
                        redacted = text(part, "header", name, value, out);
                    }
                }
            }
            result.add(redacted == value ? h : new Header(name, redacted));
        }
        return result;
    }

    /** One header's value, redacted as {@link #headers} would. */
    public String header(String part, String name, String value, List<Redaction> out) {
        return headers(part, List.of(new Header(name, value)), out).get(0).getValue();
    }

    /** An absolute URL or an absolute path, as X-Original-URI and similar headers carry. */
    private static boolean looksLikeUrl(String value) {
        return value.startsWith("/") || value.regionMatches(true, 0, "http://", 0, 7) || value.regionMatches(true, 0, "https://", 0, 8);
    }

    /** {@code Bearer abc} keeps its scheme: {@code Bearer tapline:hmac:...}. */
    private String credentials(String value) {
        int sp = value.indexOf(' ');
        if (sp > 0 && sp < 20 && value.substring(0, sp).chars().allMatch(Character::isLetter)) {
            return value.substring(0, sp + 1) + token(value.substring(sp + 1).trim());
        }
        return token(value);
    }

    private String cookie(String value) {
        StringBuilder sb = new StringBuilder();
        for (String pair : value.split(";")) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            String p = pair.trim();
            int eq = p.indexOf('=');
            sb.append(eq < 0 ? token(p) : p.substring(0, eq + 1) + token(p.substring(eq + 1)));
        }
        return sb.toString();
    }

    private String setCookie(String value) {
        int semi = value.indexOf(';');
        String first = semi < 0 ? value : value.substring(0, semi);
        String attrs = semi < 0 ? "" : value.substring(semi);
        int eq = first.indexOf('=');
        String redacted = eq < 0 ? token(first.trim()) : first.substring(0, eq + 1) + token(first.substring(eq + 1));
        return redacted + attrs;
    }

    // ---------------------------------------------------------------- query, form, path, URLs

    /**
     * Redacts a raw query or form-encoded string; pairs that need no change keep their exact bytes. A name (or a
     * token without {@code =}, like {@code ?jane@example.com&x=1}) that matches a text rule is tokenised too; a
     * valueless token that is only a sensitive name ({@code ?token&x=1}) holds no value and is kept.
     */
    public String urlEncoded(String part, String location, String raw, List<Redaction> out) {
        return urlEncoded(part, location, null, raw, out);
    }

    /** {@link #urlEncoded}, noting redactions under {@code field}, or under each pair's name when it is null. */
    private String urlEncoded(String part, String location, String field, String raw, List<Redaction> out) {
        if (raw == null || raw.isEmpty()) {
            return raw;
        }
        StringBuilder sb = new StringBuilder(raw.length());
        boolean changed = false;
        String[] pairs = raw.split("&", -1);
        for (int i = 0; i < pairs.length; i++) {
            String pair = pairs[i];
            if (i > 0) {
                sb.append('&');
            }
            int eq = pair.indexOf('=');
            String rawName = eq < 0 ? pair : pair.substring(0, eq);
            String name = percentDecode(rawName, true);
            String redactedName = text(part, location, field == null ? location : field, name, out);
            // a note names the pair, never a value: a name that held one is named by its token
            String label = field == null ? redactedName : field;
            String value = eq < 0 ? null : percentDecode(pair.substring(eq + 1), true);
            String redacted;
            if (value == null) {
                redacted = null;
            } else {
                redacted = field(part, location, name, label, value, out);
            }
            if (redacted == value && redactedName == name) {
                sb.append(pair);
                continue;
            }
            changed = true;
            sb.append(redactedName == name ? rawName : formEncode(redactedName));
            if (value != null) {
                sb.append('=').append(redacted == value ? pair.substring(eq + 1) : formEncode(redacted));
            }
        }
        return changed ? sb.toString() : raw;
    }

    /** One query parameter's or form field's decoded value, redacted as {@link #urlEncoded} redacts it. */
    public String field(String part, String location, String name, String value, List<Redaction> out) {
        return field(part, location, name, name, value, out);
    }

    /** {@link #field}, noted under {@code label}. */
    private String field(String part, String location, String name, String label, String value, List<Redaction> out) {
        if (sensitive(name)) {
            out.add(new Redaction(part, location, label, fieldRule(name)));
            return token(value);
        }
        return text(part, location, label, value, out);
    }

    private static String formEncode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("%3A", ":");
    }

    /**
     * Redacts a raw (percent-encoded) path: the text rules on the path as it is, then on each segment that holds
     * a {@code %} escape once decoded ({@code /users/jane%40example.com}, a card split by {@code %2D}); a segment
     * that changed is written back percent-encoded, the others keep their bytes.
     */
    public String path(String part, String path, List<Redaction> out) {
        return path(part, "path", "path", path, out);
    }

    private String path(String part, String location, String field, String path, List<Redaction> out) {
        String r = text(part, location, field, path, out);
        if (r == null || r.indexOf('%') < 0) {
            return r;
        }
        StringBuilder sb = new StringBuilder(r.length());
        boolean changed = false;
        int start = 0;
        while (start <= r.length()) {
            int slash = r.indexOf('/', start);
            int end = slash < 0 ? r.length() : slash;
            String segment = r.substring(start, end);
            String decoded = percentDecode(segment, false);
            String redacted = decoded == segment ? segment : text(part, location, field, decoded, out);
            if (redacted != decoded) {
                changed = true;
                sb.append(encodePathSegment(redacted));
            } else {
                sb.append(segment);
            }
            if (slash < 0) {
                break;
            }
            sb.append('/');
            start = slash + 1;
        }
        return changed ? sb.toString() : r;
    }

    /**
     * A path segment percent-decoded as the redaction reads it before tokenising what it holds (an email written
     * {@code ann%40example.com} is tokenised as {@code ann@example.com}).
     */
    public static String decodePathSegment(String segment) {
        return percentDecode(segment, false);
    }

    /**
     * Percent-decodes as UTF-8, leniently: an escape that is not {@code %} and two hex digits stays as it is (so
     * {@code jane%40example.com%zz} is still seen as an email). {@code +} is a space in query and form values only.
     */
    private static String percentDecode(String s, boolean plusIsSpace) {
        if (s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0)) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        byte[] bytes = null;
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int hi;
            int lo;
            if (c == '%' && i + 2 < s.length() && (hi = Character.digit(s.charAt(i + 1), 16)) >= 0
                    && (lo = Character.digit(s.charAt(i + 2), 16)) >= 0) {
                if (bytes == null) {
                    bytes = new byte[s.length() / 3];
                }
                bytes[n++] = (byte) (hi << 4 | lo);
                i += 2;
                continue;
            }
            if (n > 0) {
                sb.append(new String(bytes, 0, n, StandardCharsets.UTF_8));
                n = 0;
            }
            sb.append(plusIsSpace && c == '+' ? ' ' : c);
        }
        if (n > 0) {
            sb.append(new String(bytes, 0, n, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    /** Percent-encodes (UTF-8) what RFC 3986 does not allow as is in a path segment: unreserved, sub-delims, ':' and '@' stay. */
    private static String encodePathSegment(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if (domainLabel(c) || "-._~!$&'()*+,;=:@".indexOf(c) >= 0) {
                sb.append(c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return sb.toString();
    }

    /**
     * A URL or URL reference in a header value (Location, Referer...), redacted by the request URL's rules: the
     * authority by the text rules (a userinfo password tokenised), the path by {@link #path}, the query by
     * {@link #urlEncoded}, and the fragment like a query (OAuth's implicit flow redirects to
     * {@code #access_token=...}). Redactions are noted under the header's name. Unchanged: the same instance.
     */
    private String url(String part, String field, String url, List<Redaction> out) {
        int hash = url.indexOf('#');
        int queryMark = url.indexOf('?');
        if (hash >= 0 && queryMark > hash) {
            queryMark = -1;
        }
        int pathEnd = queryMark >= 0 ? queryMark : hash >= 0 ? hash : url.length();
        int authorityStart = schemeLength(url, pathEnd);
        int authorityEnd = authorityStart;
        if (url.startsWith("//", authorityStart)) {
            authorityStart += 2;
            int slash = url.indexOf('/', authorityStart);
            authorityEnd = slash < 0 || slash > pathEnd ? pathEnd : slash;
        }
        String authority = url.substring(authorityStart, authorityEnd);
        String path = url.substring(authorityEnd, pathEnd);
        String query = queryMark < 0 ? null : url.substring(queryMark + 1, hash >= 0 ? hash : url.length());
        String fragment = hash < 0 ? null : url.substring(hash + 1);
        String a = authority(part, field, authority, out);
        String p = path(part, "header", field, path, out);
        String q = urlEncoded(part, "header", field, query, out);
        String f = urlEncoded(part, "header", field, fragment, out);
        if (a == authority && p == path && q == query && f == fragment) {
            return url;
        }
        StringBuilder sb = new StringBuilder(url.length() + 32).append(url, 0, authorityStart).append(a).append(p);
        if (q != null) {
            sb.append('?').append(q);
        }
        if (f != null) {
            sb.append('#').append(f);
        }
        return sb.toString();
    }

    /** The length of {@code scheme:} at the start of a URL (RFC 3986 §3.1), 0 for a relative reference. */
    private static int schemeLength(String url, int end) {
        for (int i = 0; i < end; i++) {
            char c = url.charAt(i);
            if (c == ':') {
                return i + 1;
            }
            if (!letter(c) && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
                return 0;
            }
        }
        return 0;
    }

    /** {@code user:password@host:port}: the password tokenised, the rest by the text rules. */
    private String authority(String part, String field, String authority, List<Redaction> out) {
        int at = authority.lastIndexOf('@');
        int colon = at < 0 ? -1 : authority.indexOf(':');
        if (colon < 0 || colon > at) {
            return text(part, "header", field, authority, out);
        }
        out.add(new Redaction(part, "header", field, "url-password"));
        return text(part, "header", field, authority.substring(0, colon + 1), out)
                + token(percentDecode(authority.substring(colon + 1, at), false))
                + text(part, "header", field, authority.substring(at), out);
    }

    /** A Link header ({@code <url>; rel="next", <url>; rel="last"}): each {@code <url>} as a URL, the rest as text. */
    private String links(String part, String field, String value, List<Redaction> out) {
        StringBuilder sb = new StringBuilder(value.length() + 32);
        boolean changed = false;
        int i = 0;
        while (i < value.length()) {
            int lt = value.indexOf('<', i);
            int gt = lt < 0 ? -1 : value.indexOf('>', lt + 1);
            if (gt < 0) {
                String rest = value.substring(i);
                String r = text(part, "header", field, rest, out);
                changed |= r != rest;
                sb.append(r);
                break;
            }
            String before = value.substring(i, lt + 1);
            String b = text(part, "header", field, before, out);
            String link = value.substring(lt + 1, gt);
            String l = url(part, field, link, out);
            changed |= b != before || l != link;
            sb.append(b).append(l);
            i = gt;
        }
        return changed ? sb.toString() : value;
    }

    // ---------------------------------------------------------------- bodies

    /**
     * Redacts a captured (identity-encoded) body by content type: JSON by tree (falling back to text when it
     * does not parse, e.g. truncated), form bodies by field, multipart bodies by part, everything else by the
     * text rules.
     */
    public byte[] body(String part, byte[] body, String contentType, List<Redaction> out) {
        return body(part, body, contentType, 0, out);
    }

    /** {@link #body} of a body nested {@code depth} multipart levels deep. */
    private byte[] body(String part, byte[] body, String contentType, int depth, List<Redaction> out) {
        if (body.length == 0) {
            return body;
        }
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        boolean form = ct.startsWith("application/x-www-form-urlencoded");
        boolean multipart = ct.startsWith("multipart/");
        if (!form && !multipart && nothingToRedact(body)) {
            return body; // the JSON and text paths would return these same bytes: skip the parse and the regexes
        }
        if (multipart) {
            byte[] r = multipart(part, body, contentType, depth, out);
            if (r != null) {
                return r;
            }
        } else if (ct.contains("json")) {
            byte[] r = json(part, body, out);
            if (r != null) {
                return r;
            }
            return latin1(jsonLikeText(part, new String(body, StandardCharsets.ISO_8859_1), out), body);
        } else if (form) {
            String s = new String(body, StandardCharsets.ISO_8859_1);
            return latin1(urlEncoded(part, "form", s, out), body);
        }
        String s = new String(body, StandardCharsets.ISO_8859_1);
        // Unknown text may still embed JSON-ish pairs (e.g. logs); treat them as JSON text.
        String r = jsonLikeText(part, s, out);
        return latin1(r, body);
    }

    /**
     * A byte scan proving that no JSON/text rule can fire, so {@link #body} may return the bytes as they are: no
     * configured JSON paths or regexes, plain ASCII without escapes (raw bytes = decoded text), no '@' (emails),
     * fewer than 13 digits in all (cards), and no quoted name followed by ':' that is sensitive (JSON fields, and
     * every name the text fallback's "name": value scan could see, whichever quote it starts at).
     */
    boolean nothingToRedact(byte[] body) {
        if (!rules.jsonPaths().isEmpty() || !rules.textRules().isEmpty()) {
            return false;
        }
        int digits = 0;
        int lastQuote = -1;
        for (int i = 0; i < body.length; i++) {
            byte b = body[i];
            if (b < 0 || b == '\\' || b == '@') {
                return false;
            }
            if (b >= '0' && b <= '9' && ++digits >= 13 && rules.cards()) {
                return false;
            }
            if (b == '"') {
                if (lastQuote >= 0 && followedByColon(body, i + 1)
                        && sensitive(new String(body, lastQuote + 1, i - lastQuote - 1, StandardCharsets.ISO_8859_1))) {
                    return false;
                }
                lastQuote = i;
            }
        }
        return true;
    }

    private static boolean followedByColon(byte[] body, int from) {
        for (int i = from; i < body.length; i++) {
            byte b = body[i];
            if (b == ':') {
                return true;
            }
            if (!blank((char) b)) {
                return false;
            }
        }
        return false;
    }

    private static int digits(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                n++;
            }
        }
        return n;
    }

    /**
     * Whether {@link #CREDENTIAL_VALUE} can match, without running it: the first non-blank character starts one of
     * its schemes (b, d, t, n, a), and whitespace separates the scheme from the credentials. Most header values
     * (dates, media types, host names) fail on the first character.
     */
    static boolean mayBeCredential(String s) {
        int i = 0;
        while (i < s.length() && blank(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return false;
        }
        switch (s.charAt(i) | 0x20) {
            case 'b', 'd', 't', 'n', 'a' -> { }
            default -> {
                return false;
            }
        }
        for (; i < s.length(); i++) {
            if (blank(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f';
    }

    private static byte[] latin1(String s, byte[] original) {
        return s == null ? original : s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Parses and redacts a JSON body; null when it is not valid JSON. Unchanged bodies keep their bytes. */
    private byte[] json(String part, byte[] body, List<Redaction> out) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
        if (root == null) {
            return null;
        }
        int before = out.size();
        JsonNode replaced = walk(part, root, "$", out);
        if (out.size() == before && replaced == root) {
            return body;
        }
        try {
            return JSON.writeValueAsBytes(replaced);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("re-serialising a parsed JSON tree failed", e);
        }
    }

    /**
     * A value found at {@code path} ({@code $.customer.email}, {@code $.items[2]}, {@code $.byUser['ann@example.com']})
     * of a JSON document, rendered as JSON text and possibly cut short, redacted as it would be inside the whole
     * document: when a field named on its path is sensitive or configured, a string token in place of the whole value;
     * otherwise its own fields and text by the usual rules (text that does not parse, by the rules for JSON-like text).
     * A name in brackets is one name, as the capture sees the key. Unchanged: the same instance.
     */
    public String jsonValue(String part, String path, String rendered, List<Redaction> out) {
        if (rendered == null || rendered.isEmpty()) {
            return rendered;
        }
        StringBuilder concrete = new StringBuilder("$"); // as the capture names a field: members joined by dots
        List<JsonPathSegments.Segment> segments = JsonPathSegments.parse(path);
        for (int i = 0; i < segments.size(); i++) {
            JsonPathSegments.Segment segment = segments.get(i);
            if (segment.index()) {
                concrete.append(segment.text());
                continue;
            }
            String name = segment.text();
            if (i == 0 && name.equals("$")) {
                continue;
            }
            concrete.append('.').append(name);
            String rule = pathMatches(concrete.toString(), name) ? "config:json-path" : sensitive(name) ? fieldRule(name) : null;
            if (rule != null) {
                out.add(new Redaction(part, "json", path, rule));
                return JSON.getNodeFactory().textNode(token(textOf(rendered))).toString();
            }
        }
        return anyText(part, path.startsWith("$") ? path : "$", rendered, out);
    }

    /**
     * Text that may be JSON (a JSON document or value, or one cut short): walked as JSON from {@code path} when it
     * parses, else by the rules for JSON-like text, which end with the text rules. Unchanged: the same instance.
     */
    public String anyText(String part, String path, String s, List<Redaction> out) {
        if (s == null || s.isEmpty()) {
            return s;
        }
        JsonNode node = null;
        try {
            node = WHOLE_JSON.readTree(s);
        } catch (IOException e) {
            // not JSON (or cut short): the JSON-like text rules below
        }
        if (node != null && !node.isMissingNode()) {
            int before = out.size();
            JsonNode r = walk(part, node, path, out);
            return out.size() == before && r == node ? s : r.toString();
        }
        String r = jsonLikeText(part, s, out);
        return r == null ? s : r;
    }

    /**
     * What a JSON value is tokenised as: a string's content, an object or array as {@link #canonicalJson} (so the
     * order its members came in does not change the token), any other value as its JSON.
     */
    public static String tokenText(JsonNode value) {
        if (value.isTextual()) {
            return value.textValue();
        }
        return value.isContainerNode() ? canonicalJson(value) : value.toString();
    }

    /** Compact JSON with every object's members sorted by name, at every depth; array elements keep their order. */
    public static String canonicalJson(JsonNode value) {
        return sorted(value).toString();
    }

    /** {@link #canonicalJson} of text holding one JSON object or array; null for any other text. */
    public static String canonicalJson(String text) {
        if (text.isEmpty() || (text.charAt(0) != '{' && text.charAt(0) != '[')) {
            return null;
        }
        try {
            JsonNode n = WHOLE_JSON.readTree(text);
            return n != null && n.isContainerNode() ? canonicalJson(n) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = JSON.getNodeFactory().objectNode();
            TreeMap<String, JsonNode> members = new TreeMap<>();
            node.fields().forEachRemaining(m -> members.put(m.getKey(), m.getValue()));
            members.forEach((name, v) -> out.set(name, sorted(v)));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JSON.getNodeFactory().arrayNode(node.size());
            node.forEach(v -> out.add(sorted(v)));
            return out;
        }
        return node;
    }

    /** A rendered JSON value's token text (see {@link #tokenText}), or the rendering itself when it does not parse (cut). */
    private static String textOf(String rendered) {
        try {
            JsonNode n = WHOLE_JSON.readTree(rendered);
            if (n != null && !n.isMissingNode()) {
                return tokenText(n);
            }
        } catch (IOException e) {
            // cut for display: the rendering as it is
        }
        return rendered;
    }

    private JsonNode walk(String part, JsonNode node, String path, List<Redaction> out) {
        if (node.isObject()) {
            ObjectNode obj = (ObjectNode) node;
            Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
            List<Map.Entry<String, JsonNode>> updates = new ArrayList<>();
            List<String> names = null; // the members' names once one of them was redacted, in order
            int index = 0;
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                // A key holding an email or a card number (a map keyed by customer) is redacted like text: its
                // token stands for it in the body, in the paths below it and in the notes.
                String name = key(part, path, e.getKey(), out);
                if (name != e.getKey() && names == null) {
                    names = new ArrayList<>(obj.size());
                    Iterator<String> before = obj.fieldNames();
                    for (int i = 0; i < index; i++) {
                        names.add(before.next());
                    }
                }
                if (names != null) {
                    names.add(name);
                }
                index++;
                String childPath = path + "." + name;
                JsonNode child = e.getValue();
                String rule = null;
                if (pathMatches(childPath, e.getKey())) {
                    rule = "config:json-path";
                } else if (sensitive(e.getKey())) {
                    rule = fieldRule(e.getKey());
                }
                if (rule != null && !child.isNull()) {
                    out.add(new Redaction(part, "json", childPath, rule));
                    updates.add(Map.entry(e.getKey(), TextNode.valueOf(token(tokenText(child)))));
                } else {
                    JsonNode r = walk(part, child, childPath, out);
                    if (r != child) {
                        updates.add(Map.entry(e.getKey(), r));
                    }
                }
            }
            updates.forEach(u -> obj.set(u.getKey(), u.getValue()));
            if (names == null) {
                return obj;
            }
            ObjectNode renamed = JSON.getNodeFactory().objectNode(); // the members in their order, under their new names
            Iterator<JsonNode> values = obj.elements();
            for (String name : names) {
                renamed.set(name, values.next());
            }
            return renamed;
        }
        if (node.isArray()) {
            ArrayNode arr = (ArrayNode) node;
            for (int i = 0; i < arr.size(); i++) {
                JsonNode child = arr.get(i);
                JsonNode r = walk(part, child, path + "[" + i + "]", out);
                if (r != child) {
                    arr.set(i, r);
                }
            }
            return arr;
        }
        if (node.isTextual()) {
            String s = node.textValue();
            String r = text(part, "json", path, s, out);
            return r == s ? node : TextNode.valueOf(r);
        }
        if (node.isIntegralNumber() && rules.cards()) {
            String digits = node.asText();
            if (CARD.matcher(digits).matches() && luhn(digits)) {
                out.add(new Redaction(part, "json", path, "card-number"));
                return TextNode.valueOf(token(digits));
            }
        }
        return node;
    }

    /**
     * A JSON object key with the text rules applied (an email or a card number in it becomes its token), noted at the
     * member's path as redacted; the same instance when nothing in it matched. Most keys hold neither a digit run long
     * enough for a card nor an '@', and with no configured text rule they are not scanned further.
     */
    private String key(String part, String path, String name, List<Redaction> out) {
        if (rules.textRules().isEmpty() && name.indexOf('@') < 0 && (!rules.cards() || name.length() < 13)) {
            return name;
        }
        List<Redaction> found = new ArrayList<>(1);
        String r = text(part, "json", path, name, found);
        if (r == name) {
            return name;
        }
        for (Redaction x : found) {
            out.add(new Redaction(part, "json", path + "." + r, x.getRule()));
        }
        return r;
    }

    private boolean pathMatches(String concretePath, String fieldName) {
        if (rules.jsonPaths().isEmpty()) {
            return false;
        }
        String normal = concretePath.replaceAll("\\[\\d+]", "[*]");
        for (String p : rules.jsonPaths()) {
            if (p.equals(normal) || (p.startsWith("$..") && p.substring(3).equals(fieldName))) {
                return true;
            }
        }
        return false;
    }

    static String normalisePath(String p) {
        String s = p.trim();
        if (!s.startsWith("$")) {
            s = "$." + s;
        }
        return s.replaceAll("\\[\\d+]", "[*]");
    }

    /**
     * Text that should be JSON but does not parse: tokenise values of sensitive "name": value pairs, then text rules.
     * An object or array value is tokenised whole, up to its closing bracket or, when the capture cut it, the end.
     */
    private String jsonLikeText(String part, String s, List<Redaction> out) {
        Matcher m = JSON_PAIR.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        int from = 0;
        while (from < s.length() && m.find(from)) {
            String name = m.group(1);
            from = m.end();
            if (!sensitive(name) && rules.jsonPaths().stream().noneMatch(p -> p.startsWith("$..") && p.substring(3).equals(name) || p.endsWith("." + name))) {
                continue; // an object or array value is entered: its own pairs are found next
            }
            if (sb == null) {
                sb = new StringBuilder(s.length());
            }
            String v = m.group(2);
            String inner;
            if (v.equals("{") || v.equals("[")) {
                from = closingBracket(s, m.start(2));
                inner = s.substring(m.start(2), from);
            } else {
                inner = v.startsWith("\"") ? v.substring(1, v.endsWith("\"") && v.length() > 1 ? v.length() - 1 : v.length()) : v;
            }
            sb.append(s, last, m.start(2)).append('"').append(token(inner)).append('"');
            last = from;
            // the note names the field as the text will read: a name holding an email is named by its token
            out.add(new Redaction(part, "text", text(part, "text", name, name, new ArrayList<>()), "sensitive-name"));
        }
        String afterPairs = sb == null ? s : sb.append(s, last, s.length()).toString();
        String r = text(part, "text", "body", afterPairs, out);
        return r == s ? null : r;
    }

    /**
     * The index after the bracket that closes the one at {@code open} (brackets inside strings ignored), or the
     * text's length when it is cut before. A loop with a depth counter: no recursion on deeply nested input.
     */
    private static int closingBracket(String s, int open) {
        int depth = 0;
        boolean inString = false;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return s.length();
    }

    // ---------------------------------------------------------------- multipart

    /** Multipart bodies nested deeper than this are not parsed further: their parts are tokenised whole. */
    private static final int MAX_MULTIPART_DEPTH = 4;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] BLANK_LINE = {'\r', '\n', '\r', '\n'};
    private static final byte[] DASHES = {'-', '-'};

    /**
     * A {@code multipart/*} body (RFC 2046, {@code multipart/form-data} per RFC 7578), part by part: delimiters and
     * structure keep their bytes; part headers get the text rules; the content of a part whose name
     * ({@code Content-Disposition: form-data; name="..."}) is sensitive becomes the token of its UTF-8 text (equal
     * to the token of the same form field); any other part is redacted as a body of its own content type
     * ({@code text/plain} when it has none): JSON by tree, forms by field, text by the text rules. A file part
     * (binary content) is thus kept byte for byte unless a text rule matches its bytes, as a binary body is. A part
     * cut by the capture cap runs to the end of the captured bytes. Null when there is no usable boundary.
     */
    private byte[] multipart(String part, byte[] body, String contentType, int depth, List<Redaction> out) {
        String boundary = parameter(contentType, "boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            return null;
        }
        byte[] dashBoundary = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int first = startsWith(body, 0, dashBoundary) ? 0 : indexOf(body, delimiter, 0, body.length);
        if (first < 0) {
            return null;
        }
        int pos = first == 0 ? 0 : first + 2; // the CRLF before the first delimiter ends the preamble
        ByteArrayOutputStream result = new ByteArrayOutputStream(body.length + 64);
        boolean changed = textBytes(part, body, 0, pos, result, out);
        while (true) {
            int afterBoundary = pos + dashBoundary.length;
            if (startsWith(body, afterBoundary, DASHES)) { // close delimiter: the rest is the epilogue
                result.write(body, pos, afterBoundary + 2 - pos);
                changed |= textBytes(part, body, afterBoundary + 2, body.length, result, out);
                break;
            }
            int lineEnd = indexOf(body, CRLF, afterBoundary, body.length);
            if (lineEnd < 0) { // cut inside the delimiter line
                result.write(body, pos, body.length - pos);
                break;
            }
            result.write(body, pos, lineEnd + 2 - pos);
            int next = indexOf(body, delimiter, lineEnd + 2, body.length);
            int end = next < 0 ? body.length : next;
            changed |= bodyPart(part, body, lineEnd + 2, end, depth, result, out);
            if (next < 0) {
                break;
            }
            result.write(body, next, 2);
            pos = next + 2;
        }
        return changed ? result.toByteArray() : body;
    }

    /** One part's headers and content, {@code body[from, to)}, into {@code result}; true when it changed. */
    private boolean bodyPart(String part, byte[] body, int from, int to, int depth, ByteArrayOutputStream result, List<Redaction> out) {
        int headEnd = to - from >= 2 && startsWith(body, from, CRLF) ? from - 2 : indexOf(body, BLANK_LINE, from, to);
        if (headEnd < 0) { // cut inside the part's headers
            return textBytes(part, body, from, to, result, out);
        }
        int contentStart = headEnd + 4;
        String name = null;
        String type = null;
        int headStop = Math.max(from, headEnd);
        String head = new String(body, from, headStop - from, StandardCharsets.ISO_8859_1);
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                String header = line.substring(0, colon).trim();
                if (header.equalsIgnoreCase("content-disposition")) {
                    name = parameter(line.substring(colon + 1), "name");
                } else if (header.equalsIgnoreCase("content-type")) {
                    type = line.substring(colon + 1).trim();
                }
            }
        }
        boolean changed = writeRedacted(part, head, body, from, result, out); // a filename can be an email
        result.write(body, headStop, contentStart - headStop);
        byte[] content = Arrays.copyOfRange(body, contentStart, to);
        byte[] redacted;
        if (name != null && sensitive(name)) {
            out.add(new Redaction(part, "form", name, fieldRule(name)));
            redacted = token(new String(content, StandardCharsets.UTF_8)).getBytes(StandardCharsets.ISO_8859_1);
        } else if (depth + 1 >= MAX_MULTIPART_DEPTH && type != null && type.regionMatches(true, 0, "multipart/", 0, 10)) {
            out.add(new Redaction(part, "form", name == null ? "multipart" : name, "multipart-too-deep"));
            redacted = token(new String(content, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        } else {
            redacted = body(part, content, type == null ? "text/plain" : type, depth + 1, out);
        }
        result.write(redacted, 0, redacted.length);
        return changed || redacted != content;
    }

    /** {@code body[from, to)} read as Latin-1 through the text rules, into {@code result}; true when it changed. */
    private boolean textBytes(String part, byte[] body, int from, int to, ByteArrayOutputStream result, List<Redaction> out) {
        if (from >= to) {
            return false;
        }
        return writeRedacted(part, new String(body, from, to - from, StandardCharsets.ISO_8859_1), body, from, result, out);
    }

    /**
     * {@code s}, the Latin-1 text of {@code body} from {@code from} on, through the text rules into {@code result}:
     * its own bytes when nothing matched; true when it changed.
     */
    private boolean writeRedacted(String part, String s, byte[] body, int from, ByteArrayOutputStream result, List<Redaction> out) {
        String r = text(part, "text", "body", s, out);
        if (r == s) {
            result.write(body, from, s.length());
            return false;
        }
        byte[] b = r.getBytes(StandardCharsets.ISO_8859_1);
        result.write(b, 0, b.length);
        return true;
    }

    /**
     * A parameter of a header value such as {@code form-data; name="a"; filename="b"} or
     * {@code multipart/form-data; boundary=xyz}, unquoted; null when absent.
     */
    private static String parameter(String value, String param) {
        int len = value.length();
        int i = value.indexOf(';');
        while (i >= 0 && i < len) {
            int start = i + 1;
            int semi = value.indexOf(';', start);
            int eq = value.indexOf('=', start);
            if (eq < 0) {
                return null;
            }
            if (semi >= 0 && semi < eq) { // a parameter without a value
                i = semi;
                continue;
            }
            String key = value.substring(start, eq).trim();
            int j = eq + 1;
            while (j < len && blank(value.charAt(j))) {
                j++;
            }
            String v;
            if (j < len && value.charAt(j) == '"') {
                StringBuilder sb = new StringBuilder();
                for (j++; j < len && value.charAt(j) != '"'; j++) {
                    if (value.charAt(j) == '\\' && j + 1 < len) {
                        j++;
                    }
                    sb.append(value.charAt(j));
                }
                v = sb.toString();
                i = value.indexOf(';', Math.min(j, len));
            } else {
                v = value.substring(j, semi < 0 ? len : semi).trim();
                i = semi;
            }
            if (key.equalsIgnoreCase(param)) {
                return v;
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] b, int at, byte[] prefix) {
        if (at < 0 || at + prefix.length > b.length) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (b[at + k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    /** The first index in {@code [from, to)} where {@code needle} starts and fits before {@code to}, or -1. */
    private static int indexOf(byte[] b, byte[] needle, int from, int to) {
        byte first = needle[0];
        for (int i = Math.max(0, from); i + needle.length <= to; i++) {
            if (b[i] == first && startsWith(b, i, needle)) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- text rules

    /** Applies card, email and configured regex rules; returns the same instance when nothing matched. */
    public String text(String part, String location, String field, String s, List<Redaction> out) {
        if (s == null || s.isEmpty()) {
            return s;
        }
        String r = s;
        if (rules.cards() && digits(s) >= 13) { // a card number has 13-19 digits: fewer anywhere, no regex run
            r = replace(r, CARD, true, part, location, field, "card-number", out);
        }
        if (rules.emails() && r.indexOf('@') >= 0) {
            String afterCards = r;
            r = replace(r, from -> email(afterCards, from), false, part, location, field, "email", out);
        }
        for (TextRule rule : rules.textRules()) {
            r = replace(r, rule.pattern(), false, part, location, field, "config:regex:" + rule.name(), out);
        }
        return r.equals(s) ? s : r;
    }

    /** The next match in a string at or after {@code from} (the end of the previous one), as {start, end}, or null. */
    @FunctionalInterface
    private interface Finder {
        int[] next(int from);
    }

    private String replace(String s, Pattern p, boolean luhnCheck, String part, String location, String field, String rule, List<Redaction> out) {
        Matcher m = p.matcher(s);
        // the matcher resumes after its previous match by itself (and steps past an empty one), as find() always did
        return replace(s, from -> m.find() ? new int[] {m.start(), m.end()} : null, luhnCheck, part, location, field, rule, out);
    }

    private String replace(String s, Finder finder, boolean luhnCheck, String part, String location, String field, String rule, List<Redaction> out) {
        StringBuilder sb = null;
        int last = 0;
        for (int[] hit = finder.next(0); hit != null; hit = finder.next(hit[1])) {
            String value = s.substring(hit[0], hit[1]);
            if (luhnCheck && !luhn(value)) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(s.length());
            }
            sb.append(s, last, hit[0]).append(token(value));
            last = hit[1];
            out.add(new Redaction(part, location, field, rule));
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    /**
     * The next email address in {@code s} at or after {@code from}, as {start, end}, or null: what the regex
     * {@code [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}} finds, without its costs: run by
     * java.util.regex it backtracks over every start inside a long local-part run (quadratic: seconds for 64 KiB)
     * and recurses once per domain label (a stack overflow on {@code a@b.c.c.c...}). Here each character is
     * looked at a bounded number of times: the local part is extended left from each '@' and the domain read
     * right, and neither can cross another '@'.
     */
    static int[] email(String s, int from) {
        for (int at = s.indexOf('@', from); at >= 0; at = s.indexOf('@', at + 1)) {
            int start = at;
            while (start > from && emailLocal(s.charAt(start - 1))) {
                start--;
            }
            if (start == at) {
                continue;
            }
            // the domain: labels separated by single dots, the last one starting with at least two letters
            int end = at + 1;
            while (end < s.length() && domainLabel(s.charAt(end))) {
                end++;
            }
            if (end == at + 1) {
                continue;
            }
            while (end + 1 < s.length() && s.charAt(end) == '.' && domainLabel(s.charAt(end + 1))) {
                end += 2;
                while (end < s.length() && domainLabel(s.charAt(end))) {
                    end++;
                }
            }
            // the last label whose first two or more characters are letters ends the address, after those letters
            for (int dot = end - 1; dot > at; dot--) {
                if (s.charAt(dot) != '.') {
                    continue;
                }
                int letters = dot + 1;
                while (letters < end && letter(s.charAt(letters))) {
                    letters++;
                }
                if (letters - dot - 1 >= 2) {
                    return new int[] {start, letters};
                }
            }
        }
        return null;
    }

    private static boolean letter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean domainLabel(char c) {
        return letter(c) || (c >= '0' && c <= '9') || c == '-';
    }

    private static boolean emailLocal(char c) {
        return domainLabel(c) || c == '.' || c == '_' || c == '%' || c == '+';
    }

    /** Luhn check over the digits of a string (separators ignored), 13 to 19 digits. */
    static boolean luhn(String s) {
        int sum = 0;
        int n = 0;
        boolean dbl = false;
        for (int i = s.length() - 1; i >= 0; i--) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
            n++;
        }
        return n >= 13 && n <= 19 && sum % 10 == 0;
    }
}
