package io.tapline.redaction;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What the redaction looks for: card numbers (a digit count, then the card pattern and the Luhn check), email
 * addresses, HTTP credentials in header values, and the byte scan that lets a body in which no rule can fire skip the
 * parse. The character classes here are also used by the URL and multipart code.
 */
final class SecretFinders {

    /** A header value in an HTTP authentication scheme is a credential whatever the header is called. */
    static final Pattern CREDENTIAL_VALUE = Pattern.compile("(?i)^\\s*(bearer|basic|digest|token|negotiate|apikey)\\s+\\S.*");
    /**
     * What {@link #CARD} matches: runs of 13 to 19 digits (the count is {@link #luhn}'s to check) starting like a card
     * (2-6): digits optionally separated by single spaces or dashes, anywhere ({@code 4111 1111-1111 1111}); or digits
     * grouped as cards are printed, a first group of 4 digits and 2 to 4 more of 3 to 6 ({@code 4-4-4-4},
     * {@code 4-6-5}, {@code 4-4-4-4-3}), joined by single dots ({@code 4111.1111.1111.1111}) or by runs of spaces
     * ({@code 4111  1111  1111  1111}). A dot is a card's separator only between such groups, and not when another
     * group follows: a decimal number ({@code 2.718281828459045}), a version or an OID is not a card. Quantifiers
     * over the new groups are possessive: nothing is tried twice.
     */
    private static final String CARD_USUAL = "[2-6](?:[ -]?[0-9]){12,18}(?![0-9])"
            + "|(?<![0-9]\\.)[2-6][0-9]{3}+(?:\\.[0-9]{3,6}+){2,4}+(?![0-9]|\\.[0-9])"
            + "|[2-6][0-9]{3}+(?: ++[0-9]{3,6}+){2,4}+(?![0-9])";
    /** Blanks (one at least) with at most one dot or dash among them; each part taken whole, nothing tried twice. */
    private static final String CARD_SEPARATOR = "(?=[.-]?[ \\t])[ \\t]*+[.-]?+[ \\t]*+";
    /**
     * Digits grouped as cards are printed with other separators between the groups ({@link #CARD_SEPARATOR}): a run of
     * blanks holding a tab ({@code 4111<tab>1111<tab>1111<tab>1111}), or a dot or dash next to a blank
     * ({@code 4111. 1111. 1111. 1111}, {@code 4111 -1111- 1111 1111}). Only the printed shapes, so that columns of
     * other widths are not taken for a card: four groups of 4 digits, with a fifth of 3 (19 digits), or, for a number
     * starting with 3 (American Express, Diners Club), 4-6-5 and 4-6-4. A dot and a digit before the number or after
     * it make it part of a longer dotted run, which is not a card.
     */
    private static final String CARD_SPACED_GROUPS = "(?<![0-9]\\.)(?:[2-6][0-9]{3}+(?:" + CARD_SEPARATOR + "[0-9]{4}+){3}+(?:"
            + CARD_SEPARATOR + "[0-9]{3}+)?|3[0-9]{3}+" + CARD_SEPARATOR + "[0-9]{6}+" + CARD_SEPARATOR + "[0-9]{4,5}+)(?![0-9]|\\.[0-9])";
    /** Card numbers written as {@link #CARD_USUAL} says. */
    static final Pattern CARD = Pattern.compile("(?<![0-9])(?:" + CARD_USUAL + ")");
    /** Card numbers written as {@link #CARD_USUAL} or {@link #CARD_SPACED_GROUPS} says: see {@link #cardPattern}. */
    static final Pattern CARD_SPACED = Pattern.compile("(?<![0-9])(?:" + CARD_USUAL + "|" + CARD_SPACED_GROUPS + ")");

    /**
     * The card pattern for {@code s}: {@link #CARD_SPACED} when {@code s} holds one of the separators only it reads (a
     * tab, or a dot or dash next to a blank), else {@link #CARD}. One pass over {@code s}, made only for text holding
     * a card's 13 digits.
     */
    static Pattern cardPattern(String s) {
        if (s.indexOf('\t') >= 0) {
            return CARD_SPACED;
        }
        for (int i = 1; i < s.length(); i++) {
            char a = s.charAt(i - 1);
            char b = s.charAt(i);
            if ((a == ' ' && (b == '.' || b == '-')) || (b == ' ' && (a == '.' || a == '-'))) {
                return CARD_SPACED;
            }
        }
        return CARD;
    }

    private SecretFinders() {
    }

    /**
     * A byte scan proving that no JSON/text rule can fire, so {@link Redactor#body} may return the bytes as they are: no
     * configured JSON paths or regexes, plain ASCII without escapes (raw bytes = decoded text), no '@' (emails), no escape
     * of one ({@code %40}, {@code %2540}, {@code &#64;}, {@code &#x40;}, either without its {@code ;}, {@code &commat;}),
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
        CharSequence text = new Latin1Text(body); // the body as text, one view for every check of the scan
        int digits = 0;
        int lastQuote = -1;
        int listKey = -1; // the closing quote of a "name", "key" or "header" followed by a ':', until its value is read
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
            if ((b == '%' || b == '&') && encodedAt(text, i)) {
                return false; // an email written with an escaped '@': jane%40example.com, jane&#64;example.com
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
            if (secretStartsAt(text, i)) {
                return false; // a JWT, a private key, credentials after Bearer or Basic, a vendor's token (secretAt)
            }
            if (b >= '0' && b <= '9' && ++digits >= 13 && redactor.rules.cards()) {
                return false;
            }
            if ((b == '=' || b == ':') && sensitiveNameBefore(redactor, body, text, i, url)) {
                return false; // password=..., token: ... (namedValue); a quoted name before a ':' is checked below
            }
            if (b == '"') {
                // {"name": "X-Api-Key", "value": ...}: the value is redacted by the name the string after "name": gives;
                // checked at the quote that closes the string after the one that closed "name"
                if (listKey >= 0 && listKey < lastQuote) {
                    if (listedValue(redactor, body, listKey, lastQuote, i)) {
                        return false;
                    }
                    listKey = -1;
                }
                if (lastQuote >= 0 && followedByColon(body, i + 1)) {
                    if (redactor.sensitive(new String(body, lastQuote + 1, i - lastQuote - 1, StandardCharsets.ISO_8859_1))) {
                        return false;
                    }
                    listKey = listKeyAt(body, lastQuote, i) ? i : listKey;
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
     * {@code token =abc}). {@code text} is {@code body} read one character per byte.
     */
    private static boolean sensitiveNameBefore(Redactor redactor, byte[] body, CharSequence text, int sep, boolean url) {
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

    /**
     * Whether the string {@code body(open, close)}, after the member name whose closing quote is at {@code keyClose},
     * is the value of {@code "name":} (or {@code "key":}, {@code "header":}) and names a header or field whose value is
     * redacted ({@link Redactor#listedName}).
     */
    private static boolean listedValue(Redactor redactor, byte[] body, int keyClose, int open, int close) {
        return onlyColonBetween(body, keyClose + 1, open)
                && redactor.listedName(new String(body, open + 1, close - open - 1, StandardCharsets.ISO_8859_1));
    }

    /** Whether {@code body[open + 1, close)} is {@code name}, {@code key} or {@code header}, in any case. */
    private static boolean listKeyAt(byte[] body, int open, int close) {
        int n = close - open - 1;
        return (n == 4 && keyAt(body, open + 1, "name")) || (n == 3 && keyAt(body, open + 1, "key"))
                || (n == 6 && keyAt(body, open + 1, "header"));
    }

    private static boolean keyAt(byte[] body, int from, String key) {
        for (int k = 0; k < key.length(); k++) {
            if ((body[from + k] | 0x20) != key.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code body[from, to)} is a {@code :} with blanks around it, as between a member's name and its value. */
    private static boolean onlyColonBetween(byte[] body, int from, int to) {
        boolean colon = false;
        for (int i = from; i < to; i++) {
            if (body[i] == ':' && !colon) {
                colon = true;
            } else if (!blank((char) body[i])) {
                return false;
            }
        }
        return colon;
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

    /**
     * The next secret written in a form of its own, whatever names it, in {@code s} at or after {@code from}, as
     * {start, end} of what is tokenised, or null: see {@link #secretAt}. One pass; each character is read a bounded
     * number of times.
     */
    static int[] knownSecret(CharSequence s, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 128 || !SECRET_START[c]) {
                continue; // no form starts with it: most characters cost one table look-up
            }
            int[] hit = secretAt(s, i);
            if (hit != null) {
                return hit;
            }
        }
        return null;
    }

    /**
     * Whether text of {@code length} characters may hold a {@link #knownSecret}: the shortest, {@code Basic} and the
     * four characters of a one-letter user's credentials, has 10.
     */
    static boolean mayHoldKnownSecret(CharSequence s) {
        return s.length() >= 10;
    }

    /**
     * A secret written in a form of its own that starts at {@code i}, as {start, end} of what is tokenised, or null.
     * Each form has a prefix or a shape that test data does not have by chance, so no opaque id or hash is taken
     * for one:
     * <ul>
     *   <li>a JWT (JWS or JWE, compact): {@code eyJ} and 7 or more base64url characters (a JSON header), then 2 to 4
     *       more segments after dots, one at least not empty;</li>
     *   <li>the content of a PEM private key ({@code -----BEGIN [RSA |EC |OPENSSH |ENCRYPTED |PGP ...]PRIVATE KEY[ BLOCK]-----}),
     *       up to its {@code -----END} line or the end of the text (a cut body), the armor lines kept;</li>
     *   <li>the credentials after {@code Bearer} or {@code Basic} (any case) and blanks: a bearer token of 8 or more
     *       token68 characters holding a digit, one of {@code -._~+/=} or an upper-case letter past its first (not a
     *       word: {@code bearer bonds}); basic credentials that decode from base64 to printable text holding a
     *       {@code :} ({@code user:pass}; not {@code basic idea});</li>
     *   <li>tokens with a vendor's prefix: AWS access key ids ({@code AKIA} or {@code ASIA} and 16 upper-case letters
     *       or digits), Google API keys ({@code AIza} and 35 characters), GitHub ({@code ghp_ gho_ ghu_ ghs_ ghr_}
     *       and 36 or more, {@code github_pat_} and 22 or more), GitLab ({@code glpat-} and 20 or more), Slack
     *       ({@code xoxb- xoxp- xoxa- xoxo- xoxr- xoxs-} and 10 or more), Stripe secret and restricted keys
     *       ({@code sk_live_ sk_test_ rk_live_ rk_test_} and 10 or more) and webhook secrets ({@code whsec_} and 20 or
     *       more), npm ({@code npm_} and 36).</li>
     * </ul>
     * Each but a private key starts a word: at the start of the text or after a character that is not a letter, a
     * digit, {@code -} or {@code _}.
     */
    static int[] secretAt(CharSequence s, int i) {
        char c = s.charAt(i);
        if (c == '-') {
            return privateKeyAt(s, i);
        }
        if (i > 0 && base64Url(s.charAt(i - 1))) {
            return null; // inside a word: and a run is read once, from its start
        }
        int end;
        switch (c) {
            case 'e' -> end = jwtAt(s, i);
            case 'B', 'b' -> {
                return credentialsAt(s, i);
            }
            case 'A' -> end = startsWith(s, i, "AKIA") || startsWith(s, i, "ASIA") ? exactly(s, i + 4, 16, SecretFinders::upperOrDigit)
                    : startsWith(s, i, "AIza") ? exactly(s, i + 4, 35, SecretFinders::base64Url) : -1;
            case 'g' -> end = (startsWith(s, i, "gh") && i + 3 < s.length() && "pousr".indexOf(s.charAt(i + 2)) >= 0 && s.charAt(i + 3) == '_')
                    ? atLeast(s, i + 4, 36, SecretFinders::letterOrDigit)
                    : startsWith(s, i, "github_pat_") ? atLeast(s, i + 11, 22, SecretFinders::wordChar)
                    : startsWith(s, i, "glpat-") ? atLeast(s, i + 6, 20, SecretFinders::base64Url) : -1;
            case 'x' -> end = startsWith(s, i, "xox") && i + 4 < s.length() && "bpaors".indexOf(s.charAt(i + 3)) >= 0 && s.charAt(i + 4) == '-'
                    ? atLeast(s, i + 5, 10, ch -> letterOrDigit(ch) || ch == '-') : -1;
            case 's', 'r' -> end = i + 1 < s.length() && s.charAt(i + 1) == 'k' && (startsWith(s, i + 2, "_live_") || startsWith(s, i + 2, "_test_"))
                    ? atLeast(s, i + 8, 10, SecretFinders::letterOrDigit) : -1;
            case 'w' -> end = startsWith(s, i, "whsec_") ? atLeast(s, i + 6, 20, SecretFinders::letterOrDigit) : -1;
            case 'n' -> end = startsWith(s, i, "npm_") ? exactly(s, i + 4, 36, SecretFinders::letterOrDigit) : -1;
            default -> end = -1;
        }
        return end < 0 ? null : new int[] {i, end};
    }

    /** Where a JWT starting at {@code i} ends ({@link #secretAt}), or -1. */
    private static int jwtAt(CharSequence s, int i) {
        if (!startsWith(s, i, "eyJ")) {
            return -1;
        }
        int end = run(s, i, SecretFinders::base64Url);
        if (end - i < 10) {
            return -1;
        }
        int dots = 0;
        boolean content = false;
        while (dots < 4 && end < s.length() && s.charAt(end) == '.') {
            int next = run(s, end + 1, SecretFinders::base64Url);
            content |= next > end + 1;
            dots++;
            end = next;
        }
        return dots >= 2 && content ? end : -1;
    }

    /**
     * The next password in a URL's user info in {@code s} at or after {@code from}, as {start, end}, or null: after
     * {@code scheme://}, any scheme ({@code postgres://app:pw@db}, {@code redis://:pw@cache},
     * {@code mongodb+srv://u:pw@c}, {@code https://u:pw@host} in a sentence), the text between the user's {@code :} and
     * the {@code @} that ends the user info (before any {@code / ? #}, blank or quote). A password that is already a
     * token is passed over.
     */
    static int[] userInfoPassword(String s, int from) {
        for (int k = s.indexOf("://", from); k >= 0; k = s.indexOf("://", k + 3)) {
            int scheme = k;
            while (scheme > from && k - scheme < 32 && schemeChar(s.charAt(scheme - 1))) {
                scheme--;
            }
            if (scheme == k || !letter(s.charAt(scheme))) {
                continue;
            }
            int colon = -1;
            int end = k + 3;
            while (end < s.length() && "/?#@ \t\r\n\"'<>\\".indexOf(s.charAt(end)) < 0) {
                colon = colon < 0 && s.charAt(end) == ':' ? end : colon;
                end++;
            }
            if (end < s.length() && s.charAt(end) == '@' && colon >= 0 && end > colon + 1
                    && !s.startsWith(RedactionTokens.PREFIX, colon + 1)) {
                return new int[] {colon + 1, end};
            }
        }
        return null;
    }

    private static boolean schemeChar(char c) {
        return letterOrDigit(c) || c == '+' || c == '-' || c == '.';
    }

    /** The first characters of the forms {@link #secretAt} finds, for the byte scan. */
    private static final boolean[] SECRET_START = new boolean[128];

    static {
        for (char c : "-eBbAgxsrwn".toCharArray()) {
            SECRET_START[c] = true;
        }
    }

    /**
     * Whether the byte scan must leave the body at {@code i} to the full path for {@link #secretAt}: where it finds a
     * secret, wherever a PEM header starts ({@code -----BEGIN}), and wherever a {@code Bearer} or {@code Basic} starting a word is followed by a blank or a {@code +}
     * (which a URL's query decodes to a blank), whatever follows: what the credentials after it are depends on
     * where the URL rules end a name or a value ({@code ?bearer+dXNlcjpwYXNz=x} holds the name
     * {@code bearer dXNlcjpwYXNz}).
     */
    private static boolean secretStartsAt(CharSequence s, int i) {
        char c = s.charAt(i);
        if (c >= 128 || !SECRET_START[c]) {
            return false;
        }
        if (c == '-') {
            return startsWith(s, i, "-----BEGIN"); // its header's blanks may be a URL's '+' (-----BEGIN+PRIVATE+KEY-----)
        }
        if (c == 'b' || c == 'B') {
            if (i > 0 && base64Url(s.charAt(i - 1))) {
                return false;
            }
            int after = startsWithIgnoreCase(s, i, "bearer") ? i + 6 : startsWithIgnoreCase(s, i, "basic") ? i + 5 : -1;
            return after > 0 && after < s.length() && (s.charAt(after) == ' ' || s.charAt(after) == '\t' || s.charAt(after) == '+');
        }
        return secretAt(s, i) != null;
    }

    /** The content of a PEM private key whose {@code -----BEGIN} line starts at {@code i} ({@link #secretAt}), or null. */
    private static int[] privateKeyAt(CharSequence s, int i) {
        if (!startsWith(s, i, "-----BEGIN ")) {
            return null;
        }
        int j = i + 11;
        int limit = Math.min(s.length(), j + 40);
        while (j < limit && ((s.charAt(j) >= 'A' && s.charAt(j) <= 'Z') || (s.charAt(j) >= '0' && s.charAt(j) <= '9') || s.charAt(j) == ' ')) {
            j++;
        }
        if (!startsWith(s, j, "-----") || !(endsWith(s, j, "PRIVATE KEY") || endsWith(s, j, "PRIVATE KEY BLOCK"))) {
            return null;
        }
        int start = j + 5;
        int end = indexOf(s, "-----END", start);
        end = end < 0 ? s.length() : end;
        return end > start ? new int[] {start, end} : null;
    }

    /**
     * The credentials after {@code Bearer} or {@code Basic} (any case) at {@code i} and blanks ({@link #secretAt}), as
     * {start, end}, or null.
     */
    private static int[] credentialsAt(CharSequence s, int i) {
        boolean bearer = startsWithIgnoreCase(s, i, "bearer");
        if (!bearer && !startsWithIgnoreCase(s, i, "basic")) {
            return null;
        }
        int start = i + (bearer ? 6 : 5);
        if (start >= s.length() || (s.charAt(start) != ' ' && s.charAt(start) != '\t')) {
            return null;
        }
        while (start < s.length() && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
            start++;
        }
        int end = run(s, start, SecretFinders::token68);
        while (end < s.length() && s.charAt(end) == '=') {
            end++;
        }
        if (startsWith(s, start, RedactionTokens.PREFIX) || (end < s.length() && letterOrDigit(s.charAt(end)))) {
            return null;
        }
        return (bearer ? bearerToken(s, start, end) : basicCredentials(s, start, end)) ? new int[] {start, end} : null;
    }

    /** Whether {@code [start, end)} reads as a bearer token rather than a word: see {@link #secretAt}. */
    private static boolean bearerToken(CharSequence s, int start, int end) {
        if (end - start < 8) {
            return false;
        }
        for (int k = start; k < end; k++) {
            char c = s.charAt(k);
            if ((c >= '0' && c <= '9') || "-._~+/=".indexOf(c) >= 0 || (k > start && c >= 'A' && c <= 'Z')) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code [start, end)} is base64 of printable text holding a {@code :}, as basic credentials are. */
    private static boolean basicCredentials(CharSequence s, int start, int end) {
        if (end - start < 4 || (end - start) % 4 != 0) {
            return false;
        }
        byte[] decoded;
        try {
            decoded = java.util.Base64.getDecoder().decode(s.subSequence(start, end).toString());
        } catch (IllegalArgumentException e) {
            return false;
        }
        boolean colon = false;
        for (byte b : decoded) {
            if (b >= 0 && b < 0x20 || b == 0x7f) {
                return false;
            }
            colon |= b == ':';
        }
        return colon;
    }

    /** Where the run of characters {@code accepted} from {@code i} on ends. */
    private static int run(CharSequence s, int i, java.util.function.IntPredicate accepted) {
        while (i < s.length() && accepted.test(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The end of a run of at least {@code min} characters {@code accepted} from {@code i} on, or -1. */
    private static int atLeast(CharSequence s, int i, int min, java.util.function.IntPredicate accepted) {
        int end = run(s, i, accepted);
        return end - i >= min ? end : -1;
    }

    /** The end of exactly {@code n} characters {@code accepted} from {@code i} on, not followed by a letter or digit, or -1. */
    private static int exactly(CharSequence s, int i, int n, java.util.function.IntPredicate accepted) {
        int end = i;
        while (end < s.length() && end - i < n && accepted.test(s.charAt(end))) {
            end++;
        }
        return end - i == n && (end == s.length() || !letterOrDigit(s.charAt(end))) ? end : -1;
    }

    private static boolean letterOrDigit(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private static boolean upperOrDigit(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private static boolean wordChar(int c) {
        return letterOrDigit(c) || c == '_';
    }

    private static boolean base64Url(int c) {
        return letterOrDigit(c) || c == '-' || c == '_';
    }

    /** A character of RFC 9110's token68, but {@code =}, which only ends one. */
    private static boolean token68(int c) {
        return letterOrDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    }

    private static boolean endsWith(CharSequence s, int end, String suffix) {
        return end >= suffix.length() && startsWith(s, end - suffix.length(), suffix);
    }

    private static boolean startsWithIgnoreCase(CharSequence s, int i, String lowerPrefix) {
        if (i + lowerPrefix.length() > s.length()) {
            return false;
        }
        for (int k = 0; k < lowerPrefix.length(); k++) {
            if (Character.toLowerCase(s.charAt(i + k)) != lowerPrefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(CharSequence s, String what, int from) {
        if (s instanceof String str) {
            return str.indexOf(what, from);
        }
        for (int i = from; i + what.length() <= s.length(); i++) {
            if (s.charAt(i) == what.charAt(0) && startsWith(s, i, what)) {
                return i;
            }
        }
        return -1;
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
     * token is passed over, and so is one whose separator or value reaches into XML {@code markup} (null for
     * none) that names rather than holds values: {@code <pwd:v>}, {@code xmlns:token="urn:t"}.
     */
    static int[] namedValue(Redactor redactor, String s, int from, boolean path, XmlRedaction.Markup markup) {
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
                // Authorization: Bearer abc: the credentials after an HTTP auth scheme, the scheme kept (as in a header)
                int credentials = end;
                while (credentials < s.length() && (s.charAt(credentials) == ' ' || s.charAt(credentials) == '\t')) {
                    credentials++;
                }
                if (credentials > end && credentials < s.length() && valueChar(s.charAt(credentials)) && authScheme(s, start, end)) {
                    start = credentials;
                    end = credentials;
                    while (end < s.length() && valueChar(s.charAt(end)) && !(path && (s.charAt(end) == '/' || s.charAt(end) == '?'))) {
                        end++;
                    }
                }
            }
            if (end > start && !s.startsWith(RedactionTokens.PREFIX, start) && (markup == null || !markup.overlaps(i, end))) {
                return new int[] {start, end};
            }
        }
        return null;
    }

    /** Whether {@code s[start, end)} is an HTTP authentication scheme that credentials follow ({@link #CREDENTIAL_VALUE}'s, but Digest). */
    private static boolean authScheme(String s, int start, int end) {
        String word = s.substring(start, end);
        return word.equalsIgnoreCase("bearer") || word.equalsIgnoreCase("basic") || word.equalsIgnoreCase("token")
                || word.equalsIgnoreCase("negotiate") || word.equalsIgnoreCase("apikey");
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
            if (start == at || (at - start == 16 && start >= RedactionTokens.PREFIX.length()
                    && s.startsWith(RedactionTokens.PREFIX, start - RedactionTokens.PREFIX.length()))) {
                continue; // no local part, or a token's hex digits: a URL's password tokenised before its host
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

    /**
     * Whether {@code s} may hold an address {@link #encodedEmails} finds, told in one pass without allocating: an
     * '@' written as an escape ({@link #encodedAt}), or a plain '@' in text that also holds an escape (an address whose
     * dots are encoded, {@code jane@example%2Ecom}). Most text holds neither a {@code %} nor a {@code &}.
     */
    static boolean mayHoldEncodedEmail(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('&') < 0) {
            return false;
        }
        boolean at = false;
        boolean escape = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '@') {
                at = true;
            } else if (c == '%' || c == '&') {
                int n = escapeLength(s, i);
                if (n > 0 && escaped(s, i, n) == '@') {
                    return true;
                }
                escape |= n > 0;
            }
        }
        return at && escape;
    }

    /**
     * Whether an escape at {@code i} stands for '@': {@code %40}, {@code %2540}, {@code &#64;}, {@code &#x40;} (also
     * without its {@code ;}) or {@code &commat;}.
     */
    static boolean encodedAt(CharSequence s, int i) {
        int n = escapeLength(s, i);
        return n > 0 && escaped(s, i, n) == '@';
    }

    /**
     * The email addresses of {@code s} written with escapes, as {start, end} in {@code s}: what {@link #email} finds in
     * the text with each escape read as the character it stands for, a percent escape ({@code %40}, any case of hex
     * digits: {@code %2e}, {@code %2E}; written twice, {@code %2540}; a UTF-8 sequence of them as its character), a
     * numeric character reference ({@code &#64;}, {@code &#x40;}, also without its {@code ;}: {@code &#64example.com})
     * or {@code &commat;} and {@code &period;}. The address so
     * starts and ends where its decoded text does ({@code to%20bob%40example.com%2C} holds {@code bob%40example.com}),
     * and {@link #decodeEscapes} of it is the address. One pass to decode, one {@link #email} scan.
     */
    static List<int[]> encodedEmails(String s) {
        StringBuilder view = new StringBuilder(s.length());
        int[] at = new int[s.length() + 1]; // where each character of the view starts in s
        for (int i = 0; i < s.length(); ) {
            int n = escapeLength(s, i);
            at[view.length()] = i;
            int c;
            if (n == 0) {
                c = s.charAt(i);
                n = 1;
            } else if (s.charAt(i) == '%') {
                int length = utf8Length(s, i);
                c = length == 0 ? 0xFFFD : utf8CodePoint(s, i, i + length);
                n = Math.max(length, n);
            } else {
                c = escaped(s, i, n);
            }
            view.append(c <= 0xFFFF ? (char) c : (char) 0xFFFD); // beyond the BMP: no address character
            i += n;
        }
        at[view.length()] = s.length();
        String decoded = view.toString();
        List<int[]> hits = new ArrayList<>(1);
        for (int[] hit = email(decoded, 0); hit != null; hit = email(decoded, hit[1])) {
            hits.add(new int[] {at[hit[0]], at[hit[1]]});
        }
        return hits;
    }

    /**
     * How many characters the percent escapes from {@code i} on (which holds one) that encode one character in UTF-8
     * take (1 to 4 escapes, each written once or twice), or 0 when they are malformed (a lone continuation byte, a
     * sequence cut short, overlong or a surrogate).
     */
    private static int utf8Length(CharSequence s, int i) {
        int b0 = escaped(s, i, escapeLength(s, i));
        int count = b0 < 0x80 ? 1 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
        if (count == 0) {
            return 0;
        }
        int end = i + escapeLength(s, i);
        for (int k = 1; k < count; k++) {
            int n = end < s.length() && s.charAt(end) == '%' ? escapeLength(s, end) : 0;
            if (n == 0 || (escaped(s, end, n) & 0xC0) != 0x80) {
                return 0;
            }
            end += n;
        }
        int cp = utf8CodePoint(s, i, end);
        boolean valid = switch (count) {
            case 3 -> cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
            case 4 -> cp >= 0x10000 && cp <= 0x10FFFF;
            default -> true;
        };
        return valid ? end - i : 0;
    }

    /** The code point the percent escapes of {@code [i, end)} encode, checked by {@link #utf8Length}. */
    private static int utf8CodePoint(CharSequence s, int i, int end) {
        int n = escapeLength(s, i);
        int b0 = escaped(s, i, n);
        int cp = b0 < 0x80 ? b0 : b0 < 0xE0 ? b0 & 0x1F : b0 < 0xF0 ? b0 & 0x0F : b0 & 0x07;
        for (int j = i + n; j < end; j += n) {
            n = escapeLength(s, j);
            cp = cp << 6 | (escaped(s, j, n) & 0x3F);
        }
        return cp;
    }

    /**
     * Text with the escapes {@link #encodedEmails} reads decoded: percent escapes as UTF-8 (a malformed sequence as
     * U+FFFD), those written twice ({@code %2540}) as the same, character references as the character they stand for;
     * the address an encoded one is tokenised as.
     */
    static String decodeEscapes(String s) {
        // the text between character references is percent-decoded as the redaction decodes paths and queries
        StringBuilder sb = new StringBuilder(s.length());
        int start = 0;
        for (int i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) {
            int length = escapeLength(s, i);
            if (length > 0) {
                int c = escaped(s, i, length);
                sb.append(PercentEncoding.percentDecode(encodedOnce(s.substring(start, i)), false))
                        .appendCodePoint(Character.isValidCodePoint(c) ? c : 0xFFFD);
                start = i + length;
                i = start - 1;
            }
        }
        return sb.append(PercentEncoding.percentDecode(encodedOnce(s.substring(start)), false)).toString();
    }

    /** {@code s} with each percent escape written twice ({@code %2540}) written once ({@code %40}), read from the left. */
    private static String encodedOnce(String s) {
        int i = s.indexOf("%25");
        if (i < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        int start = 0;
        for (; i >= 0; i = s.indexOf('%', i)) {
            int n = escapeLength(s, i);
            if (n == 5) {
                sb.append(s, start, i + 1); // the '%', then the two hex digits after its "25"
                start = i + 3;
            }
            i += Math.max(n, 1);
        }
        return sb.append(s, start, s.length()).toString();
    }

    /**
     * The length of the escape starting at {@code i}, or 0: {@code %} and two hex digits, or {@code %25} and two (the
     * escape written twice, {@code %2540}, standing for the same byte); {@code &#}, up to 7 decimal digits and
     * {@code ;}; {@code &#x} (or {@code &#X}), up to 6 hex digits and {@code ;}; either without its {@code ;}, as HTML
     * parsers read it ({@link #referenceWithoutSemicolon}); {@code &commat;} or {@code &period;}.
     */
    private static int escapeLength(CharSequence s, int i) {
        char c = s.charAt(i);
        if (c == '%') {
            if (!hexDigits(s, i + 1)) {
                return 0;
            }
            return s.charAt(i + 1) == '2' && s.charAt(i + 2) == '5' && hexDigits(s, i + 3) ? 5 : 3;
        }
        if (c != '&' || i + 1 >= s.length()) {
            return 0;
        }
        if (s.charAt(i + 1) != '#') {
            return startsWith(s, i, "&commat;") || startsWith(s, i, "&period;") ? 8 : 0;
        }
        int j = i + 2;
        boolean hex = j < s.length() && (s.charAt(j) == 'x' || s.charAt(j) == 'X');
        if (hex) {
            j++;
        }
        int digitsStart = j;
        while (j < s.length() && j - digitsStart < (hex ? 6 : 7) && Character.digit(s.charAt(j), hex ? 16 : 10) >= 0) {
            j++;
        }
        if (j == digitsStart) {
            return 0;
        }
        return j < s.length() && s.charAt(j) == ';' ? j + 1 - i : referenceWithoutSemicolon(s, digitsStart, j, hex) - i;
    }

    /**
     * Where a numeric character reference whose digits {@code [digitsStart, digitsEnd)} no {@code ;} follows ends:
     * after its digits, as HTML parsers read it ({@code jane&#64example.com}), except that one whose digits start with
     * the code of '@' ({@code 64}, {@code x40}, after leading zeros) ends after that code, the '@' the text is meant to
     * hold: a parser reads {@code jane&#x40example.com} as a reference to U+040E, its 'e' a fourth hexadecimal digit.
     */
    private static int referenceWithoutSemicolon(CharSequence s, int digitsStart, int digitsEnd, boolean hex) {
        int j = digitsStart;
        while (j < digitsEnd && s.charAt(j) == '0') {
            j++;
        }
        return j + 2 <= digitsEnd && s.charAt(j) == (hex ? '4' : '6') && s.charAt(j + 1) == (hex ? '0' : '4') ? j + 2 : digitsEnd;
    }

    /** Whether two hex digits start at {@code i}. */
    private static boolean hexDigits(CharSequence s, int i) {
        return i + 1 < s.length() && Character.digit(s.charAt(i), 16) >= 0 && Character.digit(s.charAt(i + 1), 16) >= 0;
    }

    /** The code point the escape of {@code length} characters at {@code i} stands for (a percent escape: its byte). */
    private static int escaped(CharSequence s, int i, int length) {
        if (s.charAt(i) == '%') {
            int digits = i + length - 2; // after a "%25" written twice
            return Character.digit(s.charAt(digits), 16) << 4 | Character.digit(s.charAt(digits + 1), 16);
        }
        if (s.charAt(i + 1) != '#') {
            return s.charAt(i + 1) == 'c' ? '@' : '.';
        }
        boolean hex = s.charAt(i + 2) == 'x' || s.charAt(i + 2) == 'X';
        int value = 0;
        int end = s.charAt(i + length - 1) == ';' ? i + length - 1 : i + length;
        for (int j = i + (hex ? 3 : 2); j < end; j++) {
            value = value * (hex ? 16 : 10) + Character.digit(s.charAt(j), hex ? 16 : 10);
        }
        return value;
    }

    private static boolean startsWith(CharSequence s, int i, String prefix) {
        if (i + prefix.length() > s.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (s.charAt(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
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

    /**
     * The card numbers among the digit groups of a card pattern's match ({@link #cardPattern}) {@code [start, end)} of {@code s} that is not
     * one itself (it took in a group that is not the card's: {@code qty 3 4111 1111 1111 1111}, or one after it), as
     * one span {start, end}: runs of whole groups of 3 digits or more each (as cards are printed: 4-4-4-4, 4-6-5,
     * 4-4-4-4-3, 4-3-3-3), 13 to 19 digits starting like a card and {@link #luhn}-valid. When several runs are, the
     * span covers them all ({@code 2024 4111 1111 1111 1111} may hold two), so no part of a card is left out. Null
     * when there is none; lists of short numbers ({@code 3 1 4 1 5 ...}) never hold one.
     */
    static int[] cardWithin(String s, int start, int end) {
        int from = -1;
        int to = -1;
        for (int a = start; a < end; a = nextGroup(s, a, end)) {
            char first = s.charAt(a);
            if (first < '2' || first > '6') {
                continue;
            }
            int digits = 0;
            int group = 0;
            for (int i = a; i < end; i++) {
                if (!isDigit(s.charAt(i))) {
                    group = 0;
                    continue;
                }
                digits++;
                group++;
                boolean groupEnds = i + 1 == end || !isDigit(s.charAt(i + 1));
                if (groupEnds && group < 3) {
                    break; // not a card's group: no run from a goes past it
                }
                if (groupEnds && digits >= 13 && digits <= 19 && luhn(s.substring(a, i + 1))) {
                    from = from < 0 ? a : from;
                    to = Math.max(to, i + 1);
                }
            }
        }
        return from < 0 ? null : new int[] {from, to};
    }

    /** Where the digit group after the one at {@code at} starts, within {@code [at, end)}; {@code end} if none. */
    static int nextGroup(String s, int at, int end) {
        int i = at;
        while (i < end && isDigit(s.charAt(i))) {
            i++;
        }
        while (i < end && !isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
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
