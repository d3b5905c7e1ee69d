package io.tapline.sidecar.impl;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteBoundedQueueTest {

    @Test
    void shouldRefuseItemsBeyondTheByteBoundAndAcceptAgainAfterDraining() throws InterruptedException {
        ByteBoundedQueue<String> q = new ByteBoundedQueue<>(100);
        assertTrue(q.offer("a", 60));
        assertFalse(q.offer("b", 50), "60 + 50 > 100");
        assertTrue(q.offer("c", 40));
        assertEquals(100, q.bytes());
        assertEquals("a", q.poll(0, TimeUnit.MILLISECONDS));
        assertEquals(40, q.bytes());
        assertTrue(q.offer("b", 50));
        assertEquals("c", q.poll(0, TimeUnit.MILLISECONDS));
        assertEquals("b", q.poll(0, TimeUnit.MILLISECONDS));
        assertNull(q.poll(10, TimeUnit.MILLISECONDS));
        assertEquals(0, q.bytes());
    }

    @Test
    void shouldLookLessOftenWhileIdleAndQuicklyAgainOnceItemsFlow() throws InterruptedException {
        ByteBoundedQueue<String> q = new ByteBoundedQueue<>(100);
        assertEquals(ByteBoundedQueue.IDLE_PARK_NANOS, q.idleParkNanos());

        for (int i = 0; i < 20; i++) {
            assertNull(q.poll(5, TimeUnit.MILLISECONDS)); // each empty look doubles the next sleep: 1, 2, 4, 8, 10, 10 ms
        }
        assertEquals(ByteBoundedQueue.MAX_IDLE_PARK_NANOS, q.idleParkNanos(), "backs off to the cap, not beyond");

        assertTrue(q.offer("a", 1));
        assertEquals("a", q.poll(100, TimeUnit.MILLISECONDS));
        assertEquals(ByteBoundedQueue.IDLE_PARK_NANOS, q.idleParkNanos(), "an item brings the short sleep back");
    }

    @Test
    void shouldWakeAWaitingConsumer() throws Exception {
        ByteBoundedQueue<String> q = new ByteBoundedQueue<>(100);
        Thread producer = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            q.offer("x", 1);
        });
        producer.start();
        assertEquals("x", q.poll(5, TimeUnit.SECONDS));
        producer.join();
    }
}
