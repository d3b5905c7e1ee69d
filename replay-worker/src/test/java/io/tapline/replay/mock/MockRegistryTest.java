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
        registry.unregister("trace-a", a);

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
        registry.unregister("trace-a", first);
        CaseMocks again = new CaseMocks("a", List.of(), matcher);
        registry.register("trace-a", again);
        assertSame(again, registry.find("trace-a"));
        assertEquals(0, registry.lateCalls());
    }

    @Test
    void aCallWithoutTraceContextIsNeverGivenToACaseThatStartedWhileItWasBeingAttributed() throws Exception {
        // a is alone in flight when a call without trace context arrives; b (another worker's case) registers while
        // the call is being attributed. b's request has not been sent yet, so the call cannot be b's: it is a's, or,
        // with two cases in flight, nobody's (then both are replayed again, alone). Given to b it would be answered
        // from b's recordings and make neither case ambiguous.
        CaseMocks a = new CaseMocks("a", List.of(), matcher);
        registry.register("trace-2", a);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread other = new Thread(() -> {
            while (!stop.get()) {
                CaseMocks b = new CaseMocks("b", List.of(), matcher);
                registry.register("trace-1", b); // iterated before a's
                registry.unregister("trace-1", b);
            }
        });
        other.start();
        int givenToB = 0;
        try {
            long end = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < end) {
                CaseMocks found = registry.find(null);
                if (found != null && found != a) {
                    givenToB++;
                }
            }
        } finally {
            stop.set(true);
            other.join();
        }
        assertEquals(0, givenToB, "calls of a given to b");
    }
}
