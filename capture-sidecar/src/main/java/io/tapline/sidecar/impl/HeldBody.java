package io.tapline.sidecar.impl;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first bytes of a request body, read from the client before the app is asked for a connection (nginx's request
 * buffering, up to a limit). A body that ends within the limit goes to the app whole; a larger one, once the limit
 * is read, goes with what was held and then streams. A client that trickles its body (a byte a minute) so holds
 * sidecar memory, not one of the app's pooled connections: without it, a few hundred such clients took every
 * connection the sidecar may open to the app and other clients got 504.
 *
 * <p>Held bytes are counted in a {@link Budget} shared by every event loop. A body that arrives when the budget is
 * spent is not held at all (it streams from its first byte); one being held when the budget runs out goes on with
 * what it has. Held bytes so stay within the budget plus one chunk (the HTTP decoder's, 8 KiB at most) for each body
 * that was being held as it ran out. The queue Vert.x keeps for a paused request is apart from this, held or not.
 */
final class HeldBody {

    /** Bytes held by every request body at once. */
    static final class Budget {
        private final long maxBytes;
        private final AtomicLong used = new AtomicLong();

        Budget(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        /** Counts {@code bytes} as held; false when the budget is now spent (they are counted all the same). */
        boolean take(long bytes) {
            return used.addAndGet(bytes) <= maxBytes;
        }

        void release(long bytes) {
            used.addAndGet(-bytes);
        }

        /** No more bytes may be held: a body arriving now streams from its first byte. */
        boolean spent() {
            return used.get() >= maxBytes;
        }

        long used() {
            return used.get();
        }

        long maxBytes() {
            return maxBytes;
        }
    }

    private final BodyTap body;
    private final long limit;
    private final Budget budget;
    /** The chunks as they came, joined once when handed on: a buffer grown by doubling holds up to twice its bytes. */
    private List<Buffer> chunks = new ArrayList<>();
    /** Bytes held, counted in the budget and not yet given back. */
    private long counted;
    private boolean ended;
    private boolean ready;
    /** The exchange ended while the body was held: what still arrives is dropped. */
    private boolean dropped;

    HeldBody(BodyTap body, long limit, Budget budget) {
        this.body = body;
        this.limit = limit;
        this.budget = budget;
    }

    /**
     * Reads the body (the request must be paused) until it ends, the limit is read or the budget is spent; then
     * pauses it and calls {@code ready} once. {@code broken} gets the stream's failure while it is read here (the
     * client left, its chunked framing broke).
     */
    void read(Runnable ready, Handler<Throwable> broken) {
        body.exceptionHandler(broken);
        body.endHandler(v -> {
            ended = true;
            ready(ready);
        });
        body.handler(chunk -> {
            if (dropped) {
                return;
            }
            chunks.add(chunk);
            counted += chunk.length();
            boolean fits = budget.take(chunk.length());
            if (counted >= limit || !fits) {
                body.pause();
                ready(ready);
            }
        });
        body.resume();
    }

    private void ready(Runnable ready) {
        if (!this.ready) {
            this.ready = true;
            ready.run();
        }
    }

    /** True when the whole body was read: {@link #take()} is all of it. */
    boolean ended() {
        return ended;
    }

    /** The bytes held, handed on (to be written to the app); the budget gets them back. */
    Buffer take() {
        Buffer out;
        if (chunks.size() == 1) {
            out = chunks.get(0);
        } else {
            out = Buffer.buffer((int) counted);
            for (Buffer chunk : chunks) {
                out.appendBuffer(chunk);
            }
        }
        release();
        return out;
    }

    /**
     * The whole body, handed on to be written to the app and kept, still counted in the budget, so that it can be
     * sent again on another connection (a request that failed on a stale pooled connection); {@link #drop()} gives
     * it back. Called again, it returns the same bytes.
     */
    Buffer keep() {
        Buffer out = take();
        counted = out.length();
        budget.take(counted);
        chunks.add(out);
        return out;
    }

    /** The exchange ended before the body was handed on: the bytes held are given back, and later ones dropped. */
    void drop() {
        dropped = true;
        release();
    }

    private void release() {
        if (counted > 0) {
            budget.release(counted);
            counted = 0;
        }
        if (!chunks.isEmpty()) {
            chunks = new ArrayList<>();
        }
    }
}
