package io.tapline.http;

import java.util.Locale;

/**
 * An {@code http://} or {@code https://} URL read the way an HTTP proxy reads one (RFC 9110 §4.2, RFC 3986 §3.2):
 * the sidecar's {@code --app} and {@code --egress} URLs and the absolute-form targets its egress listener forwards
 * (and those its inbound listener takes in place of the {@code Host} line, {@link #parseNaming}), the replay's
 * {@code --target} and {@code --mock-route} URLs and the calls its mock server answers. Every component reads them
 * here, so the destination the sidecar records is the one the replay matches.
 *
 * <p>{@link java.net.URI} follows RFC 2396, whose host names may not contain {@code _}: it finds no host in
 * {@code http://inventory_svc:8080/}, a name that Docker Compose and most resolvers serve. This reads RFC 3986's
 * {@code reg-name} instead. Path and query are kept byte for byte as written, undecoded, since a proxy forwards what
 * it was sent ({@code |} and <code>{</code> included); a fragment is dropped, as it never reaches a server.
 */
public final class HttpUrl {

    private final String text;
    private final String scheme;
    private final String host;
    private final int port;
    private final boolean portGiven;
    private final String rawPath;
    private final String rawQuery;

    private HttpUrl(String text, String scheme, String host, int port, boolean portGiven, String rawPath, String rawQuery) {
        this.text = text;
        this.scheme = scheme;
        this.host = host;
        this.port = port;
        this.portGiven = portGiven;
        this.rawPath = rawPath;
        this.rawQuery = rawQuery;
    }

    /**
     * {@code text} as it may be quoted in a message: a user info before a host ({@code http://user:password@host},
     * {@code user:password@host}) is shown as {@code [hidden]}, so an error about a URL given with credentials does
     * not write them to a console or a CI log. It ends at the text's last {@code @}, as a registry URL's credentials do
     * ({@code RegistryConfig}): a password pasted with an unencoded {@code /}, {@code ?} or {@code #}
     * ({@code http://svc:Zm9v/YmFy@host}) reads as a path, and was shown whole. An {@code @} that is a path's or a
     * query's hides what comes before it too: a message about a URL may say less, never a password.
     */
    public static String shown(String text) {
        if (text == null) {
            return null;
        }
        int sep = text.indexOf("://");
        int start = sep < 0 ? 0 : sep + 3;
        int at = text.lastIndexOf('@');
        return at < start ? text : text.substring(0, start) + "[hidden]" + text.substring(at);
    }

    /**
     * Reads {@code scheme://host[:port][path][?query][#fragment]}.
     *
     * @throws IllegalArgumentException naming what is wrong: not http or https, user info ({@code user@host}, which
     *                                  RFC 9110 §4.2.4 deprecates, since it is used to disguise the host), an empty or
     *                                  invalid host, a port outside 1–65535, or a space or control character
     */
    public static HttpUrl parse(String text) {
        return parse(text, 1);
    }

    /**
     * Reads an absolute-form request target whose authority only names the host the request is for, in place of the
     * {@code Host} line (RFC 9112 §3.2.2), and is never connected to: a reverse proxy's (the sidecar's inbound
     * listener). As {@link #parse}, but a port of value 0 is taken ({@code http://h:0/p}, {@code http://h:00/p}), as
     * the {@code Host} line's is, so that one authority is read alike in both. A URL that is connected to (a forward
     * proxy's target, a configured URL) is read by {@link #parse}, which refuses port 0: there is nothing to connect to.
     *
     * @throws IllegalArgumentException as {@link #parse}, for a port outside 0–65535
     */
    public static HttpUrl parseNaming(String text) {
        return parse(text, 0);
    }

    /** @param minPort the lowest port taken: 1, or 0 for a target that only names ({@link #parseNaming}) */
    private static HttpUrl parse(String text, int minPort) {
        int sep = text.indexOf("://");
        String scheme = sep < 0 ? "" : text.substring(0, sep).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("not an http:// or https:// URL");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                throw new IllegalArgumentException("a space or control character at index " + i);
            }
        }
        int start = sep + 3;
        int end = start;
        while (end < text.length() && "/?#".indexOf(text.charAt(end)) < 0) {
            end++;
        }
        String authority = text.substring(start, end);
        if (authority.indexOf('@') >= 0) {
            throw new IllegalArgumentException("user info (user@host) is not allowed in an http URL");
        }
        int portColon = authority.startsWith("[") ? authority.indexOf(':', Math.max(authority.indexOf(']'), 0))
                : authority.indexOf(':');
        String host = portColon < 0 ? authority : authority.substring(0, portColon);
        // An '@' after the authority may end a user name and password written with an unencoded '/', '?' or '#'
        // (http://user:pa/ss@host): what reads as host and port is then theirs, and is not quoted (see shown).
        boolean mayBeUserInfo = text.indexOf('@', end) >= 0;
        String literalProblem = host.startsWith("[") && host.endsWith("]") ? ipLiteralProblem(host) : null;
        if (literalProblem != null || !validHost(host)) {
            throw new IllegalArgumentException(host.isEmpty() ? "no host"
                    : mayBeUserInfo ? unquoted("invalid host") : "invalid host '" + host + "'"
                    + (literalProblem == null ? "" : ": " + literalProblem));
        }
        String portText = portColon < 0 ? "" : authority.substring(portColon + 1);
        int port;
        try {
            port = portText.isEmpty() ? (scheme.equals("https") ? 443 : 80) : port(portText, minPort);
        } catch (IllegalArgumentException e) {
            throw mayBeUserInfo ? new IllegalArgumentException(unquoted("the port is not a number " + minPort + "-65535"))
                    : e;
        }
        String rest = text.substring(end);
        int hash = rest.indexOf('#');
        if (hash >= 0) {
            rest = rest.substring(0, hash);
        }
        int q = rest.indexOf('?');
        return new HttpUrl(text, scheme, host, port, !portText.isEmpty(), q < 0 ? rest : rest.substring(0, q),
                q < 0 ? null : rest.substring(q + 1));
    }

    /** A refusal of a host or port that may be a password's start, said without it. */
    private static String unquoted(String what) {
        return what + " (not quoted: an '@' after it may end a user name and password; characters '/', '?', '#' and "
                + "'@' in them must be percent-encoded: %2F, %3F, %23, %40)";
    }

    /**
     * The port {@code text} writes: digits only ({@code port = *DIGIT}, RFC 3986 §3.2.3), read by their value,
     * {@code minPort}–65535, with leading zeros of any length ({@code 042017}, {@code 000080}), as Vert.x reads the
     * {@code Host} line's port and nginx takes both. The work is bounded: the zeros are skipped, then at most five
     * digits are read; a refusal quotes at most the first {@link #QUOTED_PORT} characters.
     */
    private static int port(String text, int minPort) {
        int n = text.length();
        int i = 0;
        while (i < n && text.charAt(i) == '0') {
            i++;
        }
        int port = 0;
        for (int digits = 0; i < n; i++, digits++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9' || digits == 5) {
                throw portRefused(text, minPort);
            }
            port = port * 10 + (c - '0');
        }
        if (port < minPort || port > 65535) {
            throw portRefused(text, minPort);
        }
        return port;
    }

    /** How much of a refused port a message quotes. */
    static final int QUOTED_PORT = 16;

    private static IllegalArgumentException portRefused(String text, int minPort) {
        String quoted = text.length() <= QUOTED_PORT ? text : text.substring(0, QUOTED_PORT) + "...";
        return new IllegalArgumentException("port '" + quoted + "' is not a number " + minPort + "-65535");
    }

    /**
     * An IP literal ({@code [::1]}, {@link #ipLiteralProblem}) or a registered name / IPv4 address of unreserved
     * characters, sub-delims and percent-escapes (RFC 3986 §3.2.2); not empty, and without {@code ..} (an empty label,
     * which nginx refuses too).
     */
    private static boolean validHost(String host) {
        if (host.isEmpty() || host.contains("..")) {
            return false;
        }
        if (host.startsWith("[")) {
            return ipLiteralProblem(host) == null;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~';
            if (c == '%') {
                if (i + 2 >= host.length() || Character.digit(host.charAt(i + 1), 16) < 0
                        || Character.digit(host.charAt(i + 2), 16) < 0) {
                    return false;
                }
                i += 2;
            } else if (!unreserved && "!$&'()*+,;=".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why {@code literal}, a host written in brackets, is no IP literal this reads, or null when it is one: an
     * {@code IPv6address} as RFC 3986 §3.2.2 spells it, 8 groups of 1–4 hex digits, one {@code ::} standing for one or
     * more of them, the last two of which may be written as an IPv4 address ({@code [::ffff:127.0.0.1]}, its
     * {@code ls32}). Not taken: an {@code IPvFuture} ({@code [v1.x]}), which no resolver or client dials, and a zone
     * identifier ({@code [fe80::1%25eth0]}, RFC 6874), which names an interface of the machine that wrote the URL. A
     * parser of text alone: nothing is looked up.
     */
    public static String ipLiteralProblem(String literal) {
        if (literal.length() < 2 || literal.charAt(0) != '[' || literal.charAt(literal.length() - 1) != ']') {
            return "not in brackets";
        }
        String address = literal.substring(1, literal.length() - 1);
        if (address.length() > 1 && (address.charAt(0) == 'v' || address.charAt(0) == 'V')) {
            return "an IPvFuture literal is not supported";
        }
        if (address.indexOf('%') >= 0) {
            return "a zone identifier (%25) is not supported";
        }
        return groups(address) != null ? null : "not an IPv6 address";
    }

    /**
     * The eight 16-bit groups of the IPv6 address {@code literal} writes in brackets ({@code [::ffff:127.0.0.1]} is
     * 0, 0, 0, 0, 0, 0xffff, 0x7f00, 0x0001), or null when it is no IP literal {@link #ipLiteralProblem} takes. A
     * parser of text alone: nothing is looked up.
     */
    public static int[] ipv6Groups(String literal) {
        return ipLiteralProblem(literal) != null ? null : groups(literal.substring(1, literal.length() - 1));
    }

    /**
     * The eight groups of {@code s} if it is an RFC 3986 {@code IPv6address} (see {@link #ipLiteralProblem}), else
     * null.
     */
    private static int[] groups(String s) {
        int n = s.length();
        int[] groups = new int[8];
        int count = 0;
        int gap = -1; // where '::' stands among the groups
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (n == 0 || s.charAt(0) == ':') {
            return null;
        }
        while (i < n) {
            int start = i;
            int value = 0;
            while (i < n && Character.digit(s.charAt(i), 16) >= 0) {
                value = value * 16 + Character.digit(s.charAt(i), 16);
                i++;
            }
            if (i < n && s.charAt(i) == '.') {
                // the last 32 bits written as an IPv4 address (ls32): two groups, and nothing after it
                long ipv4 = ipv4Address(s, start, n);
                if (ipv4 < 0 || count > 6) {
                    return null;
                }
                groups[count++] = (int) (ipv4 >>> 16);
                groups[count++] = (int) (ipv4 & 0xffff);
                break;
            }
            if (i == start || i - start > 4 || count == 8) {
                return null;
            }
            groups[count++] = value;
            if (i == n) {
                break;
            }
            if (s.charAt(i) != ':' || ++i == n) {
                return null; // another character, or a single ':' at the end
            }
            if (s.charAt(i) == ':') {
                if (gap >= 0) {
                    return null; // a second '::'
                }
                gap = count;
                i++;
            }
        }
        if (gap < 0) {
            return count == 8 ? groups : null;
        }
        if (count > 7) {
            return null; // '::' stands for one group at least
        }
        int after = count - gap;
        System.arraycopy(groups, gap, groups, 8 - after, after);
        java.util.Arrays.fill(groups, gap, 8 - after, 0);
        return groups;
    }

    /**
     * The 32 bits of {@code s[from, to)} if it is an RFC 3986 {@code IPv4address} (four decimal octets, none with a
     * leading 0), else -1.
     */
    private static long ipv4Address(String s, int from, int to) {
        long address = 0;
        int octets = 0;
        int i = from;
        while (true) {
            int start = i;
            int value = 0;
            while (i < to && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                value = value * 10 + (s.charAt(i) - '0');
                i++;
            }
            if (i == start || value > 255 || (i - start > 1 && s.charAt(start) == '0')) {
                return -1;
            }
            address = address << 8 | value;
            octets++;
            if (i == to) {
                return octets == 4 ? address : -1;
            }
            if (s.charAt(i) != '.' || octets == 4) {
                return -1;
            }
            i++;
        }
    }

    /**
     * {@link #baseUrlProblem} as the clause a refusal quotes after the value: the problem itself when it says what the
     * URL has ({@code has a fragment ...}), else {@code is not WHAT: PROBLEM}; null when nothing keeps it from being a
     * base URL.
     *
     * @param what what the URL is meant to be, e.g. {@code a candidate URL}
     */
    public String baseUrlRefusal(String what) {
        String problem = baseUrlProblem();
        return problem == null ? null : problem.startsWith("has ") ? problem : "is not " + what + ": " + problem;
    }

    /**
     * What keeps this URL from being a base URL that requests are sent under (replay's {@code --target}, a
     * {@code --mock-route}, the sidecar's {@code --app} and {@code --egress} URLs, each {@code --schema-registry-url}),
     * or null when nothing does. {@link #parse} takes what a proxy must forward as it was sent; a base URL an operator
     * writes is held to what a client can send and a resolver can look up:
     * <ul>
     * <li>printable ASCII only: a character such as a right-to-left override (U+202E), a zero-width space (U+200B), a
     * byte order mark (U+FEFF) or a C1 control in the path is named with the UTF-8 percent-encoding that writes it;</li>
     * <li>no query and no fragment: a base path is followed by each request's own path and query;</li>
     * <li>no {@code @} in the path (written {@code %40}): one there may end a user name and password written with an
     * unencoded {@code /} ({@code http://ci:1234/5678@candidate} reads as host {@code ci}, port 1234), which the URL,
     * shown in messages, progress lines and reports, would show;</li>
     * <li>a {@code %} followed by two hex digits, as a percent-escape is;</li>
     * <li>a host that is a name of letters, digits, {@code -}, {@code .} and {@code _} (a Docker Compose service name),
     * an IPv4 address or a bracketed IPv6 address: the other characters RFC 3986 lets a host hold
     * ({@code ! $ & ' ( ) * + , ; = ~ %}) name no host a resolver looks up.</li>
     * </ul>
     */
    public String baseUrlProblem() {
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            if (c > 0x7e) {
                StringBuilder escaped = new StringBuilder();
                for (byte b : new String(Character.toChars(c)).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    escaped.append(String.format(Locale.ROOT, "%%%02X", b & 0xff));
                }
                return String.format(Locale.ROOT, "character U+%04X at index %d is not printable ASCII (percent-encoded as"
                        + " UTF-8, it is %s)", c, i, escaped);
            }
            i += Character.charCount(c);
        }
        if (rawQuery != null) {
            return "has a query";
        }
        int hash = text.indexOf('#');
        if (hash >= 0) {
            return "has a fragment ('" + text.substring(hash) + "'), which never reaches a server";
        }
        if (rawPath.indexOf('@') >= 0) {
            // http://ci:1234/5678@candidate parses as host ci, port 1234 and a path holding the rest of a password
            // written with an unencoded '/': taken, it was shown whole wherever the URL is (progress lines, reports).
            // Not quoted, for the same reason.
            return "has an '@' in its path, which may end a user name and password written with an unencoded '/', '?'"
                    + " or '#' (a URL here takes no credentials); write an '@' of the path as %40";
        }
        for (int i = rawPath.indexOf('%'); i >= 0; i = rawPath.indexOf('%', i + 1)) {
            if (i + 2 >= rawPath.length() || Character.digit(rawPath.charAt(i + 1), 16) < 0
                    || Character.digit(rawPath.charAt(i + 2), 16) < 0) {
                return "'" + rawPath.substring(i, Math.min(rawPath.length(), i + 3)) + "' in the path is not a percent-escape"
                        + " (% and two hex digits; %25 is a %)";
            }
        }
        if (!host.startsWith("[") && !host.matches("[A-Za-z0-9._-]+")) {
            return "host '" + host + "' is not a host name (letters, digits, '-', '.', '_') or an IP address";
        }
        return null;
    }

    /** {@code http} or {@code https}, lower case. */
    public String scheme() {
        return scheme;
    }

    /** The host as written (case kept), an IPv6 literal with its brackets. */
    public String host() {
        return host;
    }

    /** The port: the one written, else the scheme's (80 or 443). */
    public int port() {
        return port;
    }

    /** Whether the URL names its port. */
    public boolean portGiven() {
        return portGiven;
    }

    /**
     * {@code host:port}, the port always present, the host in lower case: how a captured outbound call names its
     * destination, and how the replay's mock names the call it matches against it. A host is case-insensitive (RFC 3986
     * §3.2.2, RFC 9110 §4.2.3): {@code LOCALHOST:8080} is the dependency {@code localhost:8080} is, and one destination
     * keeps it one dependency in a case's signature. A trailing dot is kept ({@code localhost.:8080}): an absolute name,
     * which a server may tell apart (virtual hosts, certificates). The dependency itself gets the host as written
     * ({@link #host}).
     */
    public String authority() {
        return host.toLowerCase(Locale.ROOT) + ":" + port;
    }

    /** The path as written, undecoded; {@code ""} when there is none ({@code http://h}, {@code http://h?q}). */
    public String rawPath() {
        return rawPath;
    }

    /** The query as written, undecoded, without its {@code ?}; null when there is none. */
    public String rawQuery() {
        return rawQuery;
    }

    /** The origin-form request target: the path ({@code /} when empty), then {@code ?query} if there is one. */
    public String pathAndQuery() {
        return (rawPath.isEmpty() ? "/" : rawPath) + (rawQuery == null ? "" : "?" + rawQuery);
    }

    /**
     * The path a base URL puts in front of the paths requested through it: the raw path without one trailing
     * {@code /} ({@code ""} for {@code http://pay:8080} and {@code http://pay:8080/}, {@code /api} for
     * {@code http://pay:8080/api} and {@code http://pay:8080/api/}).
     */
    public String basePath() {
        return rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
    }

    /** The URL as it was given. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HttpUrl other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
