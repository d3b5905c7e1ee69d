package io.tapline.sidecar.impl;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A pass-through view of a body stream that keeps a copy of its first {@code cap} bytes and counts the rest.
 * Backpressure (pause/resume/fetch) goes straight to the source, so the body is streamed, never buffered whole.
 * The copy is paid for from a {@link CaptureBudget}: when a chunk does not fit, the tap stops copying and says so
 * ({@link #overBudget()}); the body still streams through. Chunks are copied on the event loop that owns the source
 * stream only; {@link #releaseBudget()} runs once the exchange has ended (on the publisher thread).
 */
public final class BodyTap implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final int cap;
    private final CaptureBudget budget;
    private Buffer captured;
    private long reserved;
    private boolean overBudget;
    private long total;
    private boolean ended;
    private long limit;
    private Runnable onLimit;
    private boolean overLimit;
    private Runnable onChunk;

    /** A tap that copies nothing: the exchange is not captured. */
    public BodyTap(ReadStream<Buffer> source) {
        this(source, 0, null);
    }

    /**
     * @param cap    bytes of the body to copy
     * @param budget what the copy is paid from; null only when {@code cap} is 0
     */
    public BodyTap(ReadStream<Buffer> source, int cap, CaptureBudget budget) {
        if (cap > 0 && budget == null) {
            throw new IllegalArgumentException("a capturing tap needs a budget");
        }
        this.source = source;
        this.cap = cap;
        this.budget = budget;
    }

    /** A tap that never saw a body (e.g. GET without content). */
    public static BodyTap empty() {
        BodyTap t = new BodyTap(null);
        t.ended = true;
        return t;
    }

    /** Calls {@code onLimit} once (and stops passing chunks on) when more than {@code maxBytes} have flowed. */
    public void limit(long maxBytes, Runnable onLimit) {
        this.limit = maxBytes;
        this.onLimit = onLimit;
    }

    /** Calls {@code onChunk} for every chunk that passes (progress for an idle timeout). */
    public void onChunk(Runnable onChunk) {
        this.onChunk = onChunk;
    }

    void observe(Buffer chunk) {
        int len = chunk.length();
        if (cap > 0 && !overBudget && capturedLength() < cap) {
            int take = Math.min(len, cap - capturedLength());
            if (!budget.tryReserve(take)) {
                overBudget = true; // the capture is dropped whole later; the body itself flows on untouched
            } else {
                reserved += take;
                if (captured == null) {
                    captured = Buffer.buffer(Math.min(cap, Math.max(len, 256)));
                }
                captured.appendBuffer(take == len ? chunk : chunk.slice(0, take));
            }
        }
        total += len;
    }

    /** True when the capture budget could not pay for a chunk: the copy is incomplete and must not be published. */
    public boolean overBudget() {
        return overBudget;
    }

    /** Returns what the copy took from the budget (idempotent); the copy itself is left to the collector. */
    public void releaseBudget() {
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        source.exceptionHandler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        if (handler == null) {
            source.handler(null);
        } else {
            source.handler(chunk -> {
                if (overLimit) {
                    return;
                }
                observe(chunk);
                if (onChunk != null) {
                    onChunk.run();
                }
                if (limit > 0 && total > limit) {
                    overLimit = true;
                    onLimit.run();
                    return;
                }
                handler.handle(chunk);
            });
        }
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        source.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        source.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        source.fetch(amount);
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        if (endHandler == null) {
            source.endHandler(null);
        } else {
            source.endHandler(v -> {
                ended = true;
                endHandler.handle(v);
            });
        }
        return this;
    }

    /** The captured prefix as bytes (a copy). */
    public byte[] capturedBytes() {
        return captured == null ? new byte[0] : captured.getBytes();
    }

    /** Body size so far; the whole size once the stream ended. */
    public long total() {
        return total;
    }

    public boolean ended() {
        return ended;
    }

    public boolean truncated() {
        return total > capturedLength();
    }

    public int capturedLength() {
        return captured == null ? 0 : captured.length();
    }
}
