package io.tapline.replay.run;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayWorkerCloseTest {

    @Test
    void aProducerThatCannotEndItsTransactionIsClosedWithinTheBound() {
        // As KafkaProducer does with its transaction still open and the broker out of reach: close() waits for ever,
        // close(timeout) gives up at the timeout.
        CountDownLatch never = new CountDownLatch(1);
        AtomicReference<Duration> bound = new AtomicReference<>();
        MockProducer<byte[], byte[]> stuck = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public void close() {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void close(Duration timeout) {
                bound.set(timeout);
                super.close(timeout);
            }
        };
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> ReplayWorker.closeProducer(stuck));
        assertTrue(stuck.closed());
        assertEquals(ReplayWorker.PRODUCER_CLOSE, bound.get());
    }
}
