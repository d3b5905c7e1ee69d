package io.tapline.sidecar.impl;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BodyTapTest {

    private static Buffer bytes(int n) {
        return Buffer.buffer("y".repeat(n).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldPayForTheCopyFromTheBudgetAndGiveItBackOnce() {
        CaptureBudget budget = new CaptureBudget(1000);
        CapturedBody tap = new BodyTap(null, 300, budget).copy();
        tap.observe(bytes(200));
        tap.observe(bytes(200)); // only 100 more are copied: the cap
        assertEquals(300, tap.capturedLength());
        assertEquals(400, tap.total());
        assertEquals(300, budget.used());
        assertFalse(tap.overBudget());
        tap.releaseBudget();
        tap.releaseBudget();
        assertEquals(0, budget.used());
    }

    /** A copy grown chunk by chunk holds an array larger than its bytes: the budget pays for the array. */
    @Test
    void shouldPayForTheMemoryTheCopyHoldsNotOnlyItsBytes() {
        CaptureBudget budget = new CaptureBudget(1 << 20);
        CapturedBody tap = new BodyTap(null, 10_000, budget).copy();
        for (int i = 0; i < 100; i++) {
            tap.observe(bytes(65)); // a chunked upload in small chunks
        }
        assertEquals(6500, tap.capturedLength());
        assertTrue(tap.heldBytes() >= 6500 && tap.heldBytes() <= 10_000, "held " + tap.heldBytes());
        assertEquals(tap.heldBytes(), budget.used(), "the budget bounds the heap the copy takes");
        for (int i = 0; i < 100; i++) {
            tap.observe(bytes(65));
        }
        assertEquals(10_000, tap.capturedLength());
        assertEquals(10_000, tap.heldBytes(), "never more than the cap");
        assertEquals(10_000, budget.used());
        assertEquals("y".repeat(10_000), new String(tap.capturedBytes(), StandardCharsets.US_ASCII));
        tap.releaseBudget();
        assertEquals(0, budget.used());

        CapturedBody whole = new BodyTap(null, 10_000, budget).copy();
        whole.observe(bytes(55));
        assertEquals(55, budget.used(), "a body in one chunk: an array of its size");

        // near a full budget, a doubled array that does not fit gives way to one of the size the chunk needs
        CaptureBudget small = new CaptureBudget(260);
        CapturedBody tight = new BodyTap(null, 1000, small).copy();
        tight.observe(bytes(100));
        tight.observe(bytes(100));
        tight.observe(bytes(50)); // 250 in all: fits in 260, a 400-byte array would not
        assertFalse(tight.overBudget());
        assertEquals(250, tight.capturedLength());
        assertEquals(250, small.used());
    }

    @Test
    void shouldLeaveNothingOfAPublishedCaptureReachableThroughItsInteraction() throws InterruptedException {
        CaptureBudget budget = new CaptureBudget(100_000);
        BodyTap tap = new BodyTap(null, 64 * 1024, budget);
        CapturedMessage request = CapturedMessage.request("GET", "http", "shop", "/a", null, List.of(), tap);
        request.body.observe(bytes(10_000));
        CapturedMessage response = CapturedMessage.response(200, List.of(), new BodyTap(null, 64 * 1024, budget));
        PendingInteraction p = new PendingInteraction("id", "trace", "GET /a", System.nanoTime(), null);
        p.complete(new Exchange(request, response, 200, 0, 0, 0, 0, null), 0);
        WeakReference<CapturedMessage> body = new WeakReference<>(request);
        request = null;
        response = null;
        p.seal();
        p.releaseBudget(); // published
        assertEquals(0, budget.used());
        assertNull(p.exchange(), "a tunnel's close handler holding the interaction holds none of its capture");
        assertTrue(p.calls().isEmpty());
        assertFalse(p.reserveCall(), "and no call attaches any more");
        for (int i = 0; i < 50 && body.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(body.get(), "the captured message is garbage once published");
    }

    @Test
    void shouldStopCopyingAndSaySoWhenTheBudgetHasNoRoom() {
        CaptureBudget budget = new CaptureBudget(250);
        assertTrue(budget.tryReserve(100)); // another capture holds some
        CapturedBody tap = new BodyTap(null, 300, budget).copy();
        tap.observe(bytes(100));
        tap.observe(bytes(100)); // 200 in all would exceed 250
        tap.observe(bytes(10));  // nothing more is copied, even what would fit now
        assertTrue(tap.overBudget());
        assertEquals(100, tap.capturedLength());
        assertEquals(210, tap.total(), "the body is still counted: it flows on");
        assertEquals(200, budget.used());
        tap.releaseBudget();
        assertEquals(100, budget.used());
        assertFalse(budget.exhausted());
        assertTrue(budget.tryReserve(150));
        assertTrue(budget.exhausted());
    }

    @Test
    void shouldCopyNothingWithoutACap() {
        CapturedBody tap = new BodyTap(null).copy();
        tap.observe(bytes(50));
        assertEquals(0, tap.capturedLength());
        assertEquals(50, tap.total());
        assertFalse(tap.overBudget());
        assertThrows(IllegalArgumentException.class, () -> new BodyTap(null, 10, null));
        assertThrows(IllegalArgumentException.class, () -> new CaptureBudget(0));
    }

    /** A body stream that delivers what it is given to the handler set on it. */
    static final class Source implements ReadStream<Buffer> {
        Handler<Buffer> handler;
        Handler<Void> endHandler;

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
            return this;
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> h) {
            handler = h;
            return this;
        }

        @Override
        public ReadStream<Buffer> pause() {
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            return this;
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> h) {
            endHandler = h;
            return this;
        }
    }

    @Test
    void shouldKeepOnlyTheCopyOnceTheMessageIsCaptured() throws InterruptedException {
        // A finished capture waits out its grace period and the queue before it is published: it must not keep the
        // request, response and connection objects of its streams alive all that time (they are most of a young GC's work).
        CaptureBudget budget = new CaptureBudget(1000);
        Source source = new Source();
        WeakReference<Source> stream = new WeakReference<>(source);
        BodyTap tap = new BodyTap(source, 300, budget);
        tap.onChunk(() -> { });
        tap.handler(chunk -> { });
        tap.endHandler(v -> { });
        source.handler.handle(bytes(120));
        source.endHandler.handle(null);
        CapturedMessage kept = CapturedMessage.response(200, List.of(), tap);
        source = null;
        tap = null;
        for (int i = 0; i < 50 && stream.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(stream.get(), "the captured message still reaches the body stream");
        assertEquals(120, kept.body.capturedLength());
        assertEquals(120, kept.body.total());
        assertTrue(kept.body.ended());
        assertEquals(120, budget.used());
    }
}
