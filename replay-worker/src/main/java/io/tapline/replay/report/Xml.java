package io.tapline.replay.report;

import java.util.Locale;

/**
 * Escaping for XML and HTML text and attributes. A character that XML 1.0 cannot hold (a control character other
 * than tab, line feed and carriage return, U+FFFE, U+FFFF, a surrogate that is not half of a pair), and one that would
 * change how the text around it reads without being seen ({@link #shownAsCode}), is written as the text report writes
 * it: a backslash, {@code u} and four hex digits (NUL becomes backslash {@code u0000}, a right-to-left override
 * backslash {@code u202e}). Two values that differ only in such characters therefore read differently, in a page as
 * in a CI system's view of the JUnit report.
 */
final class Xml {

    private Xml() {
    }

    static String text(String s) {
        return escape(s, false);
    }

    static String attr(String s) {
        return escape(s, true);
    }

    /**
     * Whether {@code c} is shown as its code in every report rather than as itself: the control characters other than
     * tab, line feed and carriage return (below U+0020, U+007F, U+0080 to U+009F), the Unicode line and paragraph
     * separators, Unicode's bidirectional controls (Bidi_Control): the embeddings, overrides and isolates (U+202A to
     * U+202E, U+2066 to U+2069: a recorded right-to-left override would show {@code 21} as {@code 12}, and reverse the
     * text after it on its line) and the invisible marks (U+200E, U+200F, U+061C: a right-to-left mark before an
     * expected {@code 21} shows {@code 21 -> 12} as {@code 12 <- 21}), U+FFFE and U+FFFF. Tab, line feed, carriage
     * return and surrogates are the caller's to judge.
     */
    static boolean shownAsCode(char c) {
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029
                || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F
                || c == 0x061C || c == 0xFFFE || c == 0xFFFF;
    }

    /** Whether the character at {@code i} is a surrogate that is not half of a pair. */
    static boolean loneSurrogate(CharSequence s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        return Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
    }

    /** {@code c} as a backslash, {@code u} and four hex digits. */
    static String code(char c) {
        return String.format(Locale.ROOT, "\\u%04x", (int) c);
    }

    private static String escape(String s, boolean attribute) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append(attribute ? "&quot;" : "\"");
                case '\'' -> out.append(attribute ? "&#39;" : "'");
                case '\n' -> out.append(attribute ? "&#10;" : "\n");
                case '\r', '\t' -> out.append(attribute ? "&#" + (int) c + ";" : String.valueOf(c));
                default -> {
                    if (shownAsCode(c) || (Character.isSurrogate(c) && loneSurrogate(s, i))) {
                        out.append(code(c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
