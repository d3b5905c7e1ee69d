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
