package io.tapline.sidecar.impl;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of captured bodies and heads the sidecar may hold at once, shared by every event loop and the publisher:
 * a body tap reserves each captured chunk before copying it, a finished exchange its heads before it is handed on
 * ({@link CapturedMessage#chargeHead}), and the interaction gives its bytes back once it has been
 * published or dropped. In flight, in the grace period and in the publisher's queue alike, capture memory stays
 * under the bound whatever the traffic; an interaction that could not reserve a chunk is dropped whole
 * ({@code capture_memory}), never published with a body cut short.
 */
public final class CaptureBudget {

    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();

    public CaptureBudget(long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("capture budget must be > 0 bytes, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** Takes {@code bytes} from the budget; false (and nothing taken) when that would exceed the bound. */
    public boolean tryReserve(long bytes) {
        while (true) {
            long u = used.get();
            if (u + bytes > maxBytes) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /** True when not even one more byte fits: new interactions are then not captured at all. */
    public boolean exhausted() {
        return used.get() >= maxBytes;
    }

    public long used() {
        return used.get();
    }

    public long maxBytes() {
        return maxBytes;
    }
}
