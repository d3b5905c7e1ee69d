package io.tapline.replay.mock;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class MockRegistryTest {

    private final MockMatcher matcher = new MockMatcher(MockMatcher.DEFAULT_MIN_SCORE);
    private final MockRegistry registry = new MockRegistry();

    @Test
    void aLateCallOfAFinishedCaseIsNeverGivenToTheCaseStillInFlight() {
        CaseMocks a = new CaseMocks("a", List.of(), matcher);
        CaseMocks b = new CaseMocks("b", List.of(), matcher);
        registry.register("trace-a", a);
        registry.register("trace-b", b);
        registry.unregister("trace-a");

        assertNull(registry.find("trace-a"), "a's late call, though b is the only case in flight");
        assertEquals(1, registry.lateCalls());
        assertEquals(0, registry.untracedCalls(), "a late call is not a call without trace context");
        assertSame(b, registry.find(null), "a call without trace context: b is the only case in flight");
        assertSame(b, registry.find("unknown-trace"), "an unknown trace id: b is the only case in flight");
        assertEquals(2, registry.untracedCalls());
    }

    @Test
    void aCaseReplayedAgainIsFoundByItsTraceId() {
        CaseMocks first = new CaseMocks("a", List.of(), matcher);
        registry.register("trace-a", first);
        registry.unregister("trace-a");
        CaseMocks again = new CaseMocks("a", List.of(), matcher);
        registry.register("trace-a", again);
        assertSame(again, registry.find("trace-a"));
        assertEquals(0, registry.lateCalls());
    }
}
