package io.tapline.replay.run;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Replays a batch on one event-loop context: starts cases while the process-wide gate and the rate limiter allow,
 * and starts the next one from the completion callback of the previous, so no thread hands cases over one by one.
 * Completes with the outcomes in batch order once every case is done.
 */
final class BatchPump<I, O> {

    private final Context context;
    private final ConcurrencyGate gate;
    private final RateLimiter rate;
    private final List<I> items;
    private final Function<I, Future<O>> start;
    private final List<O> outcomes;
    private final Promise<List<O>> done = Promise.promise();
    /** Completed once the batch is given up and none of its started cases is in flight. */
    private final Promise<Void> idle = Promise.promise();
    /** Completed with the outcomes of the cases that started, in order, once a stopped batch has none in flight. */
    private final Promise<List<O>> started = Promise.promise();
    private int next;
    private int finished;
    /** Cases started and not done; written on the context thread only. */
    private volatile int inFlight;
    private boolean waiting;
    /** Set by {@link #cancel()}: no more cases start. */
    private boolean cancelled;
    /**
     * Set by {@link #cancel()} at once, from its own thread: the pump starts no case once it is seen. {@link #cancelled}
     * is set later, on the context, behind what was queued there before (the pump's first turn, a case's completion
     * that starts the next); before, those started cases after the stop, up to the gate's limit.
     */
    private volatile boolean givenUp;
    /** Set by {@link #stop()}: the worker is stopping, and what ended of the batch is kept, whatever gave it up. */
    private volatile boolean stopped;
    /**
     * True while {@link #pump()} runs its loop: a case that completes inside it (one that finishes before its future
     * is returned, a SKIPPED truncated request say) lets the loop go on instead of starting a nested pump, which
     * took a stack frame set per such case and overflowed the stack at about a thousand in a row.
     */
    private boolean pumping;

    private BatchPump(Context context, ConcurrencyGate gate, RateLimiter rate, List<I> items, Function<I, Future<O>> start) {
        this.context = context;
        this.gate = gate;
        this.rate = rate;
        this.items = items;
        this.start = start;
        this.outcomes = new ArrayList<>(Collections.nCopies(items.size(), null));
    }

    /**
     * Runs {@code start} for every item on {@code context}; {@code start}'s futures must never fail. The pump returned
     * gives the outcomes ({@link #await}) and can be given up.
     */
    static <I, O> BatchPump<I, O> start(Context context, ConcurrencyGate gate, RateLimiter rate, List<I> items,
                                        Function<I, Future<O>> start) {
        BatchPump<I, O> pump = new BatchPump<>(context, gate, rate, items, start);
        if (items.isEmpty()) {
            pump.done.complete(List.of());
        } else {
            context.runOnContext(v -> pump.pump());
        }
        return pump;
    }

    /**
     * Gives the batch up: none of its cases starts any more, and the future completes once none of those started is
     * in flight. The outcomes then complete too: with every case's when each had started and ended by then (the batch
     * is done after all), else failed. From any thread.
     */
    Future<Void> cancel() {
        givenUp = true;
        context.runOnContext(v -> {
            cancelled = true;
            if (inFlight == 0) {
                settle();
            }
        });
        return idle.future();
    }

    /**
     * Stops the batch as the worker stops (SIGTERM): none of its cases starts any more, and the future completes, once
     * none of those started is in flight, with their outcomes in batch order (all of them when every case had started;
     * up to the first that did not end well otherwise). The outcomes ({@link #await}) complete as after
     * {@link #cancel}. From any thread.
     */
    Future<List<O>> stop() {
        stopped = true;
        cancel();
        return ended();
    }

    /**
     * The outcomes of the cases that ended, in batch order, up to the first that did not (not started, or failed): all
     * of them when the batch is done. Completes once a batch given up ({@link #cancel}, {@link #stop}, {@link #await})
     * has none of its cases in flight; a batch that is not given up does not complete it.
     */
    Future<List<O>> ended() {
        return started.future();
    }

    /** On the context thread, once a given-up batch has nothing in flight. */
    private void settle() {
        if (finished == items.size()) {
            done.tryComplete(outcomes);
        } else {
            done.tryFail("the batch was given up");
        }
        List<O> ended = new ArrayList<>();
        for (int i = 0; i < next && outcomes.get(i) != null; i++) {
            ended.add(outcomes.get(i));
        }
        started.tryComplete(ended);
        idle.tryComplete();
    }

    /**
     * Waits up to {@code millis} for the outcomes (from a thread that is not the pump's). A batch not done by then, or
     * failed, is given up ({@link #cancel}) and its cases still in flight are waited for, up to {@code drainMillis}.
     * When every case of the batch had started and they all ended well by then, the outcomes are returned: the batch
     * is done, and replaying it again would only repeat that work. When the batch was stopped ({@link #stop}, before
     * or during that wait), the outcomes of the cases that started are returned, as {@link #stop} gives them (up to
     * the first that did not end well): the worker commits those and leaves the rest. Otherwise the TimeoutException
     * (or ExecutionException) is thrown, once none of its cases is in flight: {@link #ended} then gives the outcomes of
     * those that ended, and the others may be replayed again without one being in flight twice (its trace id would be
     * taken, and the copy an ERROR). Throws IllegalStateException when some are still in flight then.
     */
    List<O> await(long millis, long drainMillis) throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return done.future().toCompletionStage().toCompletableFuture().get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            try {
                cancel().toCompletionStage().toCompletableFuture().get(drainMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stuck) {
                throw new IllegalStateException(inFlight + " case(s) of a batch given up after " + millis
                        + " ms are still in flight " + drainMillis + " ms later", e);
            }
            // settled before idle completed, on the context: seen here through the wait above
            Future<List<O>> settled = done.future();
            if (settled.succeeded()) {
                return settled.result();
            }
            if (stopped) {
                // settled with done: the outcomes of those that started are complete. Before, a stop that came while
                // the safety net waited for the cases in flight threw, and the worker read the whole batch again.
                return started.future().result();
            }
            throw e;
        }
    }

    /** On the context thread only. */
    private void pump() {
        if (pumping || cancelled || givenUp) {
            return; // called from a completion inside the loop below, which goes on
        }
        pumping = true;
        try {
            pumpLoop();
        } finally {
            pumping = false;
        }
    }

    private void pumpLoop() {
        waiting = false;
        while (next < items.size() && !givenUp) {
            if (!gate.tryAcquire()) {
                if (!waiting) {
                    waiting = true;
                    gate.whenFree(() -> context.runOnContext(v -> pump()));
                }
                return;
            }
            long wait = rate.reserve();
            if (wait > 0) {
                gate.release();
                waiting = true;
                context.owner().setTimer(Math.max(1, wait / 1_000_000), t -> pump());
                return;
            }
            int i = next++;
            Future<O> f;
            try {
                f = start.apply(items.get(i));
            } catch (RuntimeException e) {
                gate.release();
                done.tryFail(e);
                return;
            }
            inFlight++;
            f.onComplete(ar -> {
                gate.release();
                inFlight--;
                if (ar.failed()) {
                    done.tryFail(ar.cause());
                } else {
                    outcomes.set(i, ar.result());
                    finished++;
                }
                if (cancelled) {
                    if (inFlight == 0) {
                        settle();
                    }
                } else if (finished == items.size()) {
                    done.tryComplete(outcomes);
                } else if (ar.succeeded() && !waiting) {
                    pump();
                }
            });
        }
    }
}
