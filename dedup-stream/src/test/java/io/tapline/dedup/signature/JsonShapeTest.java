package io.tapline.dedup.signature;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The streamed JSON shape must be byte for byte the shape the tree walk gave before it: signatures (and so case ids)
 * of live installations must not change when dedup-stream is upgraded.
 */
class JsonShapeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The shape as computed from a parsed tree (the previous implementation), the reference. */
    private static String treeShape(byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        append(node, sb, 0);
        return sb.toString();
    }

    private static void append(JsonNode node, StringBuilder sb, int depth) {
        if (depth > Shapes.MAX_DEPTH) {
            sb.append("...");
            return;
        }
        switch (node.getNodeType()) {
            case OBJECT -> {
                TreeSet<String> keys = new TreeSet<>();
                node.fieldNames().forEachRemaining(keys::add);
                sb.append('{');
                int n = 0;
                for (String key : keys) {
                    if (n == Shapes.MAX_KEYS) {
                        sb.append(",...");
                        break;
                    }
                    if (n++ > 0) {
                        sb.append(',');
                    }
                    sb.append(key).append(':');
                    append(node.get(key), sb, depth + 1);
                }
                sb.append('}');
            }
            case ARRAY -> {
                TreeSet<String> elements = new TreeSet<>();
                for (JsonNode element : node) {
                    StringBuilder e = new StringBuilder();
                    append(element, e, depth + 1);
                    elements.add(e.toString());
                    if (elements.size() > Shapes.MAX_ARRAY_SHAPES) {
                        break;
                    }
                }
                sb.append('[');
                sb.append(elements.size() > Shapes.MAX_ARRAY_SHAPES ? "mixed" : String.join("|", elements));
                sb.append(']');
            }
            case STRING, BINARY -> sb.append("string");
            case NUMBER -> sb.append("number");
            case BOOLEAN -> sb.append("bool");
            case NULL, MISSING -> sb.append("null");
            default -> sb.append("any");
        }
    }

    private static void same(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        assertEquals(treeShape(bytes), Shapes.jsonShape(bytes), json);
    }

    @Test
    void shouldGiveTheTreeWalksShapeForEdgeCases() {
        same("{}");
        same("[]");
        same("null");
        same("   ");
        same("42");
        same("\"s\"");
        same("{\"b\":1,\"a\":\"x\",\"c\":[true,false,null],\"d\":{\"z\":1.5e3,\"y\":-0}}");
        same("{\"a\":1,\"a\":\"twice\"}");                    // a repeated key: the last value counts
        same("[1,\"a\",true,null,{},[],{\"k\":1}]");          // more distinct element shapes than MAX_ARRAY_SHAPES
        same("[1,2,3,\"a\",\"b\",{\"x\":1},[1],[\"q\"],null]");
        same("{\"a\":1} trailing");                           // content after the first value is ignored
        same("{\"a\":1}}");
        same("[" + "[".repeat(20) + "1" + "]".repeat(20) + "]"); // below MAX_DEPTH
        same("{\"deep\":" + "{\"x\":".repeat(30) + "1" + "}".repeat(30) + "}");
        same("[" + "{}".repeat(1).replace("{}", "{\"n\":1}") + "," + "[".repeat(15) + "]".repeat(15) + "]");
        StringBuilder many = new StringBuilder("{");
        for (int i = 0; i < 200; i++) {
            many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":").append(i);
        }
        same(many.append('}').toString());                    // more keys than MAX_KEYS
        same("123456789012345678901234567890");               // a big integer
    }

    @Test
    void shouldRefuseWhatTheTreeParserRefuses() {
        for (String bad : new String[] {"{\"id\":1,\"na", "{\"a\":1", "[1,2", "{a:1}", "[01]", "{\"a\":}", "[1,]",
                "{\"a\":[" + "1,".repeat(10) + "{\"x\":}]}", "[" + "[".repeat(20) + "1" + "]".repeat(19)}) {
            byte[] bytes = bad.getBytes(StandardCharsets.UTF_8);
            assertNull(treeShape(bytes), bad);
            assertNull(Shapes.jsonShape(bytes), bad);
        }
    }

    @Test
    void shouldGiveTheTreeWalksShapeForRandomDocuments() {
        Random random = new Random(20261121);
        for (int i = 0; i < 5_000; i++) {
            StringBuilder sb = new StringBuilder();
            value(random, sb, 0);
            String doc = sb.toString();
            same(doc);
            if (doc.length() > 2) {
                same(doc.substring(0, 1 + random.nextInt(doc.length() - 1))); // cut short, as a capture cap does
            }
        }
    }

    private static void value(Random r, StringBuilder sb, int depth) {
        int kind = depth > 16 ? 2 + r.nextInt(5) : r.nextInt(7);
        switch (kind) {
            case 0 -> {
                sb.append('{');
                int n = r.nextInt(depth == 0 ? 8 : 5);
                for (int i = 0; i < n; i++) {
                    sb.append(i == 0 ? "" : ",").append('"').append((char) ('a' + r.nextInt(6))).append("\":");
                    value(r, sb, depth + 1);
                }
                sb.append('}');
            }
            case 1 -> {
                sb.append('[');
                int n = r.nextInt(9);
                for (int i = 0; i < n; i++) {
                    sb.append(i == 0 ? "" : ",");
                    value(r, sb, depth + 1);
                }
                sb.append(']');
            }
            case 2 -> sb.append(r.nextInt(1000) - 500);
            case 3 -> sb.append(r.nextDouble() * 100);
            case 4 -> sb.append("\"s").append(r.nextInt(10)).append("\\u00e9\"");
            case 5 -> sb.append(r.nextBoolean());
            default -> sb.append("null");
        }
    }
}
