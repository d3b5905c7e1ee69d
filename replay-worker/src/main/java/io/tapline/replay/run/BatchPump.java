package io.tapline.replay.run;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
    private int next;
    private int finished;
    private boolean waiting;
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

    /** Runs {@code start} for every item on {@code context}; {@code start}'s futures must never fail. */
    static <I, O> Future<List<O>> run(Context context, ConcurrencyGate gate, RateLimiter rate, List<I> items,
                                      Function<I, Future<O>> start) {
        BatchPump<I, O> pump = new BatchPump<>(context, gate, rate, items, start);
        if (items.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        context.runOnContext(v -> pump.pump());
        return pump.done.future();
    }

    /** On the context thread only. */
    private void pump() {
        if (pumping) {
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
        while (next < items.size()) {
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
            f.onComplete(ar -> {
                gate.release();
                if (ar.failed()) {
                    done.tryFail(ar.cause());
                    return;
                }
                outcomes.set(i, ar.result());
                if (++finished == items.size()) {
                    done.tryComplete(outcomes);
                } else if (!waiting) {
                    pump();
                }
            });
        }
    }
}
