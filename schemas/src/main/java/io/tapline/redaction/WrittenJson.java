package io.tapline.redaction;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayDeque;

/**
 * Reads JSON that is written out again after redaction (a body, a value a replay result shows): one JSON value and
 * nothing after it, into the tree {@link CanonicalJson#WHOLE_JSON} reads, except that a number with a fraction or an
 * exponent, and {@code -0}, is a {@link WrittenNumber}: the same value to the redaction, its own text when written
 * out. The other readers of {@code WHOLE_JSON} (canonical JSON for tokens, values tokenised by path) are left as they
 * are, so no token changes. A loop over the parser's tokens, no recursion: nesting is bounded by the parser's limits.
 */
final class WrittenJson {

    private static final JsonNodeFactory NODES = CanonicalJson.JSON.getNodeFactory();

    private WrittenJson() {
    }

    /** The value in {@code json}; a missing node when it holds none (whitespace only). */
    static JsonNode read(byte[] json) throws IOException {
        return read(CanonicalJson.JSON.getFactory().createParser(json));
    }

    /** The value in {@code json}; a missing node when it holds none (whitespace only). */
    static JsonNode read(String json) throws IOException {
        return read(CanonicalJson.JSON.getFactory().createParser(json));
    }

    private static JsonNode read(JsonParser parser) throws IOException {
        try (JsonParser p = parser) {
            ArrayDeque<ContainerNode<?>> open = new ArrayDeque<>();
            JsonNode root = null;
            String name = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    name = p.currentName();
                    continue;
                }
                if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                    open.pop();
                } else {
                    JsonNode value = value(p, t);
                    ContainerNode<?> parent = open.peek();
                    if (parent == null) {
                        root = value;
                    } else if (parent instanceof ObjectNode o) {
                        o.set(name, value); // a repeated name: the last value, in the first one's place, as Jackson reads it
                    } else {
                        ((ArrayNode) parent).add(value);
                    }
                    if (value instanceof ContainerNode<?> c) {
                        open.push(c);
                    }
                }
                if (open.isEmpty()) {
                    if (p.nextToken() != null) {
                        throw new JsonParseException(p, "content after the JSON value");
                    }
                    return root;
                }
            }
            return MissingNode.getInstance();
        }
    }

    private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> NODES.objectNode();
            case START_ARRAY -> NODES.arrayNode();
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> integer(p);
            case VALUE_NUMBER_FLOAT -> new WrittenNumber(p.getText(), NODES.numberNode(p.getDoubleValue()));
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new JsonParseException(p, "unexpected " + t);
        };
    }

    /** An integer as Jackson reads one (int, long or big integer); {@code -0}, which reads as 0, keeps its sign. */
    private static JsonNode integer(JsonParser p) throws IOException {
        return switch (p.getNumberType()) {
            case INT -> {
                int v = p.getIntValue();
                yield v == 0 && p.getTextLength() > 1 ? new WrittenNumber(p.getText(), NODES.numberNode(v)) : NODES.numberNode(v);
            }
            case LONG -> NODES.numberNode(p.getLongValue());
            default -> NODES.numberNode(p.getBigIntegerValue());
        };
    }
}
