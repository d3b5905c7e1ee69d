package io.tapline.redaction;

import io.tapline.avro.Header;
import io.tapline.avro.Redaction;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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

    /**
     * Words that make a name sensitive when they end it ({@link #DEFAULT_SENSITIVE_NAME}): a password ({@code pass}), a
     * PIN, a one-time password, a card's security code, a social security number, an IBAN, an authorization header
     * or object ({@code auth}, {@code authorization}), a JWT, a session.
     */
    private static final String LAST_WORDS = "(pass|pin|otp|totp|cvv2?|cvc2?|ssn|iban|auth|authorization|jwt|session)";
    /** {@link #LAST_WORDS} as they end a name in camel case, matched case-sensitively. */
    private static final String LAST_WORDS_CAPITALISED = "(Pass|Pin|Otp|Totp|Cvv2?|Cvc2?|Ssn|Iban|Auth|Authorization|Jwt|Session)";

    /**
     * Names of headers, query parameters, JSON and form fields that look like credentials: names holding one of the
     * first words anywhere; names ending in {@code signature}; and names whose last word is one of {@link #LAST_WORDS}
     * (short words that are often part of other words: {@code pass} but not {@code compass} or {@code passenger},
     * {@code pin} but not {@code pinned}), as the whole name or after a {@code -}, {@code _}, {@code .} or blank
     * ({@code DB_PASS}, {@code card-pin}) or a lower-case letter or digit in camel case ({@code dbPass}, {@code cardPin},
     * not {@code OAuth}).
     */
    public static final String DEFAULT_SENSITIVE_NAME =
            "(?i).*(passw|passwd|pwd|passphrase|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential"
            + "|sess(ion)?[-_]?id|client[-_]?secret|subscription[-_]?key|functions[-_]?key|(encryption|signing|master)[-_]?key"
            + "|(otp|mfa|auth|verification|security)[-_]?code|code[-_]?verifier|saml[-_]?response).*|.*signature|sig"
            + "|(.*[-_. ])?" + LAST_WORDS + "|(?-i:.*[a-z0-9]" + LAST_WORDS_CAPITALISED + ")";

    /** Header names that carry credentials beyond the exact defaults (X-Auth, X-Outbound-Auth, X-Amz-Signature...). */
    private static final Pattern SENSITIVE_HEADER = Pattern.compile("(?i).*(auth(?!or)|signature).*");

    /**
     * Headers whose value is a URL reference, redacted by the request URL's rules (as is any header value that starts
     * with {@code /}, {@code http://} or {@code https://}); Link holds URLs in {@code <...>}.
     */
    private static final Set<String> URL_HEADERS = Set.of("location", "content-location", "referer");

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
            jsonPaths = jsonPaths.stream().map(JsonRedaction::normalisePath).toList();
            textRules = List.copyOf(textRules);
        }

        public static Rules defaults() {
            return new Rules(DEFAULT_HEADERS, Pattern.compile(DEFAULT_SENSITIVE_NAME), Set.of(), List.of(), List.of(), true, true);
        }
    }

    private final RedactionKey key;
    final Rules rules;
    private final JsonRedaction jsonRedaction;
    private final MultipartRedaction multipartRedaction;
    private final XmlRedaction xmlRedaction;

    public Redactor(byte[] key, Rules rules) {
        this(new RedactionKey(key), rules);
    }

    public Redactor(RedactionKey key, Rules rules) {
        this.key = key;
        this.rules = rules;
        Function<String, Boolean> sensitiveName = name ->
                rules.fields().contains(name.toLowerCase(Locale.ROOT)) || rules.sensitiveName().matcher(name).matches();
        this.sensitiveNames = new NameVerdicts<>(sensitiveName);
        this.textNames = new NameVerdicts<>(sensitiveName);
        this.sensitiveHeaders = new NameVerdicts<>(name -> sensitive(name) || SENSITIVE_HEADER.matcher(name).matches());
        this.headerKinds = new NameVerdicts<>(this::headerKind);
        // the kinds of header whose value is redacted by name (headerKind), or a sensitive field name; judged here,
        // not through the other caches, which strings of data would fill
        this.listedNames = new NameVerdicts<>(name -> {
            String lower = name.toLowerCase(Locale.ROOT);
            return lower.contains("cookie") || rules.headers().contains(lower) || rules.fields().contains(lower)
                    || SENSITIVE_HEADER.matcher(name).matches() || rules.sensitiveName().matcher(name).matches();
        });
        this.jsonRedaction = new JsonRedaction(this, rules);
        this.multipartRedaction = new MultipartRedaction(this);
        this.xmlRedaction = new XmlRedaction(this);
    }

    /** The keyed token for a value; a value that already is a token stays as it is (redacting twice changes nothing). */
    public String token(String value) {
        return RedactionTokens.is(value) ? value : key.token(value);
    }

    /** Names repeat (the same headers and fields on every request): their verdicts are remembered. */
    private final NameVerdicts<Boolean> sensitiveNames;
    private final NameVerdicts<Boolean> sensitiveHeaders;
    private final NameVerdicts<HeaderKind> headerKinds;
    /**
     * Whether a name written as data ({@code {"name":"X-Api-Key","value":...}}) is one a header, query parameter or
     * field of that name would have its value redacted by; remembered apart, as such strings are as many as a body's.
     */
    private final NameVerdicts<Boolean> listedNames;
    /**
     * The same verdicts for the words before a {@code =} or {@code :} in free text ({@code 12:30}, {@code user=ann}),
     * remembered apart: so many different words would fill the field names' cache, whose names would then be judged
     * by the pattern again on every request.
     */
    private final NameVerdicts<Boolean> textNames;

    boolean sensitive(String name) {
        return sensitiveNames.get(name);
    }

    /** {@link #sensitive} for a word before a {@code =} or {@code :} in free text. */
    boolean sensitiveInText(String name) {
        return textNames.get(name);
    }

    /** How many field names' verdicts are remembered. */
    int knownNames() {
        return sensitiveNames.size();
    }

    private boolean sensitiveHeader(String name) {
        return sensitiveHeaders.get(name);
    }

    /** The rule a sensitive query, JSON or form field name falls under: a configured field name, else the name pattern. */
    String fieldRule(String name) {
        return rules.fields().contains(name.toLowerCase(Locale.ROOT)) ? "config:field" : "sensitive-name";
    }

    /**
     * Whether {@code name}, a string that names a header or parameter in a list of them ({@code {"name": "X-Api-Key",
     * "value": "..."}} in a HAR file, a Postman collection or an API's answer), is one whose value a header or a
     * query, form or JSON field of that name would have redacted: the header rules (default, configured, cookies,
     * auth and signature names) and the field name rules, judged on the whole name. Only a name written as a header or
     * field name is (an HTTP token: letters, digits and {@code !#$%&'*+-.^_`|~}, at most 128 characters), so prose
     * such as {@code "password reset"} names nothing.
     */
    boolean listedName(CharSequence name) {
        int n = name.length();
        if (n == 0 || n > 128) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!tokenChar(name.charAt(i))) {
                return false;
            }
        }
        return listedNames.get(name.toString());
    }

    /** The rule a {@link #listedName} falls under, for the note. */
    String listedNameRule(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.contains("cookie") || (DEFAULT_HEADERS.contains(lower) && rules.headers().contains(lower))) {
            return "default-headers";
        }
        return rules.headers().contains(lower) ? "config:header" : fieldRule(name);
    }

    /** A character of an HTTP token (RFC 9110 5.6.2), as header names are written. */
    static boolean tokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
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

        int size() {
            return known.size();
        }
    }

    // ---------------------------------------------------------------- headers

    /** What a header's name alone decides about its value; a header's name is classified once, its value every time. */
    private enum HeaderKind {
        COOKIE, SET_COOKIE, DEFAULT_HEADER, CONFIG_HEADER, SENSITIVE_NAME, LINK, URL, BAGGAGE, OTHER
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
        } else if (lower.equals("baggage")) {
            return HeaderKind.BAGGAGE;
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
                    if (SecretFinders.mayBeCredential(value) && SecretFinders.CREDENTIAL_VALUE.matcher(value).matches()) {
                        redacted = credentials(value);
                        out.add(new Redaction(part, "header", name, "credential-value"));
                    } else if (kind == HeaderKind.LINK) {
                        redacted = links(part, name, value, out);
                    } else if (kind == HeaderKind.BAGGAGE) {
                        redacted = baggage(part, name, value, out);
                    } else if (kind == HeaderKind.URL || looksLikeUrl(value)) {
                        redacted = url(part, "header", name, value, out);
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

    /**
     * W3C baggage, {@code key=value;property, ...}, which OpenTelemetry propagates to every call of a trace: each
     * member's value percent-decoded, then redacted as a query parameter of its key is (a sensitive key's value
     * tokenised, the text rules on any other, so {@code user.email=jane%40example.com} is found), and written back
     * percent-encoded; keys and properties get the text rules. Members that hold nothing to redact keep their bytes.
     */
    private String baggage(String part, String name, String value, List<Redaction> out) {
        StringBuilder sb = new StringBuilder(value.length() + 32);
        boolean changed = false;
        String[] members = value.split(",", -1);
        for (int i = 0; i < members.length; i++) {
            String member = members[i];
            if (i > 0) {
                sb.append(',');
            }
            int semi = member.indexOf(';');
            String pair = semi < 0 ? member : member.substring(0, semi);
            String properties = semi < 0 ? "" : member.substring(semi);
            int eq = pair.indexOf('=');
            String redactedProperties = text(part, "header", name, properties, out);
            if (eq < 0) {
                String r = text(part, "header", name, member, out);
                changed |= r != member;
                sb.append(r);
                continue;
            }
            String rawKey = pair.substring(0, eq);
            String key = rawKey.trim();
            // the key gets the text rules, as a query parameter's name does (a card number or an email as a key)
            String redactedKey = text(part, "header", name, key, out);
            String rawValue = pair.substring(eq + 1);
            String decoded = PercentEncoding.percentDecode(rawValue.trim(), false);
            String redactedValue = field(part, "header", key, name, decoded, out);
            if (redactedValue == decoded && redactedProperties == properties && redactedKey == key) {
                sb.append(member);
                continue;
            }
            changed = true;
            int keyAt = rawKey.indexOf(key);
            sb.append(redactedKey == key ? rawKey : rawKey.substring(0, keyAt) + redactedKey + rawKey.substring(keyAt + key.length()))
                    .append('=')
                    .append(redactedValue == decoded ? rawValue : PercentEncoding.formEncode(redactedValue).replace("+", "%20"))
                    .append(redactedProperties);
        }
        return changed ? sb.toString() : value;
    }

    /** An absolute URL or an absolute path, as X-Original-URI and similar headers carry. */
    private static boolean looksLikeUrl(String value) {
        return value.startsWith("/") || httpUrl(value);
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

    /**
     * A {@code Set-Cookie} value, or several joined by {@code ", "} (as a comparison joins a name's lines, and as some
     * servers fold them): each cookie's value tokenised, its attributes kept. A comma starts another cookie when what
     * follows it, up to the next {@code ;}, is {@code name=...}; the comma inside {@code Expires=Wed, 21 Oct ...} is
     * not followed by one.
     */
    private String setCookie(String value) {
        StringBuilder sb = null;
        int start = 0;
        for (int comma = value.indexOf(','); comma >= 0; comma = value.indexOf(',', comma + 1)) {
            if (!startsCookie(value, comma + 1)) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(value.length() + 32);
            }
            sb.append(oneSetCookie(value.substring(start, comma))).append(',');
            start = comma + 1;
        }
        return sb == null ? oneSetCookie(value) : sb.append(oneSetCookie(value.substring(start))).toString();
    }

    /** Whether {@code value} from {@code from} on, up to the next {@code ;} or {@code ,}, is {@code name=...}. */
    private static boolean startsCookie(String value, int from) {
        int end = from;
        while (end < value.length() && value.charAt(end) != ';' && value.charAt(end) != ',') {
            end++;
        }
        int eq = value.indexOf('=', from);
        return eq >= 0 && eq < end && !value.substring(from, eq).isBlank() && value.substring(from, eq).trim().indexOf(' ') < 0;
    }

    private String oneSetCookie(String value) {
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
            String name = PercentEncoding.percentDecode(rawName, true);
            String redactedName = text(part, location, field == null ? location : field, name, out);
            // a note names the pair, never a value: a name that held one is named by its token
            String label = field == null ? redactedName : field;
            String rawValue = eq < 0 ? null : pair.substring(eq + 1);
            String value = eq < 0 ? null : PercentEncoding.percentDecode(rawValue, true);
            String redacted;
            String written = rawValue; // the value as it is written back
            if (value == null) {
                redacted = null;
            } else if (sensitive(name)) {
                redacted = field(part, location, name, label, value, out);
                written = PercentEncoding.formEncode(redacted);
            } else {
                // pairs an older encoder separated by ';' (a=1;token=...): as written, their sensitive values
                // tokenised; then the value's own rules (which pass the tokens over)
                String semi = semicolonParameters(part, location, label, rawValue, false, out);
                String decoded = semi == rawValue ? value : PercentEncoding.percentDecode(semi, true);
                redacted = field(part, location, name, label, decoded, out);
                written = redacted != decoded ? PercentEncoding.formEncode(redacted) : semi;
            }
            if (written == rawValue && redactedName == name) {
                sb.append(pair);
                continue;
            }
            changed = true;
            sb.append(redactedName == name ? rawName : PercentEncoding.formEncode(redactedName));
            if (value != null) {
                sb.append('=').append(written);
            }
        }
        return changed ? sb.toString() : raw;
    }

    /**
     * A request target's raw query, redacted by {@link #urlEncoded}; a fragment in it (a client may send
     * {@code ?x=1#access_token=...}, and the query is then read up to the end of the target) is redacted like a query,
     * as in a URL in a header value.
     */
    public String query(String part, String raw, List<Redaction> out) {
        int hash = raw == null ? -1 : raw.indexOf('#');
        if (hash < 0) {
            return urlEncoded(part, "query", raw, out);
        }
        String query = raw.substring(0, hash);
        String fragment = raw.substring(hash + 1);
        String q = urlEncoded(part, "query", query, out);
        String f = urlEncoded(part, "query", fragment, out);
        return q == query && f == fragment ? raw : q + "#" + f;
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
        return value(part, location, label, value, out);
    }

    /**
     * A value of a query parameter, form field or JSON string: an absolute {@code http(s)} URL in it (a redirect
     * target {@code ?next=https://...}, a reset link or a presigned URL in a JSON answer) by the rules of the request
     * URL, so its own query parameters are matched by name; JSON text in it (a queue message or webhook payload
     * carried as a string, {@code {"Message":"{\"password\":...}"}}) by the rules for JSON-like text, which
     * tokenise sensitive pairs where they stand and keep the rest as written; any other value by the text rules.
     */
    String value(String part, String location, String field, String value, List<Redaction> out) {
        if (httpUrl(value)) {
            // then the text rules on the whole, for a configured pattern that spans the URL's parts
            return text(part, location, field, url(part, location, field, value, out), out);
        }
        if (jsonText(value)) {
            String r = jsonRedaction.jsonLikeText(part, value, out);
            return r == null ? value : r;
        }
        return text(part, location, field, value, out);
    }

    /** Whether {@link #value} reads this value by more than the text rules: as a URL or as JSON text. */
    static boolean structured(String value) {
        return httpUrl(value) || jsonText(value);
    }

    private static boolean httpUrl(String value) {
        return value != null && (value.regionMatches(true, 0, "http://", 0, 7) || value.regionMatches(true, 0, "https://", 0, 8));
    }

    private static boolean jsonText(String value) {
        return value != null && !value.isEmpty() && (value.charAt(0) == '{' || value.charAt(0) == '[') && value.indexOf('"') > 0;
    }

    /**
     * Parameters after a {@code ;}, as servlet containers put a session in a path ({@code /cart;jsessionid=...})
     * and older encoders separate query pairs ({@code a=1;token=...}): the value of a sensitive name tokenised, the
     * rest kept as written. A parameter runs to the next {@code ;}, in a path also to the next {@code /}. The same
     * instance when none was tokenised.
     */
    private String semicolonParameters(String part, String location, String field, String s, boolean path, List<Redaction> out) {
        int semi = s.indexOf(';');
        if (semi < 0) {
            return s;
        }
        StringBuilder sb = null;
        int last = 0;
        while (semi >= 0) {
            int start = semi + 1;
            int end = start;
            while (end < s.length() && s.charAt(end) != ';' && !(path && s.charAt(end) == '/')) {
                end++;
            }
            int eq = s.indexOf('=', start);
            if (eq > start && eq < end - 1) {
                String name = PercentEncoding.percentDecode(s.substring(start, eq), true);
                if (sensitive(name)) {
                    if (sb == null) {
                        sb = new StringBuilder(s.length() + 32);
                    }
                    sb.append(s, last, eq + 1).append(token(PercentEncoding.percentDecode(s.substring(eq + 1, end), false)));
                    last = end;
                    out.add(new Redaction(part, location, field, fieldRule(name)));
                }
            }
            semi = s.indexOf(';', end);
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    /**
     * Redacts a raw (percent-encoded) path: the text rules on the path as it is, then on each segment that holds
     * a {@code %} escape once decoded ({@code /users/jane%40example.com}, a card split by {@code %2D}); a segment
     * that changed is written back percent-encoded, the others keep their bytes. A fragment (a target
     * {@code /callback#access_token=...} without a query is read as a path to its end) is redacted like a query.
     */
    public String path(String part, String path, List<Redaction> out) {
        int hash = path == null ? -1 : path.indexOf('#');
        if (hash < 0) {
            return path(part, "path", "path", path, out);
        }
        String before = path.substring(0, hash);
        String fragment = path.substring(hash + 1);
        String p = path(part, "path", "path", before, out);
        String f = urlEncoded(part, "path", "path", fragment, out);
        return p == before && f == fragment ? path : p + "#" + f;
    }

    private String path(String part, String location, String field, String path, List<Redaction> out) {
        String r = path == null ? null : semicolonParameters(part, location, field, text(part, location, field, path, out), true, out);
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
            String decoded = PercentEncoding.percentDecode(segment, false);
            String redacted = decoded == segment ? segment : text(part, location, field, decoded, out);
            if (redacted != decoded) {
                changed = true;
                sb.append(PercentEncoding.encodePathSegment(redacted));
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
     * A URL or URL reference in a header value (Location, Referer...), redacted by the request URL's rules: the
     * authority by the text rules (a userinfo password tokenised), the path by {@link #path}, the query by
     * {@link #urlEncoded}, and the fragment like a query (OAuth's implicit flow redirects to
     * {@code #access_token=...}). Redactions are noted under the header's name. Unchanged: the same instance.
     */
    private String url(String part, String location, String field, String url, List<Redaction> out) {
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
        String a = authority(part, location, field, authority, out);
        String p = path(part, location, field, path, out);
        String q = urlEncoded(part, location, field, query, out);
        String f = urlEncoded(part, location, field, fragment, out);
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
            if (!SecretFinders.letter(c) && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * {@code user:password@host:port}: the password tokenised, the rest by the text rules. User info without a
     * password ({@code https://TOKEN@host}, as access tokens are often put in clone and webhook URLs) is tokenised
     * whole.
     */
    private String authority(String part, String location, String field, String authority, List<Redaction> out) {
        int at = authority.lastIndexOf('@');
        if (at < 0) {
            return text(part, location, field, authority, out);
        }
        int colon = authority.indexOf(':');
        out.add(new Redaction(part, location, field, "url-password"));
        if (colon < 0 || colon > at) {
            return token(PercentEncoding.percentDecode(authority.substring(0, at), false))
                    + text(part, location, field, authority.substring(at), out);
        }
        return text(part, location, field, authority.substring(0, colon + 1), out)
                + token(PercentEncoding.percentDecode(authority.substring(colon + 1, at), false))
                + text(part, location, field, authority.substring(at), out);
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
            String l = url(part, "header", field, link, out);
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

    /**
     * {@link #body} of a body cut short: by the capture cap, or a message that never ended. A secret at the cut may
     * not be whole ({@code 4111 1111 11}, {@code jane@exa}, half a JWT) and then matches no rule, so the body ends at
     * its last whole word: the bytes after the last delimiter (a blank or control character, a quote, a bracket,
     * {@code < > , ; | &} or a backquote) are left out, and with them digit groups written before them with spaces or
     * tabs, one or a run (a card number's start), up to 19 digits. The note {@code cut-word} says that bytes were left out.
     */
    public byte[] cutBody(String part, byte[] body, String contentType, List<Redaction> out) {
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        Charset wide = body.length == 0 ? null : wideCharset(body, ct);
        byte[] text = wide == null ? body : new String(body, wide).getBytes(StandardCharsets.UTF_8);
        int end = wholeWordsEnd(text);
        if (end < text.length) {
            out.add(new Redaction(part, "body", "body", "cut-word"));
            body = wide == null ? java.util.Arrays.copyOf(body, end) : new String(text, 0, end, StandardCharsets.UTF_8).getBytes(wide);
        }
        return body(part, body, contentType, 0, out);
    }

    /** Where the last whole word of cut text ends, as {@link #cutBody} tells it (text in UTF-8 or any ASCII superset). */
    static int wholeWordsEnd(byte[] b) {
        return wholeWordsEnd(new Latin1Text(b), b.length);
    }

    /**
     * Where the last whole word of {@code text}, cut at {@code cut}, ends: before the characters after the last
     * delimiter (a blank or control character, a quote, a bracket, {@code < > , ; | &} or a backquote) and the digit
     * groups written before them with spaces or tabs, one or a run, a group's dots and dashes with it (or one standing
     * alone between blanks), up to 19 digits (a card number's start: {@code 4111 1111 11}, {@code 4111<tab>1111<tab>11},
     * {@code 4111. 1111. 11}, {@code 6011 - 1111 - 11}). When the text goes on
     * past {@code cut} with a delimiter, a last word that is not digits is whole and kept. Text shown cut short ends
     * there, so that a secret the cut went through (which no rule would match) is not shown in part.
     */
    public static int wholeWordsEnd(CharSequence text, int cut) {
        int end = cut;
        while (end > 0 && !wordDelimiter(text.charAt(end - 1))) {
            end--;
        }
        int digits = 0;
        for (int i = end; i < cut; i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                digits++;
            } else if (c != '-' && c != '.') {
                // the cut word is not digits: no card number runs on before it; and when the text goes on with a
                // delimiter, the cut fell between words and the last one is whole
                return cut < text.length() && wordDelimiter(text.charAt(cut)) ? cut : end;
            }
        }
        // digit groups separated by spaces or tabs before the cut word, one or a run: "4111 1111 11", "4111  1111  11",
        // "4111. 1111. 11", "6011 - 1111 - 11" (a card number's start; one joined by dots alone is in the cut word)
        while (end > 1 && isBlank(text.charAt(end - 1))) {
            int start = blanksStart(text, end - 1);
            // a dot or dash standing alone between blanks separates groups as the blanks do (the card rule reads it so)
            if (start > 1 && (text.charAt(start - 1) == '.' || text.charAt(start - 1) == '-')
                    && isBlank(text.charAt(start - 2))) {
                start = blanksStart(text, start - 2);
            }
            int groupDigits = 0;
            while (start > 0 && (isDigit(text.charAt(start - 1)) || text.charAt(start - 1) == '-' || text.charAt(start - 1) == '.')) {
                start--;
                groupDigits += isDigit(text.charAt(start)) ? 1 : 0;
            }
            // as the card rule reads a number: after any character that is not a digit ("pan=4111 1111 11")
            if (groupDigits == 0 || digits + groupDigits > 19) {
                break;
            }
            digits += groupDigits;
            end = start;
        }
        return end;
    }

    /** Where the run of spaces and tabs holding the one at {@code i} starts. */
    private static int blanksStart(CharSequence text, int i) {
        while (i > 0 && isBlank(text.charAt(i - 1))) {
            i--;
        }
        return i;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean wordDelimiter(char c) {
        return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == ',' || c == ';'
                || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '|' || c == '&'
                || c == '`';
    }

    /**
     * {@link #body} of a body nested {@code depth} multipart levels deep. A body in UTF-16 or UTF-32 (its charset
     * parameter, its byte order mark, or, for JSON, the zero bytes of its first characters) is redacted as its UTF-8
     * text, then written back in its own encoding: read byte by byte, no name or pattern would be found in it.
     */
    byte[] body(String part, byte[] body, String contentType, int depth, List<Redaction> out) {
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        Charset wide = body.length == 0 ? null : wideCharset(body, ct);
        if (wide == null) {
            return asciiCompatibleBody(part, body, contentType, ct, depth, out);
        }
        byte[] utf8 = new String(body, wide).getBytes(StandardCharsets.UTF_8);
        byte[] r = asciiCompatibleBody(part, utf8, contentType, ct, depth, out);
        return r == utf8 ? body : new String(r, StandardCharsets.UTF_8).getBytes(wide);
    }

    /** UTF-16 or UTF-32 as {@link #body} tells them, with the byte order; null for any other body. */
    /** @param ct the content type in lower case, {@code ""} for none */
    private static Charset wideCharset(byte[] body, String ct) {
        int at = ct.indexOf("charset=");
        String declared = at < 0 ? "" : ct.substring(at + 8).replace("\"", "").split("[;\\s]", 2)[0];
        int b0 = body[0] & 0xFF;
        int b1 = body.length > 1 ? body[1] & 0xFF : -1;
        int b2 = body.length > 2 ? body[2] & 0xFF : -1;
        int b3 = body.length > 3 ? body[3] & 0xFF : -1;
        if (b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF) {
            return Charset.forName("UTF-32BE");
        } else if (b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0) {
            return Charset.forName("UTF-32LE");
        } else if (b0 == 0xFE && b1 == 0xFF) {
            return StandardCharsets.UTF_16BE;
        } else if (b0 == 0xFF && b1 == 0xFE) {
            return StandardCharsets.UTF_16LE;
        }
        switch (declared) {
            case "utf-16", "utf-16be" -> {
                return StandardCharsets.UTF_16BE;
            }
            case "utf-16le" -> {
                return StandardCharsets.UTF_16LE;
            }
            case "utf-32", "utf-32be" -> {
                return Charset.forName("UTF-32BE");
            }
            case "utf-32le" -> {
                return Charset.forName("UTF-32LE");
            }
            default -> {
            }
        }
        if (!declared.isEmpty() || !ct.contains("json") || body.length < 4) {
            return null;
        }
        // JSON without a charset: its first two characters are ASCII, so the zero bytes tell the encoding (RFC 4627)
        if (b0 == 0 && b1 == 0 && b2 == 0 && b3 != 0) {
            return Charset.forName("UTF-32BE");
        } else if (b0 != 0 && b1 == 0 && b2 == 0 && b3 == 0) {
            return Charset.forName("UTF-32LE");
        } else if (b0 == 0 && b1 != 0 && b2 == 0) {
            return StandardCharsets.UTF_16BE;
        } else if (b0 != 0 && b1 == 0 && b3 == 0) {
            return StandardCharsets.UTF_16LE;
        }
        return null;
    }

    /** @param ct {@code contentType} in lower case, {@code ""} for none */
    private byte[] asciiCompatibleBody(String part, byte[] body, String contentType, String ct, int depth, List<Redaction> out) {
        if (body.length == 0) {
            return body;
        }
        boolean form = ct.startsWith("application/x-www-form-urlencoded");
        boolean multipart = ct.startsWith("multipart/");
        boolean xml = ct.contains("xml");
        boolean message = isHttpMessage(ct);
        if (!form && !multipart && !xml && !message && nothingToRedact(body)) {
            return body; // the JSON and text paths would return these same bytes: skip the parse and the regexes
        }
        if (message) {
            return latin1(httpMessage(part, new String(body, StandardCharsets.ISO_8859_1), out), body);
        } else if (multipart) {
            byte[] r = multipartRedaction.multipart(part, body, contentType, depth, out);
            if (r != null) {
                return r;
            }
        } else if (ct.contains("json")) {
            byte[] r = jsonRedaction.json(part, body, out);
            if (r != null) {
                return r;
            }
            return latin1(jsonRedaction.jsonLikeText(part, new String(body, StandardCharsets.ISO_8859_1), out), body);
        } else if (form) {
            String s = new String(body, StandardCharsets.ISO_8859_1);
            return latin1(urlEncoded(part, "form", s, out), body);
        } else if (xml) {
            String s = new String(body, StandardCharsets.ISO_8859_1);
            String x = xmlRedaction.xml(part, s, out);
            String r = text(part, "text", "body", x, xmlRedaction.markup(x), out);
            return r == s ? body : r.getBytes(StandardCharsets.ISO_8859_1);
        }
        String s = new String(body, StandardCharsets.ISO_8859_1);
        // Unknown text may still embed JSON-ish pairs (e.g. logs); treat them as JSON text.
        String r = jsonRedaction.jsonLikeText(part, s, out);
        return latin1(r, body);
    }

    /** Whether a content type (in lower case) is {@code message/http}, with any parameters. */
    private static boolean isHttpMessage(String ct) {
        String type = ct.trim();
        return type.startsWith("message/http") && (type.length() == 12 || type.charAt(12) == ';' || SecretFinders.blank(type.charAt(12)));
    }

    /**
     * A {@code message/http} body (RFC 9112 §10.1), as an app answers a {@code TRACE} (RFC 9110 §9.3.8) with the
     * request it received: read as a message head, each line once. The request line's target is redacted as a
     * request's target is ({@link #path} and {@link #query}, an absolute URL as a URL in a header); each header line
     * {@code name: value} as a header of that name ({@link #headers}: {@code Cookie}, {@code Authorization},
     * configured headers...), a folded line (starting with a blank) as more of the header before it; any other line
     * (a status line, a line that is no header) by the text rules; and what follows the blank line that ends the head
     * as a body without a content type. A line the capture cap cut has no end, and is read as the line it starts
     * (the value of a header cut there is redacted by its name). Lines may end in CRLF or a bare LF. The notes name
     * the header or parameter, in the body's text. Null when nothing was redacted.
     */
    private String httpMessage(String part, String s, List<Redaction> out) {
        StringBuilder sb = null;
        List<Redaction> found = new ArrayList<>();
        String header = null; // the name of the last header line, for a folded line after it
        int at = 0;
        while (at < s.length()) {
            int lf = s.indexOf('\n', at);
            int end = lf < 0 ? s.length() : lf;
            int contentEnd = end > at && s.charAt(end - 1) == '\r' ? end - 1 : end;
            if (contentEnd == at && lf >= 0) { // the blank line: the body follows
                String rest = s.substring(lf + 1);
                String r = rest.isEmpty() ? null : jsonRedaction.jsonLikeText(part, rest, out);
                if (r != null) {
                    sb = (sb == null ? new StringBuilder(s.length() + 32).append(s, 0, lf + 1) : sb.append(s, at, lf + 1)).append(r);
                    at = s.length();
                }
                break;
            }
            String line = s.substring(at, contentEnd);
            String r;
            int colon = line.indexOf(':');
            if (header != null && !line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                r = headerValue(part, header, line, 0, found);
            } else if (colon > 0 && tokenChars(line, 0, colon)) {
                header = line.substring(0, colon);
                r = headerValue(part, header, line, colon + 1, found);
            } else if (at == 0) {
                r = startLine(part, line, found);
            } else {
                header = null;
                r = text(part, "text", "body", line, found);
            }
            if (r != line) {
                if (sb == null) {
                    sb = new StringBuilder(s.length() + 32).append(s, 0, at);
                }
                sb.append(r).append(s, contentEnd, lf < 0 ? s.length() : lf + 1);
            } else if (sb != null) {
                sb.append(s, at, lf < 0 ? s.length() : lf + 1);
            }
            at = lf < 0 ? s.length() : lf + 1;
        }
        for (Redaction n : found) {
            out.add(new Redaction(n.getPart(), "text", n.getField(), n.getRule()));
        }
        return sb == null ? null : sb.append(s, Math.min(at, s.length()), s.length()).toString();
    }

    /** Whether {@code s[from, to)} is an HTTP token, as a header name is written. */
    private static boolean tokenChars(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!tokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A header line of a {@code message/http} body, its value from {@code from} on redacted as a header {@code name}'s
     * value is; the blanks around the value kept as written. The same instance when nothing changed.
     */
    private String headerValue(String part, String name, String line, int from, List<Redaction> out) {
        int start = from;
        while (start < line.length() && (line.charAt(start) == ' ' || line.charAt(start) == '\t')) {
            start++;
        }
        int end = line.length();
        while (end > start && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) {
            end--;
        }
        if (start == end) {
            return line;
        }
        String value = line.substring(start, end);
        String r = header(part, name, value, out);
        return r.equals(value) ? line : line.substring(0, start) + r + line.substring(end);
    }

    /**
     * The first line of a {@code message/http} body: a request line's target ({@code TRACE /a?token=... HTTP/1.1})
     * redacted as a request's path and query are, or as a URL when it is one (the absolute form a proxy is sent);
     * any other first line (a status line, an authority or {@code *} target) by the text rules.
     */
    private String startLine(String part, String line, List<Redaction> out) {
        int sp = line.indexOf(' ');
        if (sp <= 0 || !tokenChars(line, 0, sp) || line.startsWith("HTTP/")) {
            return text(part, "text", "body", line, out);
        }
        int last = line.lastIndexOf(' ');
        int targetEnd = last > sp && line.startsWith("HTTP/", last + 1) ? last : line.length();
        String target = line.substring(sp + 1, targetEnd);
        String r;
        if (target.startsWith("/")) {
            int q = target.indexOf('?');
            int hash = target.indexOf('#');
            if (q < 0 || (hash >= 0 && hash < q)) {
                r = path(part, target, out);
            } else {
                String p = target.substring(0, q);
                String query = target.substring(q + 1);
                String rp = path(part, p, out);
                String rq = query(part, query, out);
                r = rp == p && rq == query ? target : rp + "?" + rq;
            }
        } else if (target.indexOf("://") > 0) {
            r = url(part, "text", "body", target, out);
        } else {
            r = text(part, "text", "body", target, out);
        }
        return r == target ? line : line.substring(0, sp + 1) + r + line.substring(targetEnd);
    }

    private static byte[] latin1(String s, byte[] original) {
        return s == null ? original : s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The byte scan ({@link SecretFinders#nothingToRedact}) that lets {@link #body} skip the parse under these rules. */
    boolean nothingToRedact(byte[] body) {
        return SecretFinders.nothingToRedact(this, body);
    }

    /**
     * A value found at {@code path} ({@code $.customer.email}, {@code $.items[2]}, {@code $.byUser['ann@example.com']})
     * of a JSON document, rendered as JSON text and possibly cut short, redacted as it would be inside the whole
     * document: when a field named on its path is sensitive or configured, a string token in place of the whole value;
     * otherwise its own fields and text by the usual rules (text that does not parse, by the rules for JSON-like text).
     * A name in brackets is one name, as the capture sees the key. Unchanged: the same instance.
     */
    public String jsonValue(String part, String path, String rendered, List<Redaction> out) {
        return jsonRedaction.jsonValue(part, path, rendered, out);
    }

    /**
     * Text that may be JSON (a JSON document or value, or one cut short): walked as JSON from {@code path} when it
     * parses, else by the rules for JSON-like text, which end with the text rules. Unchanged: the same instance.
     */
    public String anyText(String part, String path, String s, List<Redaction> out) {
        return jsonRedaction.anyText(part, path, s, out);
    }

    // ---------------------------------------------------------------- text rules

    /**
     * Applies the text rules: a value written after a sensitive name ({@code password=...}, {@code token: ...}, see
     * {@link SecretFinders#namedValue}), card numbers, emails (also written with escapes, {@code jane%40example.com},
     * {@code jane%2540example.com}, {@code jane&#64;example.com}, {@code jane&#64example.com}: see
     * {@link SecretFinders#encodedEmails}) and configured regexes; returns the same
     * instance when nothing matched.
     */
    public String text(String part, String location, String field, String s, List<Redaction> out) {
        return text(part, location, field, s, null, out);
    }

    /**
     * {@link #text} of an XML body, whose {@code markup} (qualified names in tags, namespace declarations) no value
     * after a sensitive name is read in: {@code <pwd:v>} and {@code xmlns:token="urn:t"} name things, and tokenising
     * them would change what the document means; null for text that is not XML.
     */
    String text(String part, String location, String field, String s, XmlRedaction.Markup markup, List<Redaction> out) {
        if (s == null || s.isEmpty()) {
            return s;
        }
        String r = s;
        if (s.indexOf('=') >= 0 || s.indexOf(':') >= 0) { // a value after a sensitive name: password=..., token: ...
            boolean inPath = location.equals("path");
            r = replace(r, from -> SecretFinders.namedValue(this, s, from, inPath, markup), false, part, location, field,
                    "sensitive-name", out);
        }
        // a JWT, a private key, Bearer credentials, a vendor's token; looked for once before replace is set up, as the
        // text of most values holds none
        if (SecretFinders.mayHoldKnownSecret(r) && SecretFinders.knownSecret(r, 0) != null) {
            String current = r;
            r = replace(r, from -> SecretFinders.knownSecret(current, from), false, part, location, field, "secret-format", out);
        }
        if (r.indexOf('@') >= 0 && r.indexOf("://") >= 0) { // postgres://app:pw@db, a link in a sentence
            String current = r;
            r = replace(r, from -> SecretFinders.userInfoPassword(current, from), false, part, location, field, "url-password", out);
        }
        if (rules.cards() && SecretFinders.digits(s) >= 13) { // a card number has 13-19 digits: fewer anywhere, no regex run
            r = replace(r, SecretFinders.cardPattern(r), true, part, location, field, "card-number", out);
        }
        if (rules.emails() && r.indexOf('@') >= 0) {
            String afterCards = r;
            r = replace(r, from -> SecretFinders.email(afterCards, from), false, part, location, field, "email", out);
        }
        if (rules.emails() && SecretFinders.mayHoldEncodedEmail(r)) {
            // jane%40example.com, jane&#64;example.com: the address it encodes tokenised, as it is in a path or query
            java.util.Iterator<int[]> encoded = SecretFinders.encodedEmails(r).iterator();
            r = replace(r, from -> encoded.hasNext() ? encoded.next() : null, false, SecretFinders::decodeEscapes, part, location,
                    field, "email", out);
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
        int[] end = {0};
        // the matcher resumes after its previous match by itself (and steps past an empty one), as find() always did;
        // asked for another place (a card number looked for again from the next digit group), it starts there
        return replace(s, from -> {
            if (!(from == end[0] ? m.find() : m.find(from))) {
                return null;
            }
            end[0] = m.end();
            return new int[] {m.start(), m.end()};
        }, luhnCheck, part, location, field, rule, out);
    }

    private String replace(String s, Finder finder, boolean luhnCheck, String part, String location, String field, String rule, List<Redaction> out) {
        return replace(s, finder, luhnCheck, value -> value, part, location, field, rule, out);
    }

    /** {@link #replace}, each match tokenised as {@code tokenised} reads it (an encoded address as the address). */
    private String replace(String s, Finder finder, boolean luhnCheck, java.util.function.UnaryOperator<String> tokenised, String part,
                           String location, String field, String rule, List<Redaction> out) {
        StringBuilder sb = null;
        int last = 0;
        int from = 0;
        for (int[] hit = finder.next(0); hit != null; hit = finder.next(from)) {
            from = hit[1];
            String value = s.substring(hit[0], hit[1]);
            if (luhnCheck && !SecretFinders.luhn(value)) {
                // the run took in a digit group that is not the card's (qty 3 4111 1111 1111 1111, or a group after
                // it): the card within it, else looked for again from the next group, where one may start
                int[] card = SecretFinders.cardWithin(s, hit[0], hit[1]);
                if (card == null) {
                    from = SecretFinders.nextGroup(s, hit[0], hit[1]);
                    continue;
                }
                hit = card;
                from = card[1];
                value = s.substring(hit[0], hit[1]);
            }
            if (sb == null) {
                sb = new StringBuilder(s.length());
            }
            sb.append(s, last, hit[0]).append(token(tokenised.apply(value)));
            last = hit[1];
            out.add(new Redaction(part, location, field, rule));
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }
}
