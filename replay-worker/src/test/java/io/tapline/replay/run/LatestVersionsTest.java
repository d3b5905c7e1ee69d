package io.tapline.replay.run;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LatestVersionsTest {

    private static byte[] key(String k) {
        return k.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void onlyTheLatestVersionOfEachKeyIsReplayed() {
        LatestVersions.Builder b = new LatestVersions.Builder(0, 100);
        b.add(key("a"), 0, false);
        b.add(key("b"), 1, false);
        b.add(key("a"), 2, false);
        b.add(key("a"), 5, false);
        b.add(key("c"), 7, false);
        LatestVersions v = b.build();
        assertFalse(v.isLatest(0));
        assertTrue(v.isLatest(1));
        assertFalse(v.isLatest(2));
        assertTrue(v.isLatest(5));
        assertTrue(v.isLatest(7));
        assertFalse(v.isLatest(3), "an offset with no record in the range (compacted away) is not a latest version");
        assertEquals(3, v.liveKeys());
        assertEquals(3, v.latestRecords());
    }

    @Test
    void aTombstoneAsLatestVersionIsProcessedButIsNotALiveCase() {
        LatestVersions.Builder b = new LatestVersions.Builder(10, 20);
        b.add(key("a"), 10, false);
        b.add(key("a"), 11, false);
        b.add(key("a"), 12, true);
        b.add(key("b"), 13, false);
        LatestVersions v = b.build();
        assertFalse(v.isLatest(10));
        assertFalse(v.isLatest(11));
        assertTrue(v.isLatest(12), "the tombstone retires the case (and its result)");
        assertTrue(v.isLatest(13));
        assertEquals(1, v.liveKeys());
        assertEquals(2, v.latestRecords());
    }

    @Test
    void aNewVersionAfterATombstoneBringsTheCaseBack() {
        LatestVersions.Builder b = new LatestVersions.Builder(0, 10);
        b.add(key("a"), 0, false);
        b.add(key("a"), 1, true);
        b.add(key("a"), 2, false);
        LatestVersions v = b.build();
        assertFalse(v.isLatest(0));
        assertFalse(v.isLatest(1));
        assertTrue(v.isLatest(2));
        assertEquals(1, v.liveKeys());
    }

    @Test
    void offsetsOutsideTheScannedRangeAndNullKeysAreAlwaysProcessed() {
        LatestVersions.Builder b = new LatestVersions.Builder(5, 10);
        b.add(key("a"), 4, false); // below the range: ignored
        b.add(key("a"), 5, false);
        b.add(key("a"), 6, false);
        b.add(null, 7, false);
        b.add(null, 8, true);
        b.add(key("a"), 10, false); // at the bound: ignored
        LatestVersions v = b.build();
        assertTrue(v.isLatest(4), "below the scan: unknown, processed");
        assertFalse(v.isLatest(5));
        assertTrue(v.isLatest(6));
        assertTrue(v.isLatest(7));
        assertTrue(v.isLatest(8));
        assertTrue(v.isLatest(10), "beyond the scan: unknown, processed");
        assertEquals(1, v.liveKeys());
    }

    @Test
    void keysAreComparedAsBytes() {
        LatestVersions.Builder b = new LatestVersions.Builder(0, 10);
        b.add(new byte[]{(byte) 0xC3, (byte) 0xA9}, 0, false); // "é" in UTF-8
        b.add(new byte[]{(byte) 0xE9}, 1, false);             // "é" in ISO-8859-1: another key
        b.add(new byte[]{(byte) 0xC3, (byte) 0xA9}, 2, false);
        LatestVersions v = b.build();
        assertFalse(v.isLatest(0));
        assertTrue(v.isLatest(1));
        assertTrue(v.isLatest(2));
        assertEquals(2, v.liveKeys());
    }

    @Test
    void anEmptyRangeProcessesEverything() {
        LatestVersions v = LatestVersions.all(7, 7);
        assertTrue(v.isLatest(0));
        assertTrue(v.isLatest(7));
        assertEquals(0, v.liveKeys());
    }

    /**
     * The scan of newly assigned partitions runs inside the group consumer's poll, where the worker's stop (SIGTERM)
     * does not reach it: it ends at the stop, not when it has read every record below the bounds (in proportion to
     * them, up to its 2 min timeout), which took the 30 s the process gives its workers.
     */
    @Test
    void aScanEndsWhenTheWorkerStops() {
        TopicPartition tp = new TopicPartition("cases", 0);
        MockConsumer<byte[], byte[]> c = new MockConsumer<>("earliest");
        c.updateBeginningOffsets(Map.of(tp, 0L));
        c.updateEndOffsets(Map.of(tp, 1_000L));
        AtomicBoolean stopping = new AtomicBoolean();
        AtomicInteger polls = new AtomicInteger();
        // every poll reads one record of the 1,000 below the bound; the worker stops at the third
        for (int i = 0; i < 1_000; i++) {
            long offset = i;
            c.schedulePollTask(() -> {
                if (polls.incrementAndGet() == 3) {
                    stopping.set(true);
                }
                c.addRecord(new ConsumerRecord<>("cases", 0, offset, ("case-" + offset).getBytes(StandardCharsets.UTF_8),
                        new byte[]{1}));
            });
        }
        Map<TopicPartition, LatestVersions.Builder> builders = Map.of(tp, new LatestVersions.Builder(0, 1_000));
        long started = System.nanoTime();
        assertThrows(WakeupException.class, () -> LatestVersions.read(c, builders, Duration.ofMinutes(2), stopping::get));
        assertEquals(3, polls.get(), "no poll after the stop");
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(10).toNanos());
    }
}
