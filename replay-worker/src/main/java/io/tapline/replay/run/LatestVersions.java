package io.tapline.replay.run;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The latest version of every case id in one partition's range {@code [from, to)} of the cases topic: the cases
 * topic is compacted, but below a run's bounds a case id usually still has several versions (dedup-stream
 * re-publishes each case every publish interval and compaction only cleans closed segments). Only the latest
 * version of a key is replayed (or, when it is a tombstone, retires the case); the other offsets are consumed and
 * committed without being decoded. Offsets outside the scanned range are always replayed (nothing is known about
 * them). Immutable; {@link Builder} scans, then keeps only a sorted {@code long[]} of the latest offsets (8 bytes per
 * distinct key).
 */
public final class LatestVersions {

    private final long from;
    private final long to;
    private final long[] latest;
    private final int liveKeys;

    private LatestVersions(long from, long to, long[] latest, int liveKeys) {
        this.from = from;
        this.to = to;
        this.latest = latest;
        this.liveKeys = liveKeys;
    }

    /** True when the record at {@code offset} must be processed: it is the latest version of its key (or unknown). */
    public boolean isLatest(long offset) {
        return offset < from || offset >= to || Arrays.binarySearch(latest, offset) >= 0;
    }

    /** Keys whose latest version in the range is a case (not a tombstone): the cases to replay. */
    public int liveKeys() {
        return liveKeys;
    }

    /** Records in the range that are the latest of their key (cases, tombstones and null keys). */
    public int latestRecords() {
        return latest.length;
    }

    public long from() {
        return from;
    }

    public long to() {
        return to;
    }

    /** Everything in {@code [from, to)} is replayed (no scan, or an empty range). */
    public static LatestVersions all(long from, long to) {
        return new LatestVersions(from, from, new long[0], 0);
    }

    /** Collects a partition's records in offset order. Peak memory: one map entry per distinct key in the range. */
    public static final class Builder {
        private final long from;
        private final long to;
        /** Key (bytes as ISO-8859-1: lossless, one byte per char) → latest offset, or {@code -offset - 1} for a tombstone. */
        private final Map<String, Long> byKey = new HashMap<>();
        private long[] nullKeys = new long[0];
        private int nullKeyCount;

        public Builder(long from, long to) {
            this.from = from;
            this.to = to;
        }

        /** A record of the range; later calls for the same key replace earlier ones (call in offset order). */
        public void add(byte[] key, long offset, boolean tombstone) {
            if (offset < from || offset >= to) {
                return;
            }
            if (key == null) {
                // No key, no versions: always processed (as before: undecodable or not, it is handled on its own).
                if (nullKeyCount == nullKeys.length) {
                    nullKeys = Arrays.copyOf(nullKeys, Math.max(4, nullKeyCount * 2));
                }
                nullKeys[nullKeyCount++] = offset;
                return;
            }
            byKey.put(new String(key, StandardCharsets.ISO_8859_1), tombstone ? -offset - 1 : offset);
        }

        public LatestVersions build() {
            long[] out = new long[byKey.size() + nullKeyCount];
            int n = 0;
            int live = 0;
            for (long v : byKey.values()) {
                if (v >= 0) {
                    live++;
                    out[n++] = v;
                } else {
                    out[n++] = -v - 1;
                }
            }
            System.arraycopy(nullKeys, 0, out, n, nullKeyCount);
            Arrays.sort(out);
            return new LatestVersions(from, to, out, live);
        }
    }

    /**
     * Scans each partition from {@code from} (inclusive) to {@code to} (exclusive) with an assign-only consumer built
     * from {@code consumerProps} (byte arrays, read_committed: aborted records are skipped as the group consumer
     * skips them). Values are fetched (Kafka has no key-only fetch) but never decoded.
     *
     * @param stopping asked between polls: true once the worker stops, which ends the scan
     * @throws TimeoutException when the scan does not reach {@code to} on every partition within {@code timeout}
     * @throws WakeupException  when {@code stopping} turned true before the scan reached {@code to}
     */
    public static Map<TopicPartition, LatestVersions> scan(Map<String, Object> consumerProps, Map<TopicPartition, Long> from,
                                                           Map<TopicPartition, Long> to, Duration timeout,
                                                           BooleanSupplier stopping) {
        Map<TopicPartition, LatestVersions> out = new HashMap<>();
        Map<TopicPartition, Builder> builders = new HashMap<>();
        from.forEach((tp, start) -> {
            long end = to.getOrDefault(tp, 0L);
            if (start >= end) {
                out.put(tp, all(start, end));
            } else {
                builders.put(tp, new Builder(start, end));
            }
        });
        if (builders.isEmpty()) {
            return out;
        }
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps);
        try {
            read(c, builders, timeout, stopping);
        } finally {
            TopicReader.closeNow(c);
        }
        builders.forEach((tp, b) -> out.put(tp, b.build()));
        return out;
    }

    /**
     * Reads every builder's partition with {@code c} from its {@code from} to its {@code to}. A worker asked to stop
     * ({@code stopping}) is not kept here: a scan reads every record below the bounds, which takes time in proportion
     * to them, and it runs inside the group consumer's poll, where the worker's stop does not reach it.
     */
    static void read(Consumer<byte[], byte[]> c, Map<TopicPartition, Builder> builders, Duration timeout,
                     BooleanSupplier stopping) {
        long deadline = System.nanoTime() + timeout.toNanos();
        c.assign(builders.keySet());
        builders.forEach((tp, b) -> c.seek(tp, b.from));
        Map<TopicPartition, Builder> open = new HashMap<>(builders);
        while (!open.isEmpty()) {
            if (stopping.getAsBoolean()) {
                throw new WakeupException();
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("scanning " + open.keySet() + " for the latest case versions took over " + timeout);
            }
            ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(200));
            for (ConsumerRecord<byte[], byte[]> r : records) {
                Builder b = builders.get(new TopicPartition(r.topic(), r.partition()));
                if (b != null) {
                    b.add(r.key(), r.offset(), r.value() == null);
                }
            }
            open.entrySet().removeIf(e -> c.position(e.getKey()) >= e.getValue().to);
            if (!open.isEmpty()) {
                Set<TopicPartition> done = new HashSet<>(builders.keySet());
                done.removeAll(open.keySet());
                c.pause(done);
            }
        }
    }
}
