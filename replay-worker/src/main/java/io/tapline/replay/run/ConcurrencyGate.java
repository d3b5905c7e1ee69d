package io.tapline.replay.run;

import java.util.function.IntSupplier;

/**
 * Caps the cases in flight in this process. The limit is read on every acquire, so it can drop to one when the
 * candidate turns out not to propagate trace context.
 */
public final class ConcurrencyGate {

    private final IntSupplier limit;
    private int inFlight;

    public ConcurrencyGate(IntSupplier limit) {
        this.limit = limit;
    }

    public synchronized void acquire() throws InterruptedException {
        while (inFlight >= Math.max(1, limit.getAsInt())) {
            wait(50);
        }
        inFlight++;
    }

    public synchronized void release() {
        inFlight--;
        notifyAll();
    }

    public synchronized int inFlight() {
        return inFlight;
    }
}
