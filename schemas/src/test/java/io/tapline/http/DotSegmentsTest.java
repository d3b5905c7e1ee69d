package io.tapline.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DotSegmentsTest {

    @Test
    void shouldFindADotSegmentThatClimbsAboveTheStartHoweverItIsWritten() {
        for (String target : List.of("/..", "/../etc", "/..?x", "/a/../../etc", "/%2e%2e/etc", "/%2E%2e/etc", "/.%2e/etc",
                "/%2e./etc", "/..\\etc", "\\..\\etc", "/a\\..\\..\\etc", "/..%2fetc", "/a%2F..%2F..%2Fetc", "/a%5c..%5C..%5cetc",
                "/..;/etc", "/..;jsessionid=1/etc", "//../etc", "/./../etc", "/a/./../..", "/x#/../../etc", "/a;/../..")) {
            assertTrue(DotSegments.climb(target), target);
        }
    }

    @Test
    void shouldLeaveAPathThatStaysBelowItsStart() {
        for (String target : List.of("", "/", "?x", "/a/b", "/a/../b", "/a/b/../..", "/./b", "/a/..", "/...", "/..a/b", "/a../b",
                "/.%2e%2e/x", "/%2e%2e%2e", "/%2g../x", "/b?p=../../etc", "/b?/../..", "/a%2fb/../..", "/.hidden/..",
                "/a;..", "/;../x", "/%2e")) {
            assertFalse(DotSegments.climb(target), target);
        }
    }

    @Test
    void shouldReadFromTheGivenStartOnly() {
        // the inbound listener reads a client's target in the string it forwards, after --app's base path
        assertTrue(DotSegments.climb("/base/../admin", 5));
        assertTrue(DotSegments.climb("/base/%2e%2e;/admin?q", 5));
        assertFalse(DotSegments.climb("/base/../admin", 0), "the base path's own segment is climbed back to, not above");
        assertFalse(DotSegments.climb("/base/v1/../admin", 5));
        assertFalse(DotSegments.climb("/../base/x", 8), "what comes before the start is not looked at");
    }
}
