package io.tapline.replay.run;

import io.tapline.avro.Verdict;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Cases this process has replayed, by verdict, and the rate: the run's progress lines. Thread-safe. */
public final class Progress {

    private final long startNanos = System.nanoTime();
    private final Map<Verdict, AtomicLong> byVerdict = new EnumMap<>(Verdict.class);
    private final AtomicLong total = new AtomicLong(-1);

    public Progress() {
        for (Verdict v : Verdict.values()) {
            byVerdict.put(v, new AtomicLong());
        }
    }

    public void record(Verdict verdict) {
        byVerdict.get(verdict).incrementAndGet();
    }

    /** At most this many cases are in the run (offsets between the log start and the run's bounds). */
    public void totalAtMost(long n) {
        total.set(n);
    }

    public long done() {
        long sum = 0;
        for (AtomicLong a : byVerdict.values()) {
            sum += a.get();
        }
        return sum;
    }

    public long count(Verdict v) {
        return byVerdict.get(v).get();
    }

    public String line(String runId) {
        double secs = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        long done = done();
        long t = total.get();
        return String.format("run %s: %d%s cases replayed by this process, %.1f cases/s, %d failed, %d errors, %d skipped",
                runId, done, t >= 0 ? "/<=" + t : "", done / secs, count(Verdict.FAIL), count(Verdict.ERROR),
                count(Verdict.SKIPPED));
    }
}
