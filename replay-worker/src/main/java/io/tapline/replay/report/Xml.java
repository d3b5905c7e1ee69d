package io.tapline.replay.report;

import io.tapline.text.ShownText;

/**
 * Escaping for XML and HTML text and attributes. A character that XML 1.0 cannot hold (a control character other
 * than tab, line feed and carriage return, U+FFFE, U+FFFF, a surrogate that is not half of a pair), one that would
 * change how the text around it reads, and one that is drawn as nothing ({@link ShownText#shownAsCode}), is written as
 * the text report writes it: a backslash, {@code u} and four hex digits (NUL becomes backslash {@code u0000}, a
 * right-to-left override backslash {@code u202e}, a zero-width space backslash {@code u200b}). Two values that differ
 * only in such characters therefore read differently, in a page as in a CI system's view of the JUnit report.
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

    private static String escape(String s, boolean attribute) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        // by code point: a surrogate met alone is not half of a pair
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append(attribute ? "&quot;" : "\"");
                case '\'' -> out.append(attribute ? "&#39;" : "'");
                case '\n' -> out.append(attribute ? "&#10;" : "\n");
                case '\r', '\t' -> out.append(attribute ? "&#" + c + ";" : String.valueOf((char) c));
                default -> {
                    if (ShownText.shownAsCode(c)) {
                        ShownText.appendCode(out, c);
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
            i += Character.charCount(c);
        }
        return out.toString();
    }
}
