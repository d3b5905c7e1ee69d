package io.tapline.replay.compare;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PathPatternTest {

    @Test
    void aWrittenRuleWithAnEmptyNameAfterADotIsRefused() {
        // JSONPath's '..' (any depth) is not supported: read as a member "" (as learned noise writes one), such a
        // rule would ignore nothing where its author meant a field at any depth
        for (String written : List.of("$..ts", "$.meta..ts", "$.meta.", "$.", "$.items.[*]")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathPattern.written(written), written);
            assertTrue(e.getMessage().contains("'" + written + "'") && e.getMessage().contains("any depth"), e.getMessage());
        }
        for (String written : List.of("$", "$.ts", "$['']", "$[''].ts", "$.items[*].id", "$.hosts['10.0.0.1'].at", "$['a..b']",
                "header:x.y", "status")) {
            assertEquals(written, PathPattern.written(written).toString());
        }
        // learned noise keeps its member "" written after a dot
        assertTrue(PathPattern.of("$..t").matches("$[''].t"));
        IllegalArgumentException rule = assertThrows(IllegalArgumentException.class,
                () -> IgnoreRules.parse(List.of("GET /a $..updatedAt")));
        assertTrue(rule.getMessage().startsWith("ignore rule 'GET /a $..updatedAt': "), rule.getMessage());
    }

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
        assertEquals(List.of("$", "a", "[2]", "b"), texts("$.a[2].b"));
        assertEquals(List.of("$", "a", "x.y", "[2]", "it's", "b\\c", "[0]"), texts("$.a['x.y'][2]['it\\'s'][\"b\\\\c\"][0]"));
        assertEquals(List.of("$", "", "t", "", "[0]", ""), texts("$..t.[0]."), "a dot before nothing names a member \"\"");
        assertEquals(List.of(false, false, false, true), PathPattern.segments("$.a['[1]'][1]").stream()
                .map(io.tapline.json.JsonPathSegments.Segment::index).toList(), "a name in brackets is a name, not an index");
    }

    @Test
    void placeholdersAndWildcardsMatchANameHoldingDots() {
        // a map keyed by email or by timestamp: one member per key, written in brackets because the key holds dots
        assertTrue(PathPattern.of("$.byUser.{email}.visits").matches("$.byUser['ann@example.com'].visits"));
        assertTrue(PathPattern.of("$.byUser.{email}").matches("$.byUser['ann@example.com'].visits"));
        assertFalse(PathPattern.of("$.byUser.{email}.visits").matches("$.byUser['ann@example.com'].name"));
        assertFalse(PathPattern.of("$.byUser.{email}").matches("$.byUser.total"));
        assertTrue(PathPattern.of("$.at.{date}").matches("$.at['2026-11-22T10:00:00.125Z']"));
        assertTrue(PathPattern.of("$.byUser.*.visits").matches("$.byUser['ann@example.com'].visits"));
        assertFalse(PathPattern.of("$.list[*]").matches("$.list['[1]']"), "[*] is an index, not a name in brackets");
        assertTrue(PathPattern.of("$.list['[1]']").matches("$.list['[1]'].x"));
        // a key the capture redacted is a {token}, as dedup-stream names it
        assertTrue(PathPattern.of("$.byUser.{token}.visits").matches("$.byUser.tapline:hmac:cba36a5aed83a187.visits"));
    }

    @Test
    void aNameInBracketsIsThatNameNeverAWildcardOrAPlaceholder() {
        // dedup-stream writes a key "*" or "{id}" so: learned as noise, it is that key's, not every neighbour's
        assertTrue(PathPattern.of("$['*'].t").matches("$.*.t"));
        assertTrue(PathPattern.of("$['*'].t").matches("$['*'].t"));
        assertFalse(PathPattern.of("$['*'].t").matches("$.other.t"));
        assertTrue(PathPattern.of("$.*.t").matches("$.other.t"), "written after a dot, * is still every member");
        assertTrue(PathPattern.of("$['{id}']").matches("$.{id}"));
        assertFalse(PathPattern.of("$['{id}']").matches("$.1017"));
        assertTrue(PathPattern.of("$.{id}").matches("$.1017"));
    }

    @Test
    void aNameHoldingDotsAlsoMatchesItsPartsWrittenWithoutBrackets() {
        // learned noise names such a key as dedup-stream flattens it: its parts joined by dots
        assertTrue(PathPattern.of("$.hosts.10.0.0.1.at").matches("$.hosts['10.0.0.1'].at"));
        assertTrue(PathPattern.of("$.hosts.10.0.0.1").matches("$.hosts['10.0.0.1'].at"));
        assertTrue(PathPattern.of("$.hosts['10.0.0.1'].at").matches("$.hosts['10.0.0.1'].at"));
        assertFalse(PathPattern.of("$.hosts.10.0.0.2.at").matches("$.hosts['10.0.0.1'].at"));
        assertFalse(PathPattern.of("$.hosts.10.0.0.1.at").matches("$.hosts['10.0.0.1'].up"));
        assertFalse(PathPattern.of("$.hosts.10.0").matches("$.hosts['10.0.0.1'].at"), "a part of a name is not its prefix");
    }

    private static List<String> texts(String path) {
        return PathPattern.segments(path).stream().map(io.tapline.json.JsonPathSegments.Segment::text).toList();
    }

    @Test
    void malformedIgnoreRuleNamesTheRule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IgnoreRules.parse(List.of("$.x")));
        assertTrue(e.getMessage().contains("'$.x'"));
    }
}
