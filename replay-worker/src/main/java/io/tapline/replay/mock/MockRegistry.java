package io.tapline.replay.mock;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cases being replayed right now, by trace id. A call carrying a known trace id belongs to that case.
 * A call without one is attributed only when exactly one case is in flight (the candidate does not propagate
 * trace context: the worker then replays one case at a time); otherwise it is unattributable. Never guesses.
 * Bounded by the workers' concurrency: a case is registered only while its request is in flight.
 *
 * <p>A call carrying the trace id of a case that has finished (a candidate still working on a case whose request timed
 * out, or calling a dependency after it answered) is late: it is never attributed to another case, and it does not
 * count as a call without trace context. The last {@link #RECENT} finished trace ids are remembered for that.
 */
public final class MockRegistry {

    static final int RECENT = 10_000;

    private final Map<String, CaseMocks> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Boolean> finished = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > RECENT;
        }
    });
    private final AtomicLong traced = new AtomicLong();
    private final AtomicLong untraced = new AtomicLong();
    private final AtomicLong unattributable = new AtomicLong();
    private final AtomicLong late = new AtomicLong();

    public void register(String traceId, CaseMocks mocks) {
        if (inFlight.putIfAbsent(traceId, mocks) != null) {
            throw new IllegalStateException("trace id " + traceId + " already in flight (case " + mocks.caseId() + ")");
        }
        finished.remove(traceId); // a case replayed again
    }

    /**
     * Unregisters {@code traceId} only while it is {@code mocks}'s: a replay that cleans up after a failure never
     * removes another replay's registration of the same case (a copy of the case replayed again after it).
     */
    public void unregister(String traceId, CaseMocks mocks) {
        mocks.finished(); // whoever unregisters it builds its result next: a live failure later is noted nowhere in it
        if (inFlight.remove(traceId, mocks)) {
            finished.put(traceId, Boolean.TRUE);
        }
    }

    /** The case a call belongs to, or null when it cannot be attributed. */
    public CaseMocks find(String traceId) {
        if (traceId != null) {
            CaseMocks byTrace = inFlight.get(traceId);
            if (byTrace != null) {
                traced.incrementAndGet();
                return byTrace;
            }
            if (finished.containsKey(traceId)) {
                late.incrementAndGet();
                return null;
            }
        }
        untraced.incrementAndGet();
        // One look at the cases in flight: counted first and then read, a case registered in between (whose request,
        // not sent yet, cannot have caused this call) could be the one read, and the call given to it.
        Iterator<CaseMocks> cases = inFlight.values().iterator();
        CaseMocks only = cases.hasNext() ? cases.next() : null;
        if (only != null && !cases.hasNext()) {
            return only;
        }
        unattributable.incrementAndGet();
        return null;
    }

    /**
     * The case a call the mock refuses without matching it belongs to (a {@code CONNECT}, a body over the limit), for
     * a note on it: the one in flight with its trace id, else the only case in flight, else null. Counts nothing: such a
     * call is answered the same whoever it belongs to, and a tunnel's head carries no trace context of the calls inside
     * it (they are encrypted), so one without it says nothing of the candidate's propagation.
     */
    public CaseMocks owner(String traceId) {
        if (traceId != null) {
            CaseMocks byTrace = inFlight.get(traceId);
            if (byTrace != null || finished.containsKey(traceId)) {
                return byTrace;
            }
        }
        Iterator<CaseMocks> cases = inFlight.values().iterator();
        CaseMocks only = cases.hasNext() ? cases.next() : null;
        return only != null && !cases.hasNext() ? only : null;
    }

    /** True when {@code traceId} is that of a case that has finished and is not replayed again now: its calls are late. */
    public boolean finished(String traceId) {
        return traceId != null && !inFlight.containsKey(traceId) && finished.containsKey(traceId);
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

    /** Calls carrying the trace id of a case that had already finished (answered as unmatched, attributed to none). */
    public long lateCalls() {
        return late.get();
    }

    public int inFlight() {
        return inFlight.size();
    }
}
