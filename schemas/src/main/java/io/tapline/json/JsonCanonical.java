package io.tapline.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A JSON value as text equal for values the replay worker's structural comparison finds equal, and only for those:
 * object members sorted by name (their order is no difference), numbers by their decimal value ({@code 10},
 * {@code 10.0} and {@code 1e1} alike, written with an exponent rather than digit by digit, so {@code 1e999999999}
 * stays short), strings quoted (so {@code "1"} and {@code 1} differ), array elements in order. The replay worker
 * compares arrays whose order is ignored by it; dedup-stream compares values nested too deep to flatten by it.
 */
public final class JsonCanonical {

    private JsonCanonical() {
    }

    public static String of(JsonNode node) {
        StringBuilder out = new StringBuilder();
        append(node, out);
        return out.toString();
    }

    public static void append(JsonNode node, StringBuilder out) {
        if (node.isObject()) {
            List<String> names = new ArrayList<>(node.size());
            node.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            out.append('{');
            for (String name : names) {
                out.append(TextNode.valueOf(name)).append(':');
                append(node.get(name), out);
                out.append(',');
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (JsonNode element : node) {
                append(element, out);
                out.append(',');
            }
            out.append(']');
        } else if (node.isNumber()) {
            out.append(node.decimalValue().stripTrailingZeros());
        } else {
            out.append(node); // a string quoted and escaped; true, false, null
        }
    }
}
