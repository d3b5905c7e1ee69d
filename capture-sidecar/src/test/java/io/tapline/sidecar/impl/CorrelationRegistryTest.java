package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorrelationRegistryTest {

    private final CorrelationRegistry registry = new CorrelationRegistry(100);

    /** Requests sharing a trace id: ambiguous while several are held, the one again once the others are gone. */
    @Test
    void shouldTellTheOneRequestOfATraceFromSeveral() {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        List<PendingInteraction> held = new ArrayList<>();
        for (String id : List.of("a", "b", "c")) {
            PendingInteraction p = new PendingInteraction(id, trace, "GET /x", System.nanoTime(), null);
            assertTrue(registry.register(p));
            held.add(p);
        }
        assertEquals(CorrelationRegistry.Match.AMBIGUOUS, registry.byTrace(trace).match());
        registry.remove(held.get(0));
        assertEquals(CorrelationRegistry.Match.AMBIGUOUS, registry.byTrace(trace).match());
        registry.remove(held.get(2));
        assertSame(held.get(1), registry.byTrace(trace).interaction(), "b is the trace's one request again");
        PendingInteraction d = new PendingInteraction("d", trace, "GET /x", System.nanoTime(), null);
        assertTrue(registry.register(d));
        assertEquals(CorrelationRegistry.Match.AMBIGUOUS, registry.byTrace(trace).match());
        registry.remove(held.get(1));
        assertSame(d, registry.byTrace(trace).interaction());
        registry.remove(d);
        assertEquals(CorrelationRegistry.Match.NONE, registry.byTrace(trace).match());
        assertEquals(0, registry.pending());
    }

    /** At most {@code capture.max.pending} interactions are held: past it a request is proxied uncaptured (in_flight_full). */
    @Test
    void shouldHoldNoMoreInteractionsThanItsBoundAndTakeOneAgainOnceOneIsForgotten() {
        CorrelationRegistry small = new CorrelationRegistry(2);
        PendingInteraction a = new PendingInteraction("a", "trace-a", "GET /a", 0L, null);
        PendingInteraction b = new PendingInteraction("b", "trace-b", "GET /b", 0L, null);
        PendingInteraction c = new PendingInteraction("c", "trace-c", "GET /c", 0L, null);
        assertTrue(small.register(a));
        assertTrue(small.register(b));
        assertFalse(small.register(c), "over the bound");
        assertEquals(2, small.pending());
        assertEquals(CorrelationRegistry.Match.NONE, small.byTrace("trace-c").match(), "a refused interaction is not held");
        small.ended(a);
        assertFalse(small.register(c), "one in its grace period still counts");
        small.remove(a);
        assertTrue(small.register(c), "room again once one is forgotten");
        assertSame(c, small.byTrace("trace-c").interaction());
    }

    @Test
    void shouldAttributeToTheOnlyCapturedRequestInFlight() {
        PendingInteraction a = start("a");

        assertSame(a, registry.soleInFlight(registry.stamp()));
    }

    @Test
    void shouldDeclineWhileAnUncapturedRequestIsAlsoInFlight() {
        start("a");
        registry.requestStarted(); // proxied, not captured

        assertNull(registry.soleInFlight(registry.stamp()));
    }

    @Test
    void shouldNotAttributeToAnAnsweredRequestOnceAnotherHasStarted() {
        PendingInteraction a = start("a");
        registry.ended(a); // answered, still in its grace period
        registry.requestStarted(); // the next request: in flight, not (yet) captured

        assertNull(registry.soleInFlight(registry.stamp()), "the one request in flight is not the answered one");
    }

    @Test
    void shouldDeclineWhenTheRequestInFlightChangedSinceTheCallStarted() {
        PendingInteraction a = start("a");
        long callStarted = registry.stamp();
        registry.ended(a);
        PendingInteraction b = start("b"); // again exactly one request in flight, but not the one the call saw

        assertNull(registry.soleInFlight(callStarted));
        assertSame(b, registry.soleInFlight(registry.stamp()), "a call starting now belongs to b");
    }

    @Test
    void shouldKeepADeclinedTraceDeclinedForTheGracePeriodAfterItsAnswer() {
        CorrelationRegistry small = new CorrelationRegistry(1);
        assertTrue(small.declined("t1"));
        long graceEnd = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        small.declinedEnded("t1", graceEnd);

        assertTrue(small.isDeclined("t1"), "its late calls stay out with it");
        assertFalse(small.declined("t2"), "a declined request in its grace period counts towards the bound");
        small.releaseDeclined(graceEnd - 1);
        assertTrue(small.isDeclined("t1"));
        small.releaseDeclined(graceEnd);
        assertFalse(small.isDeclined("t1"));
        assertTrue(small.declined("t2"), "room again");
        small.declinedEnded("t2", System.nanoTime() - 1); // no grace: forgotten at once
        assertFalse(small.isDeclined("t2"));
    }

    @Test
    void shouldForgetADeclinedTraceOnlyWhenItsLastRequestsGraceIsOver() {
        assertTrue(registry.declined("t"));
        assertTrue(registry.declined("t"));
        long first = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        long second = first + TimeUnit.MINUTES.toNanos(1);
        registry.declinedEnded("t", first);
        registry.declinedEnded("t", second);

        assertTrue(registry.isDeclinedAt("t", first), "the other request's grace is not over");
        assertFalse(registry.isDeclinedAt("t", second));
    }

    @Test
    void shouldForgetAnInteractionOnceItsGraceIsOver() {
        PendingInteraction a = start("a");
        registry.ended(a);
        assertEquals(1, registry.pending());
        assertEquals(0, registry.inFlightRequests());

        registry.remove(a);

        assertEquals(0, registry.pending());
        assertEquals(CorrelationRegistry.Match.NONE, registry.byTrace("trace-a").match());
    }

    /**
     * Requests come and go on two threads while a third attributes calls. Whatever it attributes must have been in
     * flight from the call's stamp to the answer: started before the stamp and not ended before it. Each writer
     * notes the state just before a request starts and just after it ends, bounds that can only err towards
     * accepting, so any failure is a real wrong attribution.
     */
    @Test
    void shouldOnlyAttributeToARequestInFlightThroughoutTheCallUnderConcurrency() throws Exception {
        ConcurrentHashMap<PendingInteraction, AtomicLongArray> epochs = new ConcurrentHashMap<>(); // {before start, after end}
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            String prefix = "w" + w + "-";
            writers.add(new Thread(() -> {
                for (long n = 0; !stop.get(); n++) {
                    AtomicLongArray bounds = new AtomicLongArray(new long[] {epoch(registry.stamp()), Long.MAX_VALUE});
                    PendingInteraction p = new PendingInteraction(prefix + n, "trace-" + prefix + n, "GET /", 0L, null);
                    epochs.put(p, bounds);
                    registry.requestStarted();
                    registry.register(p);
                    Thread.onSpinWait();
                    registry.ended(p);
                    bounds.set(1, epoch(registry.stamp()));
                    registry.remove(p);
                    epochs.remove(p);
                }
            }));
        }
        writers.forEach(Thread::start);
        AtomicLong attributed = new AtomicLong();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (attributed.get() < 20_000 && System.nanoTime() < deadline) {
                long stamp = registry.stamp();
                PendingInteraction p = registry.soleInFlight(stamp);
                if (p == null) {
                    continue;
                }
                attributed.incrementAndGet();
                AtomicLongArray bounds = epochs.get(p);
                if (bounds == null) {
                    continue; // its writer has moved on; nothing left to check against
                }
                long callEpoch = epoch(stamp);
                assertTrue(bounds.get(0) < callEpoch, () -> p.id + " started after the call did");
                assertTrue(bounds.get(1) > callEpoch, () -> p.id + " had ended before the call started");
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
        }
        assertTrue(attributed.get() > 0, "some calls found exactly one request in flight");
    }

    private static long epoch(long stamp) {
        return stamp >>> 32;
    }

    private PendingInteraction start(String name) {
        PendingInteraction p = new PendingInteraction(name, "trace-" + name, "GET /" + name, 0L, null);
        registry.requestStarted();
        assertTrue(registry.register(p));
        return p;
    }
}
