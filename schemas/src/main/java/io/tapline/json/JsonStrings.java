package io.tapline.json;

/** The content of a JSON string as RFC 8259 writes it. */
public final class JsonStrings {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

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
}
