package io.tapline.sidecar.impl;

import io.vertx.core.buffer.Buffer;

/**
 * The copy a {@link BodyTap} keeps of a body: its first {@code cap} bytes, paid for from a {@link CaptureBudget}, and
 * the size of the whole. Kept apart from the tap so a finished capture waiting for publication holds only these
 * bytes, not the request, response and connection objects of the stream it was copied from.
 */
public final class CapturedBody {

    private final int cap;
    private final CaptureBudget budget;
    private Buffer captured;
    private long reserved;
    private boolean overBudget;
    private long total;
    private boolean ended;
    /** The copy is over (its exchange ended): later chunks are not copied, paid for or counted. */
    private boolean frozen;

    /**
     * @param cap    bytes of the body to copy
     * @param budget what the copy is paid from; null only when {@code cap} is 0
     */
    CapturedBody(int cap, CaptureBudget budget) {
        if (cap > 0 && budget == null) {
            throw new IllegalArgumentException("a capturing tap needs a budget");
        }
        this.cap = cap;
        this.budget = budget;
    }

    void observe(Buffer chunk) {
        if (frozen) {
            return;
        }
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

    void end() {
        if (!frozen) {
            ended = true;
        }
    }

    /**
     * Ends the copy where it is, on the event loop, before its exchange is handed to the publisher thread. The body
     * may still be streaming (an app that answered before reading the upload, a 502 while the client still sends):
     * without this, chunks arriving after publication would take budget that nothing gives back, and write fields
     * the publisher reads. The record shows such a body as not ended.
     */
    void freeze() {
        frozen = true;
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
