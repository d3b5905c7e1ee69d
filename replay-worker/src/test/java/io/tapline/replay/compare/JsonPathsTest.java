package io.tapline.replay.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
}
