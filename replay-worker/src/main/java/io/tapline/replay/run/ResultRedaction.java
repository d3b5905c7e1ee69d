package io.tapline.replay.run;

import io.tapline.avro.Difference;
import io.tapline.avro.MockCall;
import io.tapline.avro.MockUsage;
import io.tapline.avro.Redaction;
import io.tapline.redaction.RedactionKey;
import io.tapline.redaction.Redactor;
import io.tapline.replay.compare.JsonPaths;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Redacts what a result publishes of the candidate's answer and of the calls it made, by the capture sidecar's rules,
 * before the result reaches the results topic (and every report read from it). A candidate can emit secrets production
 * never showed a token for: a new field holding an email, a credential header its dependencies now get, an API key in
 * a call's query. With the sidecar's key these become the tokens the sidecar would have written, so they can be told
 * apart and matched with captured ones; without it, tokens of a per-process key, which hide as well but match nothing.
 * <p>The recorded values were redacted at capture already, and a token stays as it is, so applying the rules to both
 * sides changes only the candidate's plain values.
 */
public final class ResultRedaction {

    private static final String PART = "result";
    private static final String CALL = "call:";

    private final Redactor redactor;

    public ResultRedaction(Redactor redactor) {
        this.redactor = redactor;
    }

    /** The default redaction rules with this key. */
    public static ResultRedaction of(RedactionKey key) {
        return new ResultRedaction(new Redactor(key, Redactor.Rules.defaults()));
    }

    public List<Difference> differences(List<Difference> differences) {
        if (differences.isEmpty()) {
            return differences;
        }
        List<Difference> out = new ArrayList<>(differences.size());
        for (Difference d : differences) {
            out.add(difference(d));
        }
        return out;
    }

    /** A difference with its path and both values redacted; the same instance when nothing needed it. */
    Difference difference(Difference d) {
        String path = d.getPath();
        String where = path;
        String redactedPath = path;
        if (path.startsWith(CALL)) {
            // call:METHOD destination path?query, then the part of the call compared ($.amount, header:NAME), if any
            String[] parts = path.split(" ", 4);
            where = parts.length == 4 ? parts[3] : "";
            redactedPath = call(path);
            String redactedWhere = where(where);
            if (redactedWhere != where) {
                redactedPath = redactedPath.substring(0, redactedPath.length() - where.length()) + redactedWhere;
            }
        } else {
            redactedPath = where(path);
        }
        boolean callDescription = path.startsWith(CALL) && where.isEmpty(); // an unmatched or unused call
        String expected = value(callDescription, where, d.getExpected());
        String actual = value(callDescription, where, d.getActual());
        if (redactedPath.equals(path) && Objects.equals(expected, d.getExpected()) && Objects.equals(actual, d.getActual())) {
            return d;
        }
        return Difference.newBuilder(d).setPath(redactedPath).setExpected(expected).setActual(actual).build();
    }

    /**
     * A JSON path with each member name redacted by the text rules on its own ({@code $.owners['ann@example.com']} to
     * {@code $.owners.tapline:hmac:…}), then the whole path (a name the comparison could not tell apart is written
     * with its dots); a form field's name by the text rules. Anything else as it is. Unchanged: the same instance.
     */
    private String where(String path) {
        if (path.startsWith("$")) {
            String named = JsonPaths.renameMembers(path, name -> redactor.text(PART, "path", "path", name, new ArrayList<>()));
            String whole = redactor.text(PART, "path", "path", named, new ArrayList<>());
            return whole.equals(path) ? path : whole;
        }
        if (path.startsWith("form:")) {
            String redacted = redactor.text(PART, "path", "path", path, new ArrayList<>());
            return redacted.equals(path) ? path : redacted;
        }
        return path;
    }

    /**
     * A value as its path says it was found: a header by the header rules, a JSON value by the JSON rules as it sat in
     * its document, a form field by its name; a call's description (an unmatched or unused call) by the URL rules.
     */
    private String value(boolean callDescription, String where, String value) {
        if (value == null || value.isEmpty() || where.equals("status")) {
            return value;
        }
        if (callDescription) {
            return call(value);
        }
        List<Redaction> scratch = new ArrayList<>(); // where values were replaced: the sidecar publishes it, a result does not
        if (where.startsWith("header:")) {
            return redactor.header(PART, where.substring("header:".length()), value, scratch);
        }
        if (where.startsWith("$")) {
            return redactor.jsonValue(PART, where, value, scratch);
        }
        if (where.startsWith("form:")) {
            return redactor.field(PART, "form", where.substring("form:".length()), value, scratch);
        }
        // a body: JSON, text, or a hash; then as multipart or XML when it reads as one (see asBody)
        String text = redactor.anyText(PART, "$", value, scratch);
        String boundary = multipartBoundary(text);
        if (boundary != null) {
            return asBody(text, "multipart/form-data; boundary=\"" + boundary + "\"");
        }
        return text.indexOf('<') < 0 ? text : asBody(text, "application/xml");
    }

    /**
     * Text redacted as the sidecar redacts a body of {@code contentType}: a multipart body part by part (a part named
     * like a secret, {@code name="password"}, becomes a token), XML by its elements and attributes named like secrets
     * ({@code <password>…</password>}, {@code api_key="…"}), then by the text rules. A difference does not say the
     * body's content type, so a body starting with a boundary line is read as multipart, and any other text holding a
     * {@code <} (XML may also be shown after why a JSON answer is not JSON) as XML: in text that is not XML the rules
     * find nothing more than the text rules do.
     */
    private String asBody(String text, String contentType) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] redacted = redactor.body(PART, bytes, contentType, new ArrayList<>());
        return redacted == bytes ? text : new String(redacted, StandardCharsets.UTF_8);
    }

    /**
     * The boundary of a body whose first line is a multipart delimiter ({@code --BOUNDARY}: 1 to 70 characters, RFC
     * 2046, none a quote or a backslash, so it can be written quoted), or null.
     */
    private static String multipartBoundary(String text) {
        if (!text.startsWith("--")) {
            return null;
        }
        int end = 2;
        while (end < text.length() && text.charAt(end) != '\r' && text.charAt(end) != '\n') {
            char c = text.charAt(end);
            if (c == '"' || c == '\\' || end - 2 >= 70) {
                return null;
            }
            end++;
        }
        return end == 2 || end == text.length() ? null : text.substring(2, end);
    }

    /** {@code call:METHOD destination path?query[ rest]} with its path and query redacted by the URL rules. */
    private String call(String description) {
        String[] parts = description.split(" ", 4);
        if (parts.length < 3) {
            return description;
        }
        String target = pathAndQuery(parts[2]);
        if (target == parts[2]) {
            return description;
        }
        return parts[0] + " " + parts[1] + " " + target + (parts.length == 4 ? " " + parts[3] : "");
    }

    /** A request target ({@code /path?query}) redacted as the sidecar redacts a captured one. */
    private String pathAndQuery(String target) {
        List<Redaction> scratch = new ArrayList<>();
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? null : target.substring(q + 1);
        String p = redactor.path(PART, path, scratch);
        String r = query == null ? null : redactor.query(PART, query, scratch);
        if (p == path && r == query) {
            return target;
        }
        return r == null ? p : p + "?" + r;
    }

    /**
     * The notes of a result with each redacted by the text rules. Most name only recorded calls and paths, but a call
     * the mock answered 413 for its body is named by the target the candidate sent ({@code the candidate's call POST
     * /stock?api_key=...}), which no difference or listed call carries. The same list when nothing needed it.
     */
    public List<String> notes(List<String> notes) {
        List<String> out = null;
        for (int i = 0; i < notes.size(); i++) {
            String note = notes.get(i);
            String redacted = redactor.text(PART, "note", "note", note, new ArrayList<>());
            if (redacted != note) {
                if (out == null) {
                    out = new ArrayList<>(notes);
                }
                out.set(i, redacted);
            }
        }
        return out == null ? notes : out;
    }

    /** The calls of a result with each candidate call's path and query redacted. */
    public MockUsage usage(MockUsage usage) {
        List<MockCall> calls = usage.getCalls();
        List<MockCall> out = null;
        for (int i = 0; i < calls.size(); i++) {
            MockCall c = calls.get(i);
            String path = pathAndQuery(c.getPath());
            if (path != c.getPath()) {
                if (out == null) {
                    out = new ArrayList<>(calls);
                }
                out.set(i, MockCall.newBuilder(c).setPath(path).build());
            }
        }
        return out == null ? usage : MockUsage.newBuilder(usage).setCalls(out).build();
    }
}
