package io.tapline.redaction;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.tapline.avro.Redaction;
import io.tapline.json.JsonPathSegments;
import io.tapline.json.JsonStrings;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link Redactor}'s JSON rules: JSON bodies walked as trees (values by field name, configured JSON path and the
 * text rules, object keys by the text rules), single values found at a path, and text that should be JSON but does
 * not parse.
 */
final class JsonRedaction {

    /**
     * "name": value pairs in JSON-like text that could not be parsed (e.g. a truncated body); for an object or array
     * value only its opening bracket (the rest is found by {@link #closingBracket}). A string value runs to its closing
     * quote or to the end of the text, also when the text is cut just after a backslash. The string value is
     * matched with possessive quantifiers: an alternation under {@code *} recurses once per character in
     * java.util.regex and overflows the stack on a long string. A name may hold escapes ({@code "pass&#92;u0077ord"}),
     * read before it is judged; its 128 characters bound that alternation.
     */
    private static final Pattern JSON_PAIR = Pattern.compile("\"((?:[^\"\\\\]|\\\\.){1,128})\"\\s*:\\s*(\"[^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+(?:\"|\\\\?$)|[^,}\\]\\s{\\[\"]+|[{\\[])");

    private final Redactor redactor;
    private final Redactor.Rules rules;

    JsonRedaction(Redactor redactor, Redactor.Rules rules) {
        this.redactor = redactor;
        this.rules = rules;
    }

    /**
     * Parses and redacts a JSON body; null when it is not one valid JSON value (several, as in newline-delimited JSON,
     * are left to the JSON-like text rules, which see them all). Unchanged bodies keep their bytes; a body written out
     * again keeps its numbers as they were written ({@link WrittenJson}).
     */
    byte[] json(String part, byte[] body, List<Redaction> out) {
        JsonNode root;
        try {
            root = WrittenJson.read(body);
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
            return CanonicalJson.JSON.writeValueAsBytes(replaced);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("re-serialising a parsed JSON tree failed", e);
        }
    }

    /** See {@link Redactor#jsonValue}. */
    String jsonValue(String part, String path, String rendered, List<Redaction> out) {
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
            String rule = pathMatches(concrete.toString(), name) ? "config:json-path" : redactor.sensitive(name) ? redactor.fieldRule(name) : null;
            if (rule != null) {
                out.add(new Redaction(part, "json", path, rule));
                return CanonicalJson.JSON.getNodeFactory().textNode(redactor.token(CanonicalJson.textOf(rendered))).toString();
            }
        }
        return anyText(part, path.startsWith("$") ? path : "$", rendered, out);
    }

    /** See {@link Redactor#anyText}. */
    String anyText(String part, String path, String s, List<Redaction> out) {
        if (s == null || s.isEmpty()) {
            return s;
        }
        JsonNode node = null;
        try {
            node = WrittenJson.read(s); // written out again when something in it is redacted
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

    private JsonNode walk(String part, JsonNode node, String path, List<Redaction> out) {
        if (node.isObject()) {
            ObjectNode obj = (ObjectNode) node;
            Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
            List<Map.Entry<String, JsonNode>> updates = new ArrayList<>();
            List<String> names = null; // the members' names once one of them was redacted, in order
            String listed = null; // {"name": "X-Api-Key", "value": ...}: the name its value is redacted by, once looked for
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
                } else if (redactor.sensitive(e.getKey())) {
                    rule = redactor.fieldRule(e.getKey());
                } else if (equalsIgnoreCase(e.getKey(), "value") && !child.isNull()) {
                    listed = listed == null ? listedName(obj) : listed;
                    rule = listed == null ? null : redactor.listedNameRule(listed);
                }
                if (rule != null && !child.isNull()) {
                    out.add(new Redaction(part, "json", childPath, rule));
                    updates.add(Map.entry(e.getKey(), TextNode.valueOf(redactor.token(CanonicalJson.tokenText(child)))));
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
            ObjectNode renamed = CanonicalJson.JSON.getNodeFactory().objectNode(); // the members in their order, under their new names
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
            String r = redactor.value(part, "json", path, s, out);
            return r == s ? node : TextNode.valueOf(r);
        }
        if (node.isNumber() && rules.cards()) {
            // a card held as a floating-point number is written 4111111111111111.0 or 4.111111111111111E15; a number
            // is checked as the node it reads as (a double), so the same numbers are cards, with the same digits
            JsonNode read = CanonicalJson.asRead(node);
            String digits = read.isIntegralNumber() ? read.asText() : integral(read);
            if (SecretFinders.CARD.matcher(digits).matches() && SecretFinders.luhn(digits)) {
                out.add(new Redaction(part, "json", path, "card-number"));
                return TextNode.valueOf(redactor.token(digits));
            }
        }
        return node;
    }

    /**
     * The name an object of a list of headers or parameters gives its {@code value} member, when that name is one a
     * header or field of that name would have its value redacted by ({@link Redactor#listedName}): a string member
     * {@code name}, {@code key} or {@code header} (in any case), as HAR files, Postman collections, OpenAPI examples and
     * many APIs write such lists ({@code [{"name": "Authorization", "value": "Bearer ..."}]}). Null for any other object.
     */
    private String listedName(ObjectNode obj) {
        if (obj.size() < 2) {
            return null;
        }
        Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (listKey(e.getKey()) && e.getValue().isTextual() && redactor.listedName(e.getValue().textValue())) {
                return e.getValue().textValue();
            }
        }
        return null;
    }

    /** Whether a member's name is one that names the {@code value} beside it in a list of headers or parameters. */
    static boolean listKey(CharSequence key) {
        return equalsIgnoreCase(key, "name") || equalsIgnoreCase(key, "key") || equalsIgnoreCase(key, "header");
    }

    private static boolean equalsIgnoreCase(CharSequence s, String lower) {
        if (s.length() != lower.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.toLowerCase(s.charAt(i)) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A floating-point number's digits when its value is a whole number, else the empty string. A number too large
     * for a double ({@code 1e999}) is parsed as infinity, which has no digits.
     */
    private static String integral(JsonNode number) {
        if (!number.isBigDecimal() && !Double.isFinite(number.doubleValue())) {
            return "";
        }
        java.math.BigDecimal d = number.decimalValue().stripTrailingZeros();
        return d.scale() <= 0 && d.precision() - d.scale() <= 19 ? d.toPlainString() : "";
    }

    /**
     * A JSON object key with the text rules applied (an email or a card number in it becomes its token), noted at the
     * member's path as redacted; the same instance when nothing in it matched. Most keys hold neither a digit run long
     * enough for a card nor an '@' (plain or escaped), and with no configured text rule they are not scanned further.
     */
    private String key(String part, String path, String name, List<Redaction> out) {
        if (rules.textRules().isEmpty() && name.indexOf('@') < 0 && !SecretFinders.mayHoldEncodedEmail(name)
                && (!rules.cards() || name.length() < 13)) {
            return name;
        }
        List<Redaction> found = new ArrayList<>(1);
        String r = redactor.text(part, "json", path, name, found);
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
    String jsonLikeText(String part, String s, List<Redaction> out) {
        Matcher m = JSON_PAIR.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        int from = 0;
        // a sensitive name a "name", "key" or "header" pair gave, for a "value" pair after it in the same object (no
        // bracket between them): {"name": "X-Api-Key", "value": ...}
        String listed = null;
        while (from < s.length() && m.find(from)) {
            String name = unescape(m.group(1));
            if (listed != null && bracketBetween(s, from, m.start())) {
                listed = null;
            }
            from = m.end();
            String v = m.group(2);
            String listedBy = listed != null && equalsIgnoreCase(name, "value") ? listed : null;
            listed = v.equals("{") || v.equals("[") ? null : listKey(name) ? listedNameIn(v) : listed;
            if (listedBy == null && !redactor.sensitive(name) && rules.jsonPaths().stream()
                    .noneMatch(p -> p.startsWith("$..") && p.substring(3).equals(name) || p.endsWith("." + name))) {
                // a string as in parsed JSON: its escapes read (https:\/\/..., JSON carried as a string), a URL by
                // its parameters' names, JSON text by its pairs; an object or array value is entered: its own pairs
                // are found next
                if (v.startsWith("\"")) {
                    boolean closed = v.length() > 1 && v.endsWith("\"") && !cutAfterBackslash(v);
                    String raw = v.substring(1, closed ? v.length() - 1 : v.length());
                    String text = unescape(raw);
                    if (Redactor.structured(text)) { // other strings get the text rules with the rest, below
                        String r = redactor.value(part, "text", name, text, out);
                        if (r != text) {
                            if (sb == null) {
                                sb = new StringBuilder(s.length());
                            }
                            sb.append(s, last, m.start(2)).append('"').append(escape(r)).append(closed ? "\"" : "");
                            last = from;
                        }
                    }
                }
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(s.length());
            }
            String inner;
            if (v.equals("{") || v.equals("[")) {
                from = closingBracket(s, m.start(2));
                inner = s.substring(m.start(2), from);
            } else {
                inner = v.startsWith("\"") ? v.substring(1, v.endsWith("\"") && v.length() > 1 ? v.length() - 1 : v.length()) : v;
            }
            sb.append(s, last, m.start(2)).append('"').append(redactor.token(inner)).append('"');
            last = from;
            if (listedBy != null) {
                out.add(new Redaction(part, "text", listedBy, redactor.listedNameRule(listedBy)));
                continue;
            }
            // the note names the field as the text will read: a name holding an email is named by its token
            out.add(new Redaction(part, "text", redactor.text(part, "text", name, name, new ArrayList<>()), "sensitive-name"));
        }
        String afterPairs = sb == null ? s : sb.append(s, last, s.length()).toString();
        String r = redactor.text(part, "text", "body", escapedStrings(part, afterPairs, out), out);
        return r == s ? null : r;
    }

    /**
     * The strings of JSON-like text written with escapes ({@code "jos&#92;u00e9@example.com"}, {@code "jane&#92;u0040x.io"}),
     * which the text rules would read with their escapes: their content as a JSON reader reads it gets the text
     * rules, and is written back escaped when something in it was tokenised; the same instance when nothing was. A
     * string runs from a quote to the next one not escaped, or to the end of cut text; one holding a backslash that
     * starts no JSON escape ({@code "C:&#92;Users"} in a log line) is not JSON and is left to the text rules,
     * which read it as written. One pass.
     */
    private String escapedStrings(String part, String s, List<Redaction> out) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = null;
        int last = 0;
        for (int open = s.indexOf('"'); open >= 0; ) {
            int end = open + 1;
            boolean escaped = false;
            boolean valid = true;
            while (end < s.length() && s.charAt(end) != '"') {
                if (s.charAt(end) == '\n' || s.charAt(end) == '\r') {
                    valid = false; // a line break as written: a quoted run of text over lines, not a JSON string
                } else if (s.charAt(end) == '\\') {
                    escaped = true;
                    char next = end + 1 < s.length() ? s.charAt(end + 1) : 0;
                    valid &= "\"\\/bfnrt".indexOf(next) >= 0 || next == 'u' && hex4(s, end + 2) >= 0 || cutEscape(s, end);
                    end++;
                }
                end++;
            }
            end = Math.min(end, s.length());
            if (escaped && valid) {
                String text = unescape(s.substring(open + 1, end));
                String r = redactor.text(part, "text", "body", text, out);
                if (r != text) {
                    if (sb == null) {
                        sb = new StringBuilder(s.length());
                    }
                    sb.append(s, last, open + 1).append(escape(r));
                    last = end;
                }
            }
            open = end + 1 < s.length() ? s.indexOf('"', end + 1) : -1;
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    /** The name a string value of a "name", "key" or "header" pair gives ({@link Redactor#listedName}), else null. */
    private String listedNameIn(String v) {
        if (v.length() < 2 || !v.startsWith("\"") || !v.endsWith("\"") || cutAfterBackslash(v)) {
            return null;
        }
        String name = unescape(v.substring(1, v.length() - 1));
        return redactor.listedName(name) ? name : null;
    }

    /** Whether {@code s[from, to)}, the text between two pairs, holds a bracket: they are then not of one object. */
    private static boolean bracketBetween(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '{' || c == '}' || c == '[' || c == ']') {
                return true;
            }
        }
        return false;
    }

    /** Whether a string value the pair scan found ends in an escaped quote, cut there ({@code "ab\\"}). */
    private static boolean cutAfterBackslash(String v) {
        int backslashes = 0;
        for (int i = v.length() - 2; i > 0 && v.charAt(i) == '\\'; i--) {
            backslashes++;
        }
        return backslashes % 2 == 1;
    }

    /**
     * A JSON string's content with its escapes read, in the form the text rules see a body in (each character a
     * byte of its UTF-8 encoding, as raw bytes read as Latin-1 are); a cut escape at the end is left out.
     */
    static String unescape(String raw) {
        if (raw.indexOf('\\') < 0) {
            return raw;
        }
        StringBuilder b = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i + 1 >= raw.length()) {
                break;
            }
            char e = raw.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    int code = hex4(raw, i + 1);
                    if (code < 0) {
                        return b.toString();
                    }
                    i += 4;
                    int low = Character.isHighSurrogate((char) code) && raw.startsWith("\\u", i + 1) ? hex4(raw, i + 3) : -1;
                    String ch;
                    if (low >= 0 && Character.isLowSurrogate((char) low)) {
                        ch = new String(new char[] {(char) code, (char) low});
                        i += 6;
                    } else {
                        ch = String.valueOf((char) code);
                    }
                    b.append(new String(ch.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1));
                }
                default -> b.append(e);
            }
        }
        return b.toString();
    }

    /** Whether the escape at {@code backslash} is one the end of the text cut: a backslash, alone or with {@code u} and up to 3 hex digits. */
    private static boolean cutEscape(String s, int backslash) {
        int i = backslash + 1;
        if (i < s.length() && s.charAt(i) == 'u') {
            for (i++; i < s.length() && Character.digit(s.charAt(i), 16) >= 0; i++) {
                // the hex digits written before the cut
            }
        }
        return i == s.length() && s.length() - backslash < 6;
    }

    private static int hex4(String s, int from) {
        if (from + 4 > s.length()) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < from + 4; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                return -1;
            }
            v = v << 4 | d;
        }
        return v;
    }

    /**
     * Text as the content of a JSON string: quotes, backslashes and control characters escaped, the rest as it is;
     * a backspace and a form feed as {@code &#92;b} and {@code &#92;f}, as text read with its escapes most often wrote
     * them ({@code C:&#92;bin}, which {@code &#92;u0008} would have changed for a reader of the text as written).
     */
    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\b' || c == '\f') {
                JsonStrings.appendEscaped(b, text.subSequence(from, i), false).append(c == '\b' ? "\\b" : "\\f");
                from = i + 1;
            }
        }
        return JsonStrings.appendEscaped(b, text.subSequence(from, text.length()), false).toString();
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
}
