package io.tapline.logging;

import io.tapline.json.JsonStrings;

/** The little JSON a log line needs: strings escaped per RFC 8259, numbers and booleans as literals. */
final class Json {

    private Json() {
    }

    static void value(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean
                || (value instanceof Number n && !(n instanceof Double d && !Double.isFinite(d))
                        && !(n instanceof Float f && !Float.isFinite(f)))) {
            out.append(value);
        } else {
            string(out, value.toString());
        }
    }

    static void string(StringBuilder out, String s) {
        if (s == null) {
            out.append("null");
            return;
        }
        out.append('"');
        JsonStrings.appendEscaped(out, s, true);
        out.append('"');
    }
}
