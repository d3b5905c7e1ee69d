package io.tapline.replay.mock;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cases being replayed right now, by trace id. A call carrying a known trace id belongs to that case.
 * A call without one is attributed only when exactly one case is in flight (the candidate does not propagate
 * trace context: the worker then replays one case at a time); otherwise it is unattributable. Never guesses.
 * Bounded by the workers' concurrency: a case is registered only while its request is in flight.
 */
public final class MockRegistry {

    private final Map<String, CaseMocks> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong traced = new AtomicLong();
    private final AtomicLong untraced = new AtomicLong();
    private final AtomicLong unattributable = new AtomicLong();

    public void register(String traceId, CaseMocks mocks) {
        if (inFlight.putIfAbsent(traceId, mocks) != null) {
            throw new IllegalStateException("trace id " + traceId + " already in flight (case " + mocks.caseId() + ")");
        }
    }

    public void unregister(String traceId) {
        inFlight.remove(traceId);
    }

    /** The case a call belongs to, or null when it cannot be attributed. */
    public CaseMocks find(String traceId) {
        if (traceId != null) {
            CaseMocks byTrace = inFlight.get(traceId);
            if (byTrace != null) {
                traced.incrementAndGet();
                return byTrace;
            }
        }
        untraced.incrementAndGet();
        if (inFlight.size() == 1) {
            for (CaseMocks only : inFlight.values()) {
                return only;
            }
        }
        unattributable.incrementAndGet();
        return null;
    }

    /** Calls that carried the trace id of an in-flight case: the candidate propagates trace context. */
    public long tracedCalls() {
        return traced.get();
    }

    /** Calls without a known trace id (attributed as sole in flight, or not at all). */
    public long untracedCalls() {
        return untraced.get();
    }

    /** Calls that could not be attributed to any case (answered as unmatched, counted nowhere else). */
    public long unattributableCalls() {
        return unattributable.get();
    }

    public int inFlight() {
        return inFlight.size();
    }
}
