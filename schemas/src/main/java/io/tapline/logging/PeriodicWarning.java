package io.tapline.logging;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Counts a recurring failure (a record dead-lettered, say) and says when a warning about it is due: at the first
 * occurrence, then at the first one after each interval, with the count since the last warning. A failure that
 * recurs for every record is then neither one line per record nor silent.
 */
public final class PeriodicWarning {

    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private boolean warned;
    private long lastWarning;
    private long count;

    public PeriodicWarning(Duration interval) {
        this(interval, System::nanoTime);
    }

    public PeriodicWarning(Duration interval, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Counts one occurrence. Returns 0 when no warning is due, else the occurrences to report: those since the last
     * warning, this one included.
     */
    public synchronized long occurred() {
        count++;
        long now = nanoClock.getAsLong();
        if (warned && now - lastWarning < intervalNanos) {
            return 0;
        }
        warned = true;
        lastWarning = now;
        long due = count;
        count = 0;
        return due;
    }
}
