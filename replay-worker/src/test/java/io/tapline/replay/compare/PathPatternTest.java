package io.tapline.replay.compare;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PathPatternTest {

    @Test
    void wildcardIndexMatchesAnyElement() {
        PathPattern p = PathPattern.of("$.items[*].id");
        assertTrue(p.matches("$.items[3].id"));
        assertFalse(p.matches("$.items[3].price"));
        assertFalse(p.matches("$.items.id"));
    }

    @Test
    void aPatternCoversEverythingBelowIt() {
        assertTrue(PathPattern.of("$.meta").matches("$.meta.etag"));
        assertFalse(PathPattern.of("$.meta.etag").matches("$.meta"));
    }

    @Test
    void headerPatternsIgnoreCase() {
        assertTrue(PathPattern.of("header:X-Build").matches("header:x-build"));
    }

    @Test
    void segmentsSplitFieldsAndIndexes() {
        assertEquals(List.of("$", "a", "[2]", "b"), PathPattern.segments("$.a[2].b"));
    }

    @Test
    void malformedIgnoreRuleNamesTheRule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IgnoreRules.parse(List.of("$.x")));
        assertTrue(e.getMessage().contains("'$.x'"));
    }
}
