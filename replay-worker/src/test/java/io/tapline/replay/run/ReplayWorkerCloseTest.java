package io.tapline.replay.run;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.InterruptException;
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

    @Test
    void aProducerWhoseCloseFailsDoesNotReplaceWhatEndedTheWorker() {
        // closeProducer runs in a finally: an exception from close (an interrupted wait: InterruptException) would
        // replace the loop's own (a WakeupException, which means STOPPED), and the worker would report FAILED
        MockProducer<byte[], byte[]> failing = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public void close(Duration timeout) {
                super.close(timeout);
                throw new InterruptException("interrupted while closing");
            }
        };
        ReplayWorker.closeProducer(failing);
        assertTrue(failing.closed());
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller"); // and cleared for the next test
    }
}
