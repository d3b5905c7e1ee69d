package io.tapline.dedup.signature;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.json.StrictJson;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The shape is read from the JSON token stream; {@link #treeShape} is the same rules applied to a parsed tree, the
 * straightforward reading of the spec, and serves as the reference.
 */
class ShapesTest {

    @Test
    void shouldSortKeysAndSummariseArrayElements() {
        assertEquals("{a:number,b:[{id:number}|{id:string}],c:{x:null,y:bool}}",
                shape("{\"c\":{\"y\":true,\"x\":null},\"b\":[{\"id\":1},{\"id\":\"2\"},{\"id\":3}],\"a\":1.5}"));
        assertEquals("[]", shape("[]"));
        assertEquals("{}", shape(" {} "));
    }

    /**
     * Not one JSON value to the replay worker, which compares such a body as text, and to noise learning, which names
     * it {@code body}: the shape of any body of its type that is not JSON, not the shape of its first value.
     */
    @Test
    void shouldShapeABodyWithContentAfterItsValueAsNotJson() {
        for (String twice : new String[] {"{\"a\":1} trailing", "{\"a\":1}{\"b\":2}", "[1] [2]", "{\"a\":1}\n{\"a\":1}\n"}) {
            assertEquals("json:invalid", shape(twice), twice);
            assertEquals("json:invalid", Shapes.bodyShape(bytes(twice), null, null, false), twice + ", without a type");
        }
        assertEquals("json:invalid", shape("\"s\" 1"));
        assertEquals("{a:number}", shape(" {\"a\":1} \r\n\t"), "whitespace after the value is no content");
    }

    /** A repeated key, at any depth (below the depth shapes stop at too): the replay worker reads no value there. */
    @Test
    void shouldShapeABodyWithARepeatedKeyAsNotJson() {
        String deep = "{\"k\":".repeat(Shapes.MAX_DEPTH + 3) + "{\"a\":1,\"a\":2}" + "}".repeat(Shapes.MAX_DEPTH + 3);
        String pastMixed = "[1,\"a\",true,null,{},[],{\"a\":1,\"b\":2,\"a\":3}]";
        for (String repeated : new String[] {"{\"a\":1,\"b\":2,\"a\":\"x\"}", "{\"a\":1,\"a\":1}",
                "[{\"id\":1},{\"id\":2,\"x\":{\"b\":1,\"b\":null}}]", deep, pastMixed}) {
            assertEquals("json:invalid", shape(repeated), repeated);
        }
        assertEquals("{a:number,b:{a:number}}", shape("{\"a\":1,\"b\":{\"a\":2}}"), "one key in two objects");
    }

    /** Nesting past the replay worker's limit and a number no decimal holds make a body text there too. */
    @Test
    void shouldShapeWhatTheReplayWorkerReadsAsTextAsNotJson() {
        String deepest = "[".repeat(StrictJson.MAX_NESTING_DEPTH) + "]".repeat(StrictJson.MAX_NESTING_DEPTH);
        assertEquals("[".repeat(Shapes.MAX_DEPTH + 1) + "..." + "]".repeat(Shapes.MAX_DEPTH + 1), shape(deepest));
        assertEquals("json:invalid", shape("[" + deepest + "]"));
        assertEquals("json:invalid", shape("{\"a\":1e-2147483648}"));
        assertEquals("json:invalid", shape("[1.5E-2147483647]"));
        assertEquals("{a:number,b:number}", shape("{\"a\":1e-999,\"b\":12345678901234567.89e2147483647}"));
    }

    @Test
    void shouldGiveAMapKeyedByIdsOneShapeWhateverItsKeys() {
        assertEquals("{items:{sku-#:number}}", shape("{\"items\":{\"sku-1\":2}}"));
        assertEquals("{items:{sku-#:number}}", shape("{\"items\":{\"sku-7\":1,\"sku-12\":4}}"));
        assertEquals("{{date}:number}", shape("{\"2024-05-01\":12,\"2024-05-02\":3}"));
        assertEquals("{{id}:{name:string,vip:bool}|{name:string}}",
                shape("{\"17\":{\"name\":\"a\"},\"42\":{\"name\":\"b\",\"vip\":true}}"));
        assertEquals("{{uuid}:string}", shape("{\"0f8fad5b-d9cb-469f-a165-70867728950e\":\"x\","
                + "\"7c9e6679-7425-40de-944b-e07fc1f90ae7\":\"y\"}"));
        assertEquals("{price:number,qty:number}", shape("{\"qty\":1,\"price\":2}"), "a plain key stays as it is");
    }

    @Test
    void shouldQuoteAKeyThatHoldsTheShapesOwnPunctuation() {
        assertEquals("{\"a:number,b\":number}", shape("{\"a:number,b\":1}"));
        assertEquals("{a:number,b:number}", shape("{\"a\":1,\"b\":2}"));
    }

    @Test
    void shouldBoundDepthKeysAndArrayShapes() {
        assertEquals("[mixed]", shape("[1,\"a\",true,null,{},[]]"));
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < Shapes.MAX_DEPTH + 3; i++) {
            deep.append("{\"k\":");
        }
        deep.append('1');
        deep.append("}".repeat(Shapes.MAX_DEPTH + 3));
        assertEquals("{k:".repeat(Shapes.MAX_DEPTH + 1) + "..." + "}".repeat(Shapes.MAX_DEPTH + 1), shape(deep.toString()));
        StringBuilder wide = new StringBuilder("{");
        for (int i = 0; i < Shapes.MAX_KEYS + 5; i++) {
            wide.append(i == 0 ? "" : ",").append("\"k").append((char) ('a' + i / 26)).append((char) ('a' + i % 26)).append("\":1");
        }
        String shape = shape(wide.append('}').toString());
        assertEquals(Shapes.MAX_KEYS, shape.split(",").length - 1);
        assertEquals(true, shape.endsWith(",...}"));
    }

    @Test
    void shouldRefuseMalformedAndCutDocumentsAtAnyDepth() {
        for (String bad : new String[] {"{\"a\":1", "[1,2", "{\"a\":}", "[1 2]", "{\"a\":\"unterminated", "\"open",
                "{\"k\":".repeat(40) + "1" + "}".repeat(39) + "]"}) {
            assertEquals("json:invalid", Shapes.bodyShape(bytes(bad), "application/json", null, false), bad);
        }
    }

    /**
     * 20,000 random documents, whole and cut at a random point: the same shape (or refusal) as the strict tree reading
     * (their keys repeat in one object at times).
     */
    @Test
    void shouldAgreeWithTheTreeReadingOnRandomAndCutDocuments() {
        Random random = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            String json = randomValue(random, 0);
            assertSameShape(json);
            assertSameShape(json.substring(0, random.nextInt(json.length() + 1)));
        }
    }

    private static void assertSameShape(String json) {
        byte[] bytes = bytes(json);
        JsonNode tree = bytes.length == 0 ? null : StrictJson.readDoubles(bytes);
        String expected = bytes.length == 0 ? "" : tree == null ? "json:invalid" : treeShape(tree);
        assertEquals(expected, Shapes.bodyShape(bytes, "application/json", null, false), json);
    }

    private static String randomValue(Random random, int depth) {
        int kind = random.nextInt(depth > 14 ? 5 : 8);
        return switch (kind) {
            case 0 -> Integer.toString(random.nextInt(2000) - 1000);
            case 1 -> random.nextInt(100) / 7.0 + "";
            case 2 -> "\"s" + random.nextInt(5) + (random.nextInt(10) == 0 ? "\\\"q\\u00e9" : "") + "\"";
            case 3 -> random.nextBoolean() ? "true" : "false";
            case 4 -> "null";
            case 5, 6 -> {
                StringBuilder sb = new StringBuilder("{");
                int n = random.nextInt(6);
                for (int k = 0; k < n; k++) {
                    sb.append(k == 0 ? "" : ",").append("\"k").append(random.nextInt(6)).append("\":")
                            .append(randomValue(random, depth + 1));
                }
                yield sb.append('}').toString();
            }
            default -> {
                StringBuilder sb = new StringBuilder("[");
                int n = random.nextInt(8);
                for (int k = 0; k < n; k++) {
                    sb.append(k == 0 ? "" : ",").append(randomValue(random, depth + 1));
                }
                yield sb.append(']').toString();
            }
        };
    }

    private static String shape(String json) {
        return Shapes.bodyShape(bytes(json), "application/json", null, false);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The shape rules applied to a parsed tree. */
    static String treeShape(JsonNode node) {
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
                java.util.TreeMap<String, TreeSet<String>> byKey = new java.util.TreeMap<>();
                node.fields().forEachRemaining(f -> {
                    StringBuilder v = new StringBuilder();
                    append(f.getValue(), v, depth + 1);
                    byKey.computeIfAbsent(Shapes.shapeKey(f.getKey()), k -> new TreeSet<>()).add(v.toString());
                });
                sb.append('{');
                int n = 0;
                for (java.util.Map.Entry<String, TreeSet<String>> field : byKey.entrySet()) {
                    if (n == Shapes.MAX_KEYS) {
                        sb.append(",...");
                        break;
                    }
                    if (n++ > 0) {
                        sb.append(',');
                    }
                    sb.append(field.getKey()).append(':').append(field.getValue().size() > Shapes.MAX_ARRAY_SHAPES
                            ? "mixed" : String.join("|", field.getValue()));
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
                sb.append('[').append(elements.size() > Shapes.MAX_ARRAY_SHAPES ? "mixed" : String.join("|", elements))
                        .append(']');
            }
            case STRING, BINARY -> sb.append("string");
            case NUMBER -> sb.append("number");
            case BOOLEAN -> sb.append("bool");
            default -> sb.append("null");
        }
    }
}
