package io.tapline.replay.run;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * Caps the cases in flight in this process, across its workers, without blocking a thread: a worker's pump takes
 * a slot with {@link #tryAcquire()} and, when none is free, registers a wake-up with {@link #whenFree(Runnable)}.
 * The limit is read on every attempt, so it can drop to one when the candidate turns out not to propagate trace
 * context.
 */
public final class ConcurrencyGate {

    private final IntSupplier limit;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    public ConcurrencyGate(IntSupplier limit) {
        this.limit = limit;
    }

    public boolean tryAcquire() {
        while (true) {
            int now = inFlight.get();
            if (now >= limit()) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    public void release() {
        inFlight.decrementAndGet();
        Runnable r;
        while ((r = waiting.poll()) != null) {
            r.run();
        }
    }

    /** Runs {@code wake} once a slot may be free (at once if one is free now); the caller then tries again. */
    public void whenFree(Runnable wake) {
        waiting.add(wake);
        if (inFlight.get() < limit() && waiting.remove(wake)) {
            wake.run();
        }
    }

    /** The cases allowed in flight now (at least one). */
    public int limit() {
        return Math.max(1, limit.getAsInt());
    }

    public int inFlight() {
        return inFlight.get();
    }
}
