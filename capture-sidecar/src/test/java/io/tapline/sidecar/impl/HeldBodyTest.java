package io.tapline.sidecar.impl;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeldBodyTest {

    private static Buffer bytes(int n, char c) {
        return Buffer.buffer(String.valueOf(c).repeat(n).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void shouldHandOnTheBytesHeldInABufferOfTheirOwnSize() {
        // The budget counts bytes held; a buffer grown by doubling held up to twice that (9,000 bytes in 16 KiB).
        HeldBody.Budget budget = new HeldBody.Budget(1 << 20);
        BodyTapTest.Source source = new BodyTapTest.Source();
        HeldBody held = new HeldBody(new BodyTap(source), 64 * 1024, budget);
        boolean[] ready = {false};
        held.read(() -> ready[0] = true, e -> { });
        for (int i = 0; i < 9; i++) {
            source.handler.handle(bytes(1000, (char) ('a' + i)));
        }
        assertFalse(ready[0], "within the limit and not ended: still held");
        source.endHandler.handle(null);
        assertTrue(ready[0]);
        assertTrue(held.ended());
        assertEquals(9000, budget.used());
        Buffer all = held.take();
        assertEquals(9000, all.length());
        assertEquals("a".repeat(1000) + "b".repeat(1000), all.getString(0, 2000));
        assertEquals("i".repeat(1000), all.getString(8000, 9000));
        ByteBuf view = ((BufferInternal) all).getByteBuf(); // a slice of the buffer's bytes: its capacity is theirs
        ByteBuf backing = view.unwrap() == null ? view : view.unwrap();
        assertEquals(9000, backing.capacity(), "a buffer the size of what it holds");
        assertEquals(0, budget.used());
    }

    @Test
    void shouldStopHoldingAtTheLimitAndGiveTheBudgetBackWhenDropped() {
        HeldBody.Budget budget = new HeldBody.Budget(1 << 20);
        BodyTapTest.Source source = new BodyTapTest.Source();
        HeldBody held = new HeldBody(new BodyTap(source), 1500, budget);
        boolean[] ready = {false};
        held.read(() -> ready[0] = true, e -> { });
        source.handler.handle(bytes(1000, 'x'));
        assertFalse(ready[0]);
        source.handler.handle(bytes(1000, 'y'));
        assertTrue(ready[0], "the limit is read: the app is asked for a connection");
        assertFalse(held.ended());
        assertEquals(2000, budget.used());
        held.drop();
        assertEquals(0, budget.used());
        source.handler.handle(bytes(1000, 'z'));
        assertEquals(0, budget.used(), "nothing is held once dropped");
    }

    @Test
    void shouldKeepABodyToSendAgainCountedUntilDropped() {
        // a request that may go again on a new connection keeps its body: still counted, the same bytes each time
        HeldBody.Budget budget = new HeldBody.Budget(1 << 20);
        BodyTapTest.Source source = new BodyTapTest.Source();
        HeldBody held = new HeldBody(new BodyTap(source), 64 * 1024, budget);
        held.read(() -> { }, e -> { });
        source.handler.handle(bytes(1000, 'a'));
        source.handler.handle(bytes(500, 'b'));
        source.endHandler.handle(null);
        Buffer first = held.keep();
        assertEquals("a".repeat(1000) + "b".repeat(500), first.toString(StandardCharsets.US_ASCII));
        assertEquals(1500, budget.used(), "kept bytes stay counted");
        Buffer again = held.keep();
        assertEquals(first, again);
        assertEquals(1500, budget.used());
        held.drop();
        assertEquals(0, budget.used());
    }
}
