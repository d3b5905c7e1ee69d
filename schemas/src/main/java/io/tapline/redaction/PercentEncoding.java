package io.tapline.redaction;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Percent-encoding as the redaction reads and writes query strings, form bodies and path segments. */
public final class PercentEncoding {

    private PercentEncoding() {
    }

    static String formEncode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("%3A", ":");
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
    static String percentDecode(String s, boolean plusIsSpace) {
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
    static String encodePathSegment(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if (SecretFinders.domainLabel(c) || "-._~!$&'()*+,;=:@".indexOf(c) >= 0) {
                sb.append(c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return sb.toString();
    }
}
