package io.tapline.replay.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class JsonPathsTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static JsonNode tree(String json) throws Exception {
        return MAPPER.readTree(json);
    }

    @Test
    void plainNamesAreWrittenAfterDots() throws Exception {
        JsonNode t = tree("{\"items\":[{\"id\":1}],\"a\":{\"b\":2}}");
        assertEquals("$.items[0].id", JsonPaths.fromJsonUnit(t, "items[0].id"));
        assertEquals("$.a.b", JsonPaths.fromJsonUnit(t, "a.b"));
        assertEquals("$", JsonPaths.fromJsonUnit(t, ""));
        assertEquals("$[1]", JsonPaths.fromJsonUnit(tree("[0,1]"), "[1]"));
    }

    @Test
    void namesHoldingDotsOrBracketsAreFoundInTheTreeAndWrittenInBrackets() throws Exception {
        JsonNode t = tree("{\"byUser\":{\"ann@example.com\":{\"visits\":3}},\"hosts\":{\"10.0.0.1\":[{\"up\":true}]},"
                + "\"a[1]\":0,\"it's\":{\"x\\\\y\":1},\"x\":{\"\":{\"e\":1}},\"v1.2\":{\"k\":1}}");
        assertEquals("$.byUser['ann@example.com'].visits", JsonPaths.fromJsonUnit(t, "byUser.ann@example.com.visits"));
        assertEquals("$.hosts['10.0.0.1'][0].up", JsonPaths.fromJsonUnit(t, "hosts.10.0.0.1[0].up"));
        assertEquals("$['a[1]']", JsonPaths.fromJsonUnit(t, "a[1]"));
        assertEquals("$['it\\'s']['x\\\\y']", JsonPaths.fromJsonUnit(t, "it's.x\\y"));
        assertEquals("$.x[''].e", JsonPaths.fromJsonUnit(t, "x..e"));
        assertEquals("$['v1.2'].k", JsonPaths.fromJsonUnit(t, "v1.2.k"));
        assertEquals(3, JsonPaths.resolve(t, "byUser.ann@example.com.visits").intValue());
        assertEquals(true, JsonPaths.resolve(t, "hosts.10.0.0.1[0].up").booleanValue());
    }

    @Test
    void aMemberNamedEmptyAtTheRootIsFoundThoughJsonUnitWritesNoNameForIt() throws Exception {
        // JsonUnit names a member of the root by its name alone, so a member "" of the root leaves no trace in a path
        JsonNode t = tree("{\"\":{\"t\":1,\"\":{\"u\":[2]}},\"v\":3}");
        assertEquals("$[''].t", JsonPaths.fromJsonUnit(t, "t"));
        assertEquals(1, JsonPaths.resolve(t, "t").intValue());
        assertEquals("$[''][''].u[0]", JsonPaths.fromJsonUnit(t, "u[0]"));
        assertEquals("$.v", JsonPaths.fromJsonUnit(t, "v"));
    }

    @Test
    void aNameThatReadsAsAWildcardOrAPlaceholderIsWrittenInBrackets() throws Exception {
        // written after a dot, "$.*.t" copied into a rule would be t under every member
        JsonNode t = tree("{\"*\":{\"t\":1},\"{id}\":2,\"{\":3,\"a*\":4}");
        assertEquals("$['*'].t", JsonPaths.fromJsonUnit(t, "*.t"));
        assertEquals("$['{id}']", JsonPaths.fromJsonUnit(t, "{id}"));
        assertEquals("$.{", JsonPaths.fromJsonUnit(t, "{"));
        assertEquals("$.a*", JsonPaths.fromJsonUnit(t, "a*"));
    }

    @Test
    void thePathIsFollowedToTheEndBeforeANameIsChosen() throws Exception {
        // "a" exists but holds no "b.c": the member is "a.b", which holds "c"
        JsonNode t = tree("{\"a\":{\"x\":1},\"a.b\":{\"c\":2}}");
        assertEquals("$['a.b'].c", JsonPaths.fromJsonUnit(t, "a.b.c"));
        assertEquals(2, JsonPaths.resolve(t, "a.b.c").intValue());
        // the longest name that leads on: "a.b.c" over "a.b"
        JsonNode u = tree("{\"a.b\":{\"c\":{\"d\":1}},\"a.b.c\":{\"d\":2}}");
        assertEquals("$['a.b.c'].d", JsonPaths.fromJsonUnit(u, "a.b.c.d"));
    }

    @Test
    void aPathTheTreeDoesNotHoldIsWrittenAsJsonUnitWroteIt() throws Exception {
        JsonNode t = tree("{\"a\":{\"b\":1}}");
        assertEquals("$.a.c.d", JsonPaths.fromJsonUnit(t, "a.c.d"));
        assertEquals("$.a[3]", JsonPaths.fromJsonUnit(t, "a[3]"));
        assertNull(JsonPaths.resolve(t, "a.c"));
        assertEquals("$.x", JsonPaths.fromJsonUnit(null, "x"));
    }

    @Test
    void memberQuotesOnlyWhatNeedsIt() {
        assertEquals("$.items", JsonPaths.member("$", "items"));
        assertEquals("$['a.b']", JsonPaths.member("$", "a.b"));
        assertEquals("$['']", JsonPaths.member("$", ""));
        assertEquals("$.x['o\\'k']", JsonPaths.member("$.x", "o'k"));
        assertEquals("$.{id} x-y@z", JsonPaths.member("$", "{id} x-y@z"));
    }

    /** An object that counts how often its names are gone through. */
    private static final class CountingObject extends ObjectNode {
        int listed;

        CountingObject() {
            super(JsonNodeFactory.instance);
        }

        @Override
        public java.util.Iterator<String> fieldNames() {
            listed++;
            return super.fieldNames();
        }
    }

    @Test
    void aPathIntoAWideMapIsNotFoundByGoingThroughAllItsNames() throws Exception {
        // a map keyed by email: a difference under each of its 20,000 members would go through all 20,000 names
        // once per difference (and per resolve), seconds for one case
        CountingObject users = new CountingObject();
        for (int i = 0; i < 1000; i++) {
            users.set("u" + i + "@example.com", MAPPER.createObjectNode().put("visits", i));
        }
        ObjectNode root = MAPPER.createObjectNode();
        root.set("byUser", users);
        assertEquals("$.byUser['u7@example.com'].visits", JsonPaths.fromJsonUnit(root, "byUser.u7@example.com.visits"));
        assertEquals(7, JsonPaths.resolve(root, "byUser.u7@example.com.visits").intValue());
        assertNull(JsonPaths.resolve(root, "byUser.nobody@example.com"));
        assertNull(JsonPaths.resolve(root, "byUser.nobody@example.com.visits"));
        assertEquals(0, users.listed, "names are looked up, not searched for");

        // an object with fewer names than the path has prefixes is still searched by its names
        JsonNode t = tree("{\"a.b.c.d\":{\"e\":1},\"a\":{}}");
        assertEquals("$['a.b.c.d'].e", JsonPaths.fromJsonUnit(t, "a.b.c.d.e"));
        assertEquals(1, JsonPaths.resolve(t, "a.b.c.d.e").intValue());
    }
}
