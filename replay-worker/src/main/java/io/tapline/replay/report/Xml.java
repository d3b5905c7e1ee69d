package io.tapline.replay.report;

import io.tapline.text.ShownText;
import java.util.Map;

/**
 * Escaping for XML and HTML text and attributes. A character that XML 1.0 cannot hold (a control character other
 * than tab, line feed and carriage return, U+FFFE, U+FFFF, a surrogate that is not half of a pair), one that would
 * change how the text around it reads, and one that is drawn as nothing ({@link ShownText#shownAsCode}), is written as
 * the text report writes it: a backslash, {@code u} and four hex digits (NUL becomes backslash {@code u0000}, a
 * right-to-left override backslash {@code u202e}, a zero-width space backslash {@code u200b}). Two values that differ
 * only in such characters therefore read differently, in a page as in a CI system's view of the JUnit report.
 */
final class Xml {

    /** Text: the three characters markup reads; tab, line feed and carriage return as they are. */
    private static final String[] TEXT = ShownText.escapes(Map.of('&', "&amp;", '<', "&lt;", '>', "&gt;"));
    /** Attributes: quotes too, and the white space an attribute value's normalisation would turn into spaces. */
    private static final String[] ATTRIBUTE = ShownText.escapes(Map.of('&', "&amp;", '<', "&lt;", '>', "&gt;",
            '"', "&quot;", '\'', "&#39;", '\n', "&#10;", '\r', "&#13;", '\t', "&#9;"));

    private Xml() {
    }

    static String text(String s) {
        return escape(s, TEXT);
    }

    static String attr(String s) {
        return escape(s, ATTRIBUTE);
    }

    private static String escape(String s, String[] escapes) {
        return s == null ? "" : ShownText.append(new StringBuilder(s.length()), s, escapes).toString();
    }
}
