package io.tapline.redaction;

import io.tapline.avro.Redaction;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** A {@link Redactor}'s rules for {@code multipart/*} bodies: each part's headers and content, nested parts included. */
final class MultipartRedaction {

    /** Multipart bodies nested deeper than this are not parsed further: their parts are tokenised whole. */
    private static final int MAX_MULTIPART_DEPTH = 4;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LF = {'\n'};
    private static final byte[] BLANK_LINE = {'\r', '\n', '\r', '\n'};
    private static final byte[] LF_BLANK_LINE = {'\n', '\n'};
    private static final byte[] DASHES = {'-', '-'};

    private final Redactor redactor;

    MultipartRedaction(Redactor redactor) {
        this.redactor = redactor;
    }

    /**
     * A {@code multipart/*} body (RFC 2046, {@code multipart/form-data} per RFC 7578), part by part: delimiters and
     * structure keep their bytes; part headers get the text rules; the content of a part whose name
     * ({@code Content-Disposition: form-data; name="..."}) is sensitive becomes the token of its UTF-8 text (equal
     * to the token of the same form field); any other part is redacted as a body of its own content type
     * ({@code text/plain} when it has none): JSON by tree, forms by field, text by the text rules. A file part
     * (binary content) is thus kept byte for byte unless a text rule matches its bytes, as a binary body is. A part
     * cut by the capture cap runs to the end of the captured bytes. Lines may end in a bare LF, as parsers such as
     * Go's and Werkzeug's accept. Null when there is no usable boundary.
     */
    byte[] multipart(String part, byte[] body, String contentType, int depth, List<Redaction> out) {
        String boundary = parameter(contentType, "boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            return null;
        }
        byte[] dashBoundary = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        byte[] delimiter = ("\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1); // after a CR or not
        int first = startsWith(body, 0, dashBoundary) ? 0 : indexOf(body, delimiter, 0, body.length);
        if (first < 0) {
            return null;
        }
        int pos = first == 0 ? 0 : first + 1; // the line break before the first delimiter ends the preamble
        ByteArrayOutputStream result = new ByteArrayOutputStream(body.length + 64);
        boolean changed = textBytes(part, body, 0, pos, result, out);
        while (true) {
            int afterBoundary = pos + dashBoundary.length;
            if (startsWith(body, afterBoundary, DASHES)) { // close delimiter: the rest is the epilogue
                result.write(body, pos, afterBoundary + 2 - pos);
                changed |= textBytes(part, body, afterBoundary + 2, body.length, result, out);
                break;
            }
            int lineEnd = indexOf(body, LF, afterBoundary, body.length);
            if (lineEnd < 0) { // cut inside the delimiter line
                changed |= textBytes(part, body, pos, body.length, result, out);
                break;
            }
            int start = lineEnd + 1;
            result.write(body, pos, start - pos);
            int next = indexOf(body, delimiter, start, body.length);
            int end = next < 0 ? body.length : next > start && body[next - 1] == '\r' ? next - 1 : next;
            changed |= bodyPart(part, body, start, end, depth, result, out);
            if (next < 0) {
                break;
            }
            result.write(body, end, next + 1 - end);
            pos = next + 1;
        }
        return changed ? result.toByteArray() : body;
    }

    /** One part's headers and content, {@code body[from, to)}, into {@code result}; true when it changed. */
    private boolean bodyPart(String part, byte[] body, int from, int to, int depth, ByteArrayOutputStream result, List<Redaction> out) {
        int headStop; // where the line break that ends the headers starts
        int contentStart;
        if (to - from >= 2 && startsWith(body, from, CRLF)) { // no headers
            headStop = from;
            contentStart = from + 2;
        } else if (to - from >= 1 && startsWith(body, from, LF)) {
            headStop = from;
            contentStart = from + 1;
        } else {
            int crlf = indexOf(body, BLANK_LINE, from, to);
            int lf = indexOf(body, LF_BLANK_LINE, from, to);
            if (crlf >= 0 && (lf < 0 || crlf < lf)) {
                headStop = crlf;
                contentStart = crlf + 4;
            } else if (lf >= 0) {
                headStop = lf;
                contentStart = lf + 2;
            } else { // cut inside the part's headers
                return textBytes(part, body, from, to, result, out);
            }
        }
        String name = null;
        String type = null;
        String head = new String(body, from, headStop - from, StandardCharsets.ISO_8859_1);
        for (String line : head.split("\r?\n")) {
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
        if (name != null && redactor.sensitive(name)) {
            out.add(new Redaction(part, "form", name, redactor.fieldRule(name)));
            redacted = redactor.token(new String(content, StandardCharsets.UTF_8)).getBytes(StandardCharsets.ISO_8859_1);
        } else if (depth + 1 >= MAX_MULTIPART_DEPTH && type != null && type.regionMatches(true, 0, "multipart/", 0, 10)) {
            out.add(new Redaction(part, "form", name == null ? "multipart" : name, "multipart-too-deep"));
            redacted = redactor.token(new String(content, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
        } else {
            redacted = redactor.body(part, content, type == null ? "text/plain" : type, depth + 1, out);
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
        String r = redactor.text(part, "text", "body", s, out);
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
            while (j < len && SecretFinders.blank(value.charAt(j))) {
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
}
