package io.tapline.replay.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tapline.avro.Difference;
import io.tapline.avro.DifferenceKind;
import io.tapline.avro.Header;
import io.tapline.redaction.CanonicalJson;
import io.tapline.redaction.RedactionKey;
import io.tapline.redaction.RedactionTokens;
import io.tapline.redaction.Redactor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Judges differences whose recorded value the capture replaced by a keyed token ({@code tapline:hmac:...}): a
 * candidate producing the plain value (an email from its database, a session cookie, a credential it forwards) differs
 * from the recording as text whether or not it is right.
 * <ul>
 * <li><b>Without the redaction key</b> a plain value in a token's place is <b>not judged</b>: counted as ignored, named
 * in a note. A value whose literal parts differ from the recorded text around its tokens (another scheme, a sentence
 * that became an error message, an object that became null) is a difference, key or not.</li>
 * <li><b>With the sidecar's key</b> ({@code --redaction-key}) the candidate's value is tokenised the way the capture
 * tokenised production's, and the tokens are compared: equal is no difference; unequal is a difference whose actual
 * value shows the candidate's tokens, never its plain value. The recorded text is a template: its literal parts must
 * be in the candidate's value as they are (a run of whitespace matches any), and each token stands for one plain
 * value ({@code Bearer <token>}, {@code sid=<token>; Path=/}, an email inside a sentence). A JSON string is judged by
 * its content; a JSON number or object in place of a token by its compact JSON, as the capture tokenised it.</li>
 * </ul>
 * Either way, a value the replay itself put in the candidate's request ({@code --candidate-header}, replacing a
 * recorded header that held a token) counts as the recorded value it replaced, wherever the candidate passes it on. A
 * candidate that echoes a token it was sent compares as text; a token against another token and a value missing
 * altogether are differences, key or not. Immutable, thread-safe.
 */
public final class RedactedValues {

    /** Judges nothing by key: redacted values are compared as text only where the candidate echoes tokens. */
    public static final RedactedValues UNKEYED = new RedactedValues(null, Redactor.Rules.defaults(), List.of());

    private static final int MAX_PATHS_NAMED = 5;
    /** Beyond this many tokens in one value a template would backtrack too much: the value is not judged. */
    private static final int MAX_TOKENS_JUDGED = 8;
    private static final Pattern TOKEN = RedactionTokens.PATTERN;
    /** The mark {@link BodyComparator#render} leaves on a value it cut: a cut value cannot be judged. */
    private static final Pattern CUT = Pattern.compile("\\.\\.\\.\\(\\d+ chars\\)$");
    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A value the replay sent the candidate ({@code plain}) in place of a recorded one that held tokens. */
    private record Substitution(String plain, String recorded) {
    }

    /** How a difference came out. */
    public enum Outcome {
        /** Not a redacted value, or judged different: report {@link Judgement#difference()}. */
        DIFFERENT,
        /** The candidate's value is the one production had: no difference. */
        EQUAL,
        /** The recorded value was redacted and there is no key to judge the candidate's by: count it as ignored. */
        UNJUDGED
    }

    /** @param difference what to report when {@link Outcome#DIFFERENT}: plain values replaced by their tokens */
    public record Judgement(Outcome outcome, Difference difference) {
    }

    private final RedactionKey key;
    private final List<Substitution> substitutions;
    /** The capture's text rules, with the sidecar's key or (without it) a key of this process: for JSON object keys. */
    private final Redactor keys;

    private RedactedValues(RedactionKey key, Redactor.Rules rules, List<Substitution> substitutions) {
        this(key, new Redactor(key == null ? RedactionKey.random() : key, rules), substitutions);
    }

    private RedactedValues(RedactionKey key, Redactor keys, List<Substitution> substitutions) {
        this.key = key;
        this.keys = keys;
        this.substitutions = List.copyOf(substitutions);
    }

    /** Judged with {@code key} (the sidecar's), or {@link #UNKEYED} when it is null; the default redaction rules. */
    public static RedactedValues keyed(RedactionKey key) {
        return key == null ? UNKEYED : new RedactedValues(key, Redactor.Rules.defaults(), List.of());
    }

    /** Judged with {@code key} (the sidecar's, or null for none) and the sidecar's redaction {@code rules}. */
    public static RedactedValues keyed(RedactionKey key, Redactor.Rules rules) {
        return new RedactedValues(key, rules, List.of());
    }

    /**
     * The candidate's JSON with its object keys redacted as the capture redacted production's (an email or a card
     * number used as a key becomes its token), when the recorded JSON holds such a key: with the sidecar's key the
     * same plain key gives the same token, so the members are compared; without it a key of this process gives
     * tokens that match none, and what is under them is not judged ({@link #judge}). The candidate's own tree when
     * the recording has no redacted key or no key of the candidate needed it.
     */
    public JsonNode redactKeys(JsonNode recorded, JsonNode candidate) {
        return hasRedactedKey(recorded) ? renameKeys(candidate) : candidate;
    }

    private static boolean hasRedactedKey(JsonNode node) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> m = it.next();
                if (RedactionTokens.in(m.getKey()) || hasRedactedKey(m.getValue())) {
                    return true;
                }
            }
        } else if (node.isArray()) {
            for (JsonNode e : node) {
                if (hasRedactedKey(e)) {
                    return true;
                }
            }
        }
        return false;
    }

    private JsonNode renameKeys(JsonNode node) {
        if (node.isArray()) {
            ArrayNode out = null;
            for (int i = 0; i < node.size(); i++) {
                JsonNode e = node.get(i);
                JsonNode r = renameKeys(e);
                if (r != e && out == null) {
                    // the elements before it as they are, shared as an object's unchanged members are: a deep copy
                    // here would copy what lies below again at every level of arrays nested around a renamed key
                    out = JsonNodeFactory.instance.arrayNode(node.size());
                    for (int j = 0; j < i; j++) {
                        out.add(node.get(j));
                    }
                }
                if (out != null) {
                    out.add(r);
                }
            }
            return out == null ? node : out;
        }
        if (!node.isObject()) {
            return node;
        }
        boolean changed = false;
        List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            String name = keys.text("result", "json", "$", m.getKey(), new ArrayList<>());
            JsonNode value = renameKeys(m.getValue());
            changed |= name != m.getKey() || value != m.getValue();
            members.add(Map.entry(name, value));
        }
        if (!changed) {
            return node;
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        members.forEach(m -> out.set(m.getKey(), m.getValue()));
        return out;
    }

    public boolean hasKey() {
        return key != null;
    }

    /**
     * For one case: the headers the replay set on its request ({@code overrides}, name to value) that replaced
     * recorded ones holding tokens, so the candidate passing such a value on counts as passing the recorded one. For
     * {@code Authorization: Bearer <token>} replaced by {@code Bearer test-key}, the credential alone
     * ({@code test-key} for {@code <token>}) counts too.
     */
    public RedactedValues forCase(List<Header> recordedRequest, Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            return this;
        }
        List<Substitution> found = new ArrayList<>(substitutions);
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            String plain = o.getValue();
            for (Header h : recordedRequest) {
                String recorded = h.getValue();
                if (!h.getName().equalsIgnoreCase(o.getKey()) || !RedactionTokens.in(recorded) || plain.isEmpty()
                        || RedactionTokens.in(plain)) {
                    continue;
                }
                found.add(new Substitution(plain, recorded));
                int ps = plain.indexOf(' ');
                int rs = recorded.indexOf(' ');
                if (ps > 0 && rs > 0 && plain.substring(0, ps).equalsIgnoreCase(recorded.substring(0, rs))
                        && !plain.substring(ps + 1).isBlank() && TOKEN.matcher(recorded.substring(rs + 1).trim()).matches()) {
                    found.add(new Substitution(plain.substring(ps + 1).trim(), recorded.substring(rs + 1).trim()));
                }
            }
        }
        return found.size() == substitutions.size() ? this : new RedactedValues(key, keys, found);
    }

    /** How {@code d} counts: as it is, not at all, or not judged. */
    public Judgement judge(Difference d) {
        if (key == null && (d.getKind() == DifferenceKind.MISSING || d.getKind() == DifferenceKind.EXTRA)
                && d.getPath().startsWith("$") && RedactionTokens.in(d.getPath())) {
            // a member under a key redacted at capture (recorded) or here (the candidate's, by a key of this process):
            // without the sidecar's key the two cannot be told apart
            return new Judgement(Outcome.UNJUDGED, null);
        }
        String expected = d.getExpected();
        String actual = d.getActual();
        if (!RedactionTokens.in(expected) || actual == null) {
            return different(d);
        }
        if (CUT.matcher(expected).find() || CUT.matcher(actual).find()) {
            return unjudgedUnlessEchoed(d);
        }
        Value e = Value.of(expected);
        Value a = Value.of(actual);
        String candidate = substitute(a.text);
        List<String> tokens = new ArrayList<>();
        Matcher tm = TOKEN.matcher(e.text);
        StringBuilder template = new StringBuilder();
        int last = 0;
        while (tm.find()) {
            String between = e.text.substring(last, tm.start());
            // whitespace alone between two tokens must match some: matching none too, the lazy group before it
            // would end after one character and the next take the rest ("a@x b@y" read as "a" and "@x b@y")
            template.append(last > 0 && SPACES.matcher(between).matches() ? "\\s+" : literal(between))
                    .append("(.+?)");
            tokens.add(tm.group());
            last = tm.end();
        }
        template.append(literal(e.text.substring(last)));
        if (tokens.isEmpty() || tokens.size() > MAX_TOKENS_JUDGED) {
            return unjudgedUnlessEchoed(d);
        }
        Matcher m = Pattern.compile(template.toString(), Pattern.DOTALL).matcher(candidate);
        if (!m.matches()) {
            // The literal parts differ (another scheme, other cookie names, the value gone or replaced): a difference
            // whatever the plain values were. With the key it is shown as a token; without one, as the candidate
            // sent it, which the result's redaction (the capture's rules) sees before it is published.
            return key == null ? different(d) : different(d, a.rewrap(key.token(a.text)));
        }
        boolean same = true;
        StringBuilder shown = new StringBuilder();
        int at = 0;
        for (int g = 1; g <= tokens.size(); g++) {
            String value = m.group(g);
            String token;
            if (TOKEN.matcher(value).matches()) {
                token = value;
            } else if (key == null) {
                return unjudgedUnlessEchoed(d);
            } else {
                token = tokenOf(value, tokens.get(g - 1));
            }
            same &= token.equals(tokens.get(g - 1));
            shown.append(candidate, at, m.start(g)).append(token);
            at = m.end(g);
        }
        if (same) {
            return new Judgement(Outcome.EQUAL, null);
        }
        shown.append(candidate.substring(at));
        return different(d, a.rewrap(shown.toString()));
    }

    /**
     * The candidate's value's token: the recorded one when a form the capture may have tokenised matches it (the
     * value as it is; trimmed, as a credential after its scheme is; a JSON object or array with its members sorted, as
     * the capture tokenises one, or in the candidate's order, as captures before that did; a JSON number as the capture
     * reads one, {@code 1.50} as {@code 1.5}), else the token of the
     * form the capture would tokenise now.
     */
    private String tokenOf(String value, String recorded) {
        String asIs = key.token(value);
        if (asIs.equals(recorded)) {
            return asIs;
        }
        if (!value.equals(value.trim()) && key.token(value.trim()).equals(recorded)) {
            return recorded;
        }
        String whole = wholeNumber(value); // a card the capture found in a floating-point number: by its digits
        if (whole != null && key.token(whole).equals(recorded)) {
            return recorded;
        }
        // a number the capture tokenised as it reads one (1234.50 as 1234.5), not as the candidate wrote it
        String number = CanonicalJson.numberTokenText(value);
        if (number != null && key.token(number).equals(recorded)) {
            return recorded;
        }
        String canonical = CanonicalJson.of(value);
        return canonical == null ? asIs : key.token(canonical);
    }

    /** The digits of a JSON number holding a whole value ({@code 4111111111111111.0}), else null. */
    private static String wholeNumber(String value) {
        if (value.isEmpty() || "-0123456789".indexOf(value.charAt(0)) < 0) {
            return null;
        }
        try {
            java.math.BigDecimal d = new java.math.BigDecimal(value).stripTrailingZeros();
            return d.scale() <= 0 && d.precision() - d.scale() <= 19 ? d.toPlainString() : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The literal part of a template: quoted, a run of whitespace matching any (also none). */
    private static String literal(String text) {
        StringBuilder sb = new StringBuilder();
        Matcher s = SPACES.matcher(text);
        int last = 0;
        while (s.find()) {
            sb.append(quote(text.substring(last, s.start()))).append("\\s*");
            last = s.end();
        }
        return sb.append(quote(text.substring(last))).toString();
    }

    private static String quote(String s) {
        return s.isEmpty() ? "" : Pattern.quote(s);
    }

    private String substitute(String value) {
        String out = value;
        for (Substitution s : substitutions) {
            out = out.replace(s.plain(), s.recorded());
        }
        return out;
    }

    /**
     * When the tokens cannot all be compared: a candidate's value holding tokens it echoed was compared as text and
     * differs; any other is not judged.
     */
    private static Judgement unjudgedUnlessEchoed(Difference d) {
        return RedactionTokens.in(d.getActual()) ? different(d) : new Judgement(Outcome.UNJUDGED, null);
    }

    private static Judgement different(Difference d) {
        return new Judgement(Outcome.DIFFERENT, d);
    }

    private static Judgement different(Difference d, String actual) {
        return new Judgement(Outcome.DIFFERENT, Difference.newBuilder(d).setActual(actual).build());
    }

    /**
     * A rendered value: a JSON string by its content (the capture tokenised the content), any other JSON value by its
     * compact JSON, anything else as it is; {@link #rewrap} renders a replacement the same way.
     */
    private record Value(String text, boolean jsonString) {

        static Value of(String rendered) {
            if (rendered.length() >= 2 && rendered.charAt(0) == '"' && rendered.charAt(rendered.length() - 1) == '"') {
                try {
                    JsonNode n = JSON.readTree(rendered);
                    if (n != null && n.isTextual()) {
                        return new Value(n.textValue(), true);
                    }
                } catch (JsonProcessingException e) {
                    // not JSON: compared as it is
                }
            }
            return new Value(rendered, false);
        }

        String rewrap(String replacement) {
            if (!jsonString) {
                return replacement;
            }
            try {
                return JSON.writeValueAsString(replacement);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a string did not serialise as JSON", e);
            }
        }
    }

    /** The note for differences not judged: {@code what} says where they were ("response", a dependency call). */
    public static String note(String what, List<String> paths) {
        String named = String.join(", ", paths.subList(0, Math.min(paths.size(), MAX_PATHS_NAMED)))
                + (paths.size() > MAX_PATHS_NAMED ? ", ..." : "");
        return paths.size() + " " + what + " difference(s) not judged: the recorded value was redacted at capture ("
                + named + ")";
    }

    @Override
    public String toString() {
        return "RedactedValues[" + (key == null ? "no key" : "keyed") + ", " + substitutions.size() + " substitution(s)]";
    }
}
