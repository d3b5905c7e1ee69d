package io.tapline.replay.run;

import io.tapline.avro.Verdict;

import org.apache.kafka.common.TopicPartition;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cases this process has replayed, by verdict, and the rate: the run's progress lines. The total is the number of
 * distinct live cases in this process's partitions once they have been scanned ({@link #scanned}), else an upper
 * bound (offsets). Thread-safe.
 */
public final class Progress {

    private final long startNanos = System.nanoTime();
    private final Map<Verdict, AtomicLong> byVerdict = new EnumMap<>(Verdict.class);
    private final AtomicLong total = new AtomicLong(-1);
    /** Per partition this process scanned: cases it replayed from there before the scan plus live keys found. */
    private final Map<TopicPartition, Long> expected = new ConcurrentHashMap<>();
    private final Map<TopicPartition, AtomicLong> doneByPartition = new ConcurrentHashMap<>();

    public Progress() {
        for (Verdict v : Verdict.values()) {
            byVerdict.put(v, new AtomicLong());
        }
    }

    public void record(Verdict verdict) {
        byVerdict.get(verdict).incrementAndGet();
    }

    /** A committed result of a case read from {@code tp} ({@code null}: unknown partition). */
    public void record(Verdict verdict, TopicPartition tp) {
        record(verdict);
        if (tp != null) {
            doneByPartition.computeIfAbsent(tp, k -> new AtomicLong()).incrementAndGet();
        }
    }

    /**
     * A scan of {@code tp} from its committed offset found {@code liveKeys} cases still to replay there. Replaces an
     * earlier scan of the same partition (a partition that came back after a rebalance).
     */
    public void scanned(TopicPartition tp, long liveKeys) {
        AtomicLong before = doneByPartition.get(tp);
        expected.put(tp, (before == null ? 0 : before.get()) + liveKeys);
    }

    /** {@code tp} moved to another member: this process's share of it is what it replayed from it. */
    public void released(TopicPartition tp) {
        expected.computeIfPresent(tp, (k, v) -> {
            AtomicLong d = doneByPartition.get(tp);
            return d == null ? 0L : d.get();
        });
    }

    /** The distinct live cases found by the scans of this process's partitions, or -1 before any scan. */
    public long distinctTotal() {
        if (expected.isEmpty()) {
            return -1;
        }
        return expected.values().stream().mapToLong(Long::longValue).sum();
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
        long distinct = distinctTotal();
        long t = total.get();
        String of = distinct >= 0 ? "/" + distinct : t >= 0 ? "/<=" + t : "";
        return String.format(Locale.ROOT, "run %s: %d%s cases replayed by this process, %.1f cases/s, %d failed, %d errors, %d skipped",
                runId, done, of, done / secs, count(Verdict.FAIL), count(Verdict.ERROR),
                count(Verdict.SKIPPED));
    }
}
