package io.tapline.replay.run;

import io.tapline.replay.mock.MockRegistry;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Whether cases may run concurrently. Concurrent cases are told apart at the mock only by the trace id the
 * candidate propagates to its outbound calls. In {@code auto} mode the process runs up to {@code concurrency}
 * cases at once and drops to one case at a time, for the rest of the run and saying so, as soon as a dependency
 * call arrives without a known trace id; the cases in flight at that moment are replayed again by their worker.
 * {@code required} trusts the candidate; {@code none} never runs cases concurrently.
 */
public final class Propagation {

    public enum Mode { AUTO, REQUIRED, NONE }

    private final Mode mode;
    private final int concurrency;
    private final MockRegistry registry;
    private final Consumer<String> notice;
    private final AtomicBoolean announcedFallback = new AtomicBoolean();
    private final AtomicBoolean announcedProven = new AtomicBoolean();

    public Propagation(Mode mode, int concurrency, MockRegistry registry, Consumer<String> notice) {
        this.mode = mode;
        this.concurrency = Math.max(1, concurrency);
        this.registry = registry;
        this.notice = notice;
    }

    public static Mode parse(String s) {
        return Mode.valueOf(s.trim().toUpperCase(Locale.ROOT));
    }

    /** Cases allowed in flight right now. */
    public int limit() {
        switch (mode) {
            case REQUIRED:
                return concurrency;
            case NONE:
                return 1;
            default:
                if (registry.untracedCalls() > 0) {
                    if (concurrency > 1 && announcedFallback.compareAndSet(false, true)) {
                        notice.accept("the candidate does not propagate trace context (an outbound call arrived without"
                                + " its case's traceparent): replaying one case at a time instead of " + concurrency);
                    }
                    return 1;
                }
                if (registry.tracedCalls() > 0 && concurrency > 1 && announcedProven.compareAndSet(false, true)) {
                    notice.accept("the candidate propagates trace context: replaying up to " + concurrency + " cases at a time");
                }
                return concurrency;
        }
    }

    /** True when the candidate was seen not to propagate trace context. */
    public boolean fellBack() {
        return mode == Mode.AUTO && registry.untracedCalls() > 0;
    }
}
