package io.tapline.sidecar.impl;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A pass-through view of a body stream that keeps a copy of its first {@code cap} bytes and counts the rest.
 * Backpressure (pause/resume/fetch) goes straight to the source, so the body is streamed, never buffered whole.
 * The copy is paid for from a {@link CaptureBudget}: when a chunk does not fit, the tap stops copying and says so
 * ({@link CapturedBody#overBudget()}); the body still streams through. Chunks are copied on the event loop that owns
 * the source stream only. What is kept is the tap's {@link #copy()}, which outlives the stream.
 */
public final class BodyTap implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final CapturedBody copy;
    private long limit;
    private Runnable onLimit;
    /** Body bytes that came through, for the limit. */
    private long flowed;
    private boolean overLimit;
    private Runnable onChunk;
    private Runnable onEnd;

    /** A tap that copies nothing: the exchange is not captured. */
    public BodyTap(ReadStream<Buffer> source) {
        this(source, 0, null);
    }

    /**
     * @param cap    bytes of the body to copy
     * @param budget what the copy is paid from; null only when {@code cap} is 0
     */
    public BodyTap(ReadStream<Buffer> source, int cap, CaptureBudget budget) {
        this.source = source;
        this.copy = new CapturedBody(cap, budget);
    }

    /** A tap that never saw a body (e.g. GET without content). */
    public static BodyTap empty() {
        BodyTap t = new BodyTap(null);
        t.copy.end();
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

    /** Calls {@code onEnd} once the body has ended, before the stream's end handler (a pipe ends its destination there). */
    public void onEnd(Runnable onEnd) {
        this.onEnd = onEnd;
    }

    /** What is kept of the body: hold this, not the tap, once the exchange is over. */
    public CapturedBody copy() {
        return copy;
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
                copy.observe(chunk);
                flowed += chunk.length();
                if (onChunk != null) {
                    onChunk.run();
                }
                // counted here, not by the copy: a copy stops counting when its exchange ends, the limit does not
                if (limit > 0 && flowed > limit) {
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
                copy.end();
                if (onEnd != null) {
                    onEnd.run();
                }
                endHandler.handle(v);
            });
        }
        return this;
    }
}
