package io.tapline.redaction;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * What the redaction looks for: card numbers (a digit count, then the card pattern and the Luhn check), email
 * addresses, HTTP credentials in header values, and the byte scan that lets a body in which no rule can fire skip the
 * parse. The character classes here are also used by the URL and multipart code.
 */
final class SecretFinders {

    /** A header value in an HTTP authentication scheme is a credential whatever the header is called. */
    static final Pattern CREDENTIAL_VALUE = Pattern.compile("(?i)^\\s*(bearer|basic|digest|token|negotiate|apikey)\\s+\\S.*");
    /** Digit runs of 13 to 19 digits, optionally grouped by spaces or dashes, starting like a card (2-6). */
    static final Pattern CARD = Pattern.compile("(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])");

    private SecretFinders() {
    }

    /**
     * A byte scan proving that no JSON/text rule can fire, so {@link Redactor#body} may return the bytes as they are: no
     * configured JSON paths or regexes, plain ASCII without escapes (raw bytes = decoded text), no '@' (emails),
     * fewer than 13 digits in all (cards), no quoted name followed by ':' that is sensitive (JSON fields, and
     * every name the text fallback's "name": value scan could see, whichever quote it starts at), and, once a
     * {@code ://} was seen (a URL in a string, read by the URL rules), no sensitive {@code name=} after a {@code ?},
     * {@code &}, {@code ;} or {@code #} and no {@code %} escape (a URL nested in a parameter). A parameter's name is read as the
     * URL rules read it: everything up to its {@code =}, blanks and a later {@code ?} or {@code #} included,
     * {@code +} as a space; each byte is looked at a bounded number of times.
     */
    static boolean nothingToRedact(Redactor redactor, byte[] body) {
        if (!redactor.rules.jsonPaths().isEmpty() || !redactor.rules.textRules().isEmpty()) {
            return false;
        }
        int digits = 0;
        int lastQuote = -1;
        boolean url = false;
        // Where the name of a URL's parameter starts while its '=' is still to come, as the URL rules may read it: from
        // the first '?' or '#' of the run (a query's name may hold either), from the last one (a fragment's), and
        // from the last ';' (a path's or a value's parameter, whose name may hold a '&')
        int first = -1;
        int last = -1;
        int semi = -1;
        for (int i = 0; i < body.length; i++) {
            byte b = body[i];
            if (b < 0 || b == '\\' || b == '@') {
                return false;
            }
            if (b == ':' && i + 2 < body.length && body[i + 1] == '/' && body[i + 2] == '/') {
                url = true;
            } else if (url) {
                if (b == '%') {
                    return false;
                } else if (b == '&') {
                    first = i + 1;
                    last = i + 1;
                } else if (b == ';') {
                    semi = i + 1;
                } else if (b == '?' || b == '#') {
                    first = first < 0 ? i + 1 : first;
                    last = i + 1;
                } else if (b == '"') {
                    first = -1;
                    last = -1;
                    semi = -1;
                } else if (b == '=') {
                    if ((first >= 0 && sensitiveParameter(redactor, body, first, i))
                            || (last >= 0 && last != first && sensitiveParameter(redactor, body, last, i))
                            || (semi >= 0 && sensitiveParameter(redactor, body, semi, i))) {
                        return false;
                    }
                    first = -1;
                    last = -1;
                    semi = -1;
                }
            }
            if (b >= '0' && b <= '9' && ++digits >= 13 && redactor.rules.cards()) {
                return false;
            }
            if ((b == '=' || b == ':') && sensitiveNameBefore(redactor, body, i, url)) {
                return false; // password=..., token: ... (namedValue); a quoted name before a ':' is checked below
            }
            if (b == '"') {
                if (lastQuote >= 0 && followedByColon(body, i + 1)
                        && redactor.sensitive(new String(body, lastQuote + 1, i - lastQuote - 1, StandardCharsets.ISO_8859_1))) {
                    return false;
                }
                lastQuote = i;
            }
        }
        return true;
    }

    /**
     * Whether a sensitive name, as {@link #namedValue} reads it, ends before the {@code =} or {@code :} at
     * {@code sep}; a name in double quotes before a {@code :} is left to the JSON pair check. Once a URL was seen
     * ({@code url}), a {@code +} is read as the blank the URL rules decode it to ({@code ?q=a+token+=abc} holds
     * {@code token =abc}).
     */
    private static boolean sensitiveNameBefore(Redactor redactor, byte[] body, int sep, boolean url) {
        CharSequence text = new Latin1Text(body);
        int nameEnd = nameEndBefore(text, sep, 0, url);
        if (nameEnd < 0 || (body[sep] == ':' && body[nameEnd] == '"')) {
            return false;
        }
        int nameStart = nameStart(text, nameEnd, 0);
        return nameStart >= 0 && quotesMatch(text, nameStart, nameEnd, sep, 0)
                && redactor.sensitiveInText(text.subSequence(nameStart, nameEnd).toString());
    }

    /** Whether the parameter name {@code body[from, to)} is sensitive, read with {@code +} as a space. */
    private static boolean sensitiveParameter(Redactor redactor, byte[] body, int from, int to) {
        return to > from && redactor.sensitive(new String(body, from, to - from, StandardCharsets.ISO_8859_1).replace('+', ' '));
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

    static int digits(String s) {
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

    /** The longest name {@link #namedValue} reads before a {@code =} or {@code :}. */
    static final int MAX_NAME = 64;

    /**
     * The next value written after a sensitive name in free text, at or after {@code from}, as {start, end} of the
     * value (inside its quotes), or null: {@code password=hunter2}, {@code token: abc}, logfmt's
     * {@code secret="a b"}, a dict's {@code 'api_key': 'x'}. The name is a run of up to {@value #MAX_NAME} letters,
     * digits, {@code _ . -}, bare or in quotes, then blanks, {@code =} or {@code :} (not a URL's {@code ://}),
     * blanks; the value is quoted text up to its closing quote (an escaped one, {@code \"}, is part of it; or the
     * line's end), else one word (up to a blank or
     * {@code , ; & " ' < > ( ) [ ] { }}, and in a URL's path a {@code /} or {@code ?}). A value that is already a
     * token is passed over.
     */
    static int[] namedValue(Redactor redactor, String s, int from, boolean path) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '=' && c != ':') {
                continue;
            }
            int nameEnd = nameEndBefore(s, i, from, false);
            if (nameEnd < 0) {
                continue;
            }
            int nameStart = nameStart(s, nameEnd, from);
            if (nameStart < 0 || !quotesMatch(s, nameStart, nameEnd, i, from)
                    || !redactor.sensitiveInText(s.substring(nameStart, nameEnd))) {
                continue;
            }
            int v = i + 1;
            while (v < s.length() && (s.charAt(v) == ' ' || s.charAt(v) == '\t')) {
                v++;
            }
            if (c == ':' && s.startsWith("//", v)) {
                continue; // a URL's scheme
            }
            int start;
            int end;
            if (v < s.length() && (s.charAt(v) == '"' || s.charAt(v) == '\'')) {
                char quote = s.charAt(v);
                start = v + 1;
                end = start;
                while (end < s.length() && s.charAt(end) != quote && s.charAt(end) != '\n' && s.charAt(end) != '\r') {
                    end += s.charAt(end) == '\\' && end + 1 < s.length() ? 2 : 1; // an escaped quote is the value's
                }
                end = Math.min(end, s.length());
            } else {
                start = v;
                end = v;
                while (end < s.length() && valueChar(s.charAt(end)) && !(path && (s.charAt(end) == '/' || s.charAt(end) == '?'))) {
                    end++;
                }
            }
            if (end > start && !s.startsWith(RedactionTokens.PREFIX, start)) {
                return new int[] {start, end};
            }
        }
        return null;
    }

    /**
     * Where the name before the separator at {@code sep} ends (after a closing quote, before blanks, and before
     * {@code +} signs when {@code plusIsBlank}), or -1.
     */
    private static int nameEndBefore(CharSequence s, int sep, int from, boolean plusIsBlank) {
        int j = sep;
        while (j > from && (s.charAt(j - 1) == ' ' || s.charAt(j - 1) == '\t' || (plusIsBlank && s.charAt(j - 1) == '+'))) {
            j--;
        }
        if (j > from && (s.charAt(j - 1) == '"' || s.charAt(j - 1) == '\'')) {
            j--;
        }
        return j > from && nameChar(s.charAt(j - 1)) ? j : -1;
    }

    /** Where the name ending at {@code nameEnd} starts, or -1 when it runs longer than {@link #MAX_NAME}. */
    private static int nameStart(CharSequence s, int nameEnd, int from) {
        int j = nameEnd;
        while (j > from && nameChar(s.charAt(j - 1))) {
            j--;
            if (nameEnd - j > MAX_NAME) {
                return -1;
            }
        }
        return j;
    }

    /** A name followed by a quote must be preceded by the same quote: {@code "name":}, not {@code name":}. */
    private static boolean quotesMatch(CharSequence s, int nameStart, int nameEnd, int sep, int from) {
        int after = nameEnd;
        if (after == sep || (s.charAt(after) != '"' && s.charAt(after) != '\'')) {
            return true;
        }
        return nameStart > from && s.charAt(nameStart - 1) == s.charAt(after);
    }

    static boolean nameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }

    private static boolean valueChar(char c) {
        return !blank(c) && c != ',' && c != ';' && c != '&' && c != '"' && c != '\'' && c != '<' && c != '>'
                && c != '(' && c != ')' && c != '[' && c != ']' && c != '{' && c != '}';
    }

    static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f';
    }

    /**
     * The next email address in {@code s} at or after {@code from}, as {start, end}, or null: what the regex
     * {@code [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}} finds, with the non-ASCII characters
     * of {@link #emailNonAscii} taken as letters (an internationalised address, {@code josé@exämple.com}), without
     * its costs: run by
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
            while (end < s.length() && emailDomain(s.charAt(end))) {
                end++;
            }
            if (end == at + 1) {
                continue;
            }
            while (end + 1 < s.length() && s.charAt(end) == '.' && emailDomain(s.charAt(end + 1))) {
                end += 2;
                while (end < s.length() && emailDomain(s.charAt(end))) {
                    end++;
                }
            }
            // the last label whose first two or more characters are letters ends the address, after those letters
            for (int dot = end - 1; dot > at; dot--) {
                if (s.charAt(dot) != '.') {
                    continue;
                }
                int letters = dot + 1;
                while (letters < end && (letter(s.charAt(letters)) || emailNonAscii(s.charAt(letters)))) {
                    letters++;
                }
                if (letters - dot - 1 >= 2) {
                    return new int[] {start, letters};
                }
            }
        }
        return null;
    }

    static boolean letter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    static boolean domainLabel(char c) {
        return letter(c) || (c >= '0' && c <= '9') || c == '-';
    }

    /**
     * A non-ASCII character of an internationalised address (RFC 6531): a letter, digit or mark of the Basic Multilingual
     * Plane, or any character up to 0xFF, since a body of unknown charset is read as Latin-1 and its UTF-8 bytes then come as such characters.
     */
    private static boolean emailNonAscii(char c) {
        if (c < 0x80) {
            return false;
        }
        if (c <= 0xFF || Character.isLetterOrDigit(c)) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK || type == Character.ENCLOSING_MARK;
    }

    private static boolean emailDomain(char c) {
        return domainLabel(c) || emailNonAscii(c);
    }

    private static boolean emailLocal(char c) {
        return emailDomain(c) || c == '.' || c == '_' || c == '%' || c == '+';
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
