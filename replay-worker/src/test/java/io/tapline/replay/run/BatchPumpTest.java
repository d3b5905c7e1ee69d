package io.tapline.replay.run;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class BatchPumpTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void tearDown() {
        vertx.close().await();
    }

    private Future<Integer> slow(int i, AtomicInteger inFlight, AtomicInteger maxSeen) {
        maxSeen.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Promise<Integer> p = Promise.promise();
        vertx.setTimer(5, t -> {
            inFlight.decrementAndGet();
            p.complete(i * 10);
        });
        return p.future();
    }

    @Test
    void neverExceedsTheGateAndKeepsBatchOrder() throws Exception {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 3);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        Context context = vertx.getOrCreateContext();
        List<Integer> items = IntStream.range(0, 40).boxed().toList();
        List<Integer> out = BatchPump.start(context, gate, new RateLimiter(0), items, i -> slow(i, inFlight, maxSeen))
                .await(20_000, 20_000);
        assertEquals(items.stream().map(i -> i * 10).toList(), out);
        assertEquals(3, maxSeen.get());
        assertEquals(0, gate.inFlight());
    }

    /**
     * A stop (the worker's SIGTERM) starts none of the batch's remaining cases, waits for those in flight and gives
     * their outcomes, in batch order; the batch itself is not done, and waiting for it gives those outcomes too.
     */
    @Test
    void aStoppedBatchStartsNoMoreCasesAndGivesTheOutcomesOfThoseThatStarted() throws Exception {
        AtomicInteger starts = new AtomicInteger();
        List<Integer> items = IntStream.range(0, 20).boxed().toList();
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), new ConcurrencyGate(() -> 2),
                new RateLimiter(0), items, i -> {
                    starts.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    // 3 s for the batch: the stop comes long before its last case would start, however busy the machine
                    vertx.setTimer(300, t -> p.complete(i * 10));
                    return p.future();
                });
        while (starts.get() < 3) {
            Thread.sleep(5);
        }
        List<Integer> started = pump.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(started.size() >= 3 && started.size() < items.size(), "started: " + started);
        assertEquals(items.subList(0, started.size()).stream().map(i -> i * 10).toList(), started);
        Thread.sleep(300);
        assertEquals(started.size(), starts.get(), "no case starts after the stop");
        assertEquals(started, pump.await(1_000, 1_000), "a stopped batch's wait gives what the stop gives");
    }

    /**
     * A stop that comes as the batch is being started (the worker's close() racing its Batch.start) starts none of its
     * cases: before, the pump's first turn, already queued on the context, ran ahead of the stop and started as many
     * cases as the gate allowed.
     */
    @Test
    void aBatchStoppedAsItStartsStartsNone() throws Exception {
        AtomicInteger starts = new AtomicInteger();
        List<Integer> items = IntStream.range(0, 20).boxed().toList();
        // The context is held busy while the batch starts and is stopped, so the pump's first turn is queued there
        // behind the task holding it, as it is when the worker's close() comes during Batch.start. Without the hold the
        // event loop may run that turn before the stop is asked for, and starting cases then is right.
        Context context = vertx.getOrCreateContext();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        context.runOnContext(v -> {
            held.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(held.await(10, TimeUnit.SECONDS));
        BatchPump<Integer, Integer> pump = BatchPump.start(context, new ConcurrencyGate(() -> 8),
                new RateLimiter(0), items, i -> {
                    starts.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    vertx.setTimer(50, t -> p.complete(i));
                    return p.future();
                });
        Future<List<Integer>> stopped = pump.stop();
        release.countDown();
        assertEquals(List.of(), stopped.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(0, starts.get(), "cases started after the stop");
    }

    @Test
    void aBatchStoppedOnceEveryCaseStartedIsDone() throws Exception {
        AtomicInteger starts = new AtomicInteger();
        List<Integer> items = IntStream.range(0, 4).boxed().toList();
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), new ConcurrencyGate(() -> 10),
                new RateLimiter(0), items, i -> {
                    starts.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    vertx.setTimer(200, t -> p.complete(i));
                    return p.future();
                });
        while (starts.get() < items.size()) { // all four in flight
            Thread.sleep(5);
        }
        assertEquals(items, pump.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(items, pump.await(1_000, 1_000));
    }

    @Test
    void twoPumpsShareOneGate() throws Exception {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 1);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        List<Integer> items = IntStream.range(0, 10).boxed().toList();
        BatchPump<Integer, Integer> a = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0), items,
                i -> slow(i, inFlight, maxSeen));
        BatchPump<Integer, Integer> b = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0), items,
                i -> slow(i, inFlight, maxSeen));
        a.await(20_000, 20_000);
        b.await(20_000, 20_000);
        assertEquals(1, maxSeen.get(), "one case at a time across both pumps");
    }

    @Test
    void rateLimitSpacesTheStartsAfterTheBurst() throws Exception {
        long t0 = System.nanoTime();
        BatchPump.start(vertx.getOrCreateContext(), new ConcurrencyGate(() -> 100), new RateLimiter(5),
                IntStream.range(0, 8).boxed().toList(), i -> Future.succeededFuture(i))
                .await(20_000, 20_000);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= 0.5, "5 at once, then 3 more at 5 per second: took " + seconds + " s");
    }

    @Test
    void completesALargeBatchOfCasesThatFinishAtOnce() throws Exception {
        // Cases that complete before their future is returned (a truncated request is SKIPPED at once): the next
        // case used to start from inside the previous one's completion callback, one stack frame set deeper per case.
        List<Integer> items = IntStream.range(0, 100_000).boxed().toList();
        List<Integer> out = BatchPump.start(vertx.getOrCreateContext(), new ConcurrencyGate(() -> 16), new RateLimiter(0),
                        items, i -> Future.succeededFuture(i))
                .await(20_000, 20_000);
        assertEquals(items, out);
    }

    @Test
    void aBatchGivenUpStartsNoMoreCasesAndSaysWhenTheStartedOnesAreDone() throws Exception {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 2);
        Context context = vertx.getOrCreateContext();
        List<Promise<Integer>> started = new CopyOnWriteArrayList<>();
        BatchPump<Integer, Integer> pump = BatchPump.start(context, gate, new RateLimiter(0),
                IntStream.range(0, 10).boxed().toList(), i -> {
                    Promise<Integer> p = Promise.promise();
                    started.add(p);
                    return p.future();
                });
        while (started.size() < 2) {
            Thread.sleep(5);
        }
        Future<Void> idle = pump.cancel();
        // completed after the cancel, on the pump's context: before, each completion started the next case
        context.runOnContext(v -> started.forEach(p -> p.complete(1)));
        idle.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(2, started.size(), "no case started after the batch was given up");
        assertEquals(0, gate.inFlight());
        assertThrows(ExecutionException.class, () -> pump.await(1_000, 1_000), "a batch given up has no outcomes");
    }

    @Test
    void aBatchGivenUpAtItsTimeoutIsWaitedForBeforeItMayBeReplayedAgain() {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 1);
        AtomicInteger started = new AtomicInteger();
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0),
                IntStream.range(0, 5).boxed().toList(), i -> {
                    started.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    vertx.setTimer(2000, t -> p.complete(i)); // outlasts the 100 ms the batch is given
                    return p.future();
                });
        assertThrows(TimeoutException.class, () -> pump.await(100, 20_000));
        assertEquals(1, started.get(), "the case in flight was waited for; none started after the timeout");
        assertEquals(0, gate.inFlight());
        assertEquals(List.of(0), pump.ended().result(), "the outcome of the case that ended, for the worker to commit");
    }

    @Test
    void aBatchWhoseStartedCasesAllEndWhileItIsGivenUpKeepsTheirOutcomes() throws Exception {
        // Every case started before the safety net fired and ends during the wait for those in flight: the batch is
        // done, so its outcomes are returned (and committed) rather than the batch read and replayed again.
        ConcurrencyGate gate = new ConcurrencyGate(() -> 3);
        AtomicInteger started = new AtomicInteger();
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0),
                IntStream.range(0, 3).boxed().toList(), i -> {
                    started.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    vertx.setTimer(500, t -> p.complete(i * 10)); // outlasts the 100 ms the batch is given
                    return p.future();
                });
        assertEquals(List.of(0, 10, 20), pump.await(100, 20_000));
        assertEquals(3, started.get(), "each case ran once");
        assertEquals(0, gate.inFlight());
    }

    /**
     * The worker's stop (SIGTERM) comes while the safety net waits for the cases in flight of a batch it gave up: the
     * outcomes of the cases that ended are given, as a stop gives them, so the worker commits them and leaves only the
     * rest. Before, the wait threw the safety net's TimeoutException and the worker read the whole batch again.
     */
    @Test
    void aStopDuringTheSafetyNetsWaitGivesTheOutcomesOfTheCasesThatEnded() throws Exception {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 1);
        AtomicInteger started = new AtomicInteger();
        CountDownLatch secondStarted = new CountDownLatch(1);
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0),
                IntStream.range(0, 5).boxed().toList(), i -> {
                    started.incrementAndGet();
                    Promise<Integer> p = Promise.promise();
                    if (i == 1) {
                        secondStarted.countDown();
                    }
                    // the second case outlasts the 200 ms the batch is given: the safety net waits for it
                    vertx.setTimer(i == 0 ? 10 : 2_000, t -> p.complete(i * 10));
                    return p.future();
                });
        CompletableFuture<List<Integer>> awaited = CompletableFuture.supplyAsync(() -> {
            try {
                return pump.await(200, 20_000);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        assertTrue(secondStarted.await(10, TimeUnit.SECONDS));
        Thread.sleep(1_000); // the safety net fired at 200 ms; the second case ends at about 2 s
        assertFalse(awaited.isDone(), "the second case is still in flight");
        List<Integer> stopped = pump.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(List.of(0, 10), stopped);
        assertEquals(List.of(0, 10), awaited.get(10, TimeUnit.SECONDS), "the outcomes of the two cases that ended");
        assertEquals(2, started.get(), "no case started after the safety net fired");
        assertEquals(0, gate.inFlight());
    }

    @Test
    void aCaseOfAGivenUpBatchThatNeverEndsStopsTheWaitWithAClearError() {
        ConcurrencyGate gate = new ConcurrencyGate(() -> 3);
        BatchPump<Integer, Integer> pump = BatchPump.start(vertx.getOrCreateContext(), gate, new RateLimiter(0),
                IntStream.range(0, 5).boxed().toList(), i -> Promise.<Integer>promise().future());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pump.await(100, 100));
        assertTrue(e.getMessage().startsWith("3 case(s) of a batch given up after 100 ms are still in flight 100 ms later"),
                e.getMessage());
    }
}
