package io.tapline.replay.run;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.MockConsumer;
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

    @Test
    void aConsumerThatCannotLeaveItsGroupIsClosedWithinTheBound() {
        // As KafkaConsumer does with a JoinGroup of a rebalance under way at the coordinator: close() waits up to 30 s
        // for it, the whole of what the process gives its workers after SIGTERM; close(options) waits their timeout.
        CountDownLatch never = new CountDownLatch(1);
        AtomicReference<Duration> bound = new AtomicReference<>();
        MockConsumer<byte[], byte[]> stuck = new MockConsumer<>("earliest") {
            @Override
            public void close() {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void close(CloseOptions options) {
                bound.set(options.timeout().orElse(null));
                super.close(options);
            }
        };
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> ReplayWorker.closeConsumer(stuck));
        assertTrue(stuck.closed());
        assertEquals(ReplayWorker.CONSUMER_CLOSE, bound.get());
        assertTrue(ReplayWorker.CONSUMER_CLOSE.plus(ReplayWorker.PRODUCER_CLOSE).compareTo(Duration.ofSeconds(30)) < 0,
                "the two closes fit the 30 s the process gives its workers");
    }
}
