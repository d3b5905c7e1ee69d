package io.tapline.replay.report;

/**
 * Escaping for XML and HTML text and attributes. Characters that XML 1.0 cannot hold are dropped: control characters
 * other than tab, line feed and carriage return, U+FFFE, U+FFFF and a surrogate that is not half of a pair.
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
                    if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        out.append(c).append(s.charAt(++i));
                    } else if (c >= 0x20 && c != 0xFFFE && c != 0xFFFF && !Character.isSurrogate(c)) {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
