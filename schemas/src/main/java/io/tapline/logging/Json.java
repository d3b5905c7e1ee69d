package io.tapline.logging;

import io.tapline.json.JsonStrings;

/**
 * The little JSON a log line needs: numbers and booleans as literals, strings escaped per RFC 8259 and, as a line may
 * be read raw in a terminal, with the characters {@link io.tapline.text.ShownText} shows as codes escaped too
 * ({@link JsonStrings#appendShown}).
 */
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
        JsonStrings.appendShown(out, s);
        out.append('"');
    }
}
