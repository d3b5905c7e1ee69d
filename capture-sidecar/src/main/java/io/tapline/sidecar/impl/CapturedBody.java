package io.tapline.sidecar.impl;

import io.vertx.core.buffer.Buffer;

import java.util.Arrays;

/**
 * The copy a {@link BodyTap} keeps of a body: its first {@code cap} bytes, paid for from a {@link CaptureBudget}, and
 * the size of the whole. Kept apart from the tap so a finished capture waiting for publication holds only these
 * bytes, not the request, response and connection objects of the stream it was copied from. The budget pays for the
 * array the copy is held in, not only the bytes in it: a copy grown chunk by chunk doubles its array (up to
 * {@code cap}), and the heap it takes is what the budget bounds.
 */
public final class CapturedBody {

    private final int cap;
    private final CaptureBudget budget;
    /** The copy; its length is what the budget paid for. */
    private byte[] captured;
    private int length;
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
        if (cap > 0 && !overBudget && length < cap) {
            int take = Math.min(len, cap - length);
            int needed = length + take;
            int held = captured == null ? 0 : captured.length;
            if (needed > held) {
                // the first chunk in an array of its size (most bodies are one), then doubling up to the cap
                int grown = captured == null ? needed : Math.min(cap, Math.max(needed, held * 2));
                boolean paid = budget.tryReserve(grown - held);
                if (!paid && grown > needed) {
                    grown = needed; // a doubled array does not fit: one of the size this chunk needs may
                    paid = budget.tryReserve(grown - held);
                }
                if (!paid) {
                    overBudget = true; // the capture is dropped whole later; the body itself flows on untouched
                    total += len;
                    return;
                }
                reserved += grown - held;
                captured = captured == null ? new byte[grown] : Arrays.copyOf(captured, grown);
            }
            chunk.getBytes(0, take, captured, length);
            length = needed;
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
        return captured == null ? new byte[0] : Arrays.copyOf(captured, length);
    }

    /** The size of the array the copy is held in: what it takes from the budget. */
    int heldBytes() {
        return captured == null ? 0 : captured.length;
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
        return length;
    }
}
