package io.tapline.redaction;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.TreeMap;

/**
 * Canonical JSON (members sorted by name at every depth) and the text a JSON value is tokenised as; also the JSON
 * mapper and whole-value reader the redaction parses with (a tree written out again is read by {@link WrittenJson}).
 */
public final class CanonicalJson {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Reads text that must be one JSON value and nothing after it ({@code 4111 1111 1111 1111} is not the number 4111). */
    static final ObjectReader WHOLE_JSON = JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CanonicalJson() {
    }

    /**
     * What a JSON value is tokenised as: a string's content, an object or array as {@link #of(JsonNode)} (so the
     * order its members came in does not change the token), any other value as its JSON. A number is tokenised as
     * the node it reads as ({@link #asRead}): a body's {@code 1e2} as {@code 100.0}, as the capture always has.
     */
    public static String tokenText(JsonNode value) {
        if (value.isTextual()) {
            return value.textValue();
        }
        return value.isContainerNode() ? of(value) : asRead(value).toString();
    }

    /**
     * The node a value reads as: for a number kept as it was written ({@link WrittenNumber}) the node Jackson reads it
     * as by default (a double for one with a fraction or an exponent), else the value itself.
     */
    static JsonNode asRead(JsonNode value) {
        return value instanceof WrittenNumber n ? n.read() : value;
    }

    /**
     * Compact JSON with every object's members sorted by name, at every depth; array elements keep their order.
     * Numbers as they read ({@link #asRead}), not as they were written.
     */
    public static String of(JsonNode value) {
        return sorted(value).toString();
    }

    /** {@link #of(JsonNode)} of text holding one JSON object or array; null for any other text. */
    public static String of(String text) {
        JsonNode n = whole(text, "{[");
        return n != null && n.isContainerNode() ? of(n) : null;
    }

    /** {@code text} read as one JSON value when it starts with one of {@code firstChars}; else, or unreadable, null. */
    private static JsonNode whole(String text, String firstChars) {
        if (text.isEmpty() || firstChars.indexOf(text.charAt(0)) < 0) {
            return null;
        }
        try {
            return WHOLE_JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = JSON.getNodeFactory().objectNode();
            TreeMap<String, JsonNode> members = new TreeMap<>();
            node.fields().forEachRemaining(m -> members.put(m.getKey(), m.getValue()));
            members.forEach((name, v) -> out.set(name, sorted(v)));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JSON.getNodeFactory().arrayNode(node.size());
            node.forEach(v -> out.add(sorted(v)));
            return out;
        }
        return asRead(node);
    }

    /**
     * The token text of {@code json} when it is one JSON number, as the capture tokenises a number it reads in a body
     * ({@code 1.50} as {@code 1.5}, {@code 1e2} as {@code 100.0}: see {@link #tokenText}); null for any other text.
     */
    public static String numberTokenText(String json) {
        JsonNode n = whole(json, "-0123456789");
        return n != null && n.isNumber() ? tokenText(n) : null;
    }

    /** A rendered JSON value's token text (see {@link #tokenText}), or the rendering itself when it does not parse (cut). */
    static String textOf(String rendered) {
        try {
            JsonNode n = WHOLE_JSON.readTree(rendered);
            if (n != null && !n.isMissingNode()) {
                return tokenText(n);
            }
        } catch (IOException e) {
            // cut for display: the rendering as it is
        }
        return rendered;
    }
}
