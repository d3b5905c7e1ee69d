package io.tapline.json;

import io.tapline.text.ShownText;
import java.util.Map;

/** The content of a JSON string as RFC 8259 writes it. */
public final class JsonStrings {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** {@link #appendShown}'s short escapes, RFC 8259's; the other control characters are shown as codes. */
    private static final String[] SHOWN = ShownText.escapes(Map.of('"', "\\\"", '\\', "\\\\", '\n', "\\n",
            '\r', "\\r", '\t', "\\t"));

    private JsonStrings() {
    }

    /**
     * Appends {@code s} as the content of a JSON string, without its quotes: a quote, a backslash, a line feed, a
     * carriage return and a tab as their short escapes, any other control character as a backslash, {@code u} and
     * four hex digits; with {@code lineSeparators}, U+2028 and U+2029 that way too (JavaScript reads them as line
     * ends). Everything else as it is.
     */
    public static StringBuilder appendEscaped(StringBuilder out, CharSequence s, boolean lineSeparators) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || (lineSeparators && (c == 0x2028 || c == 0x2029))) {
                        out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF])
                                .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Appends {@code s} as the content of a JSON string, without its quotes, for a line a person may read raw (a log
     * line in {@code kubectl logs}): as {@link #appendEscaped} with line separators, and every other character
     * {@link ShownText#shownAsCode} names as a backslash, {@code u} and four hex digits too (the bidirectional
     * controls, the characters drawn as nothing, U+007F to U+009F, a surrogate that is not half of a pair; a
     * character outside the Basic Multilingual Plane as its two halves). Those escapes read back as the same string,
     * so nothing is lost, and the line seen raw neither reorders nor hides a character. Printable ASCII is copied by
     * runs: one scan, no allocation.
     */
    public static StringBuilder appendShown(StringBuilder out, CharSequence s) {
        return ShownText.append(out, s, SHOWN);
    }
}
