package io.tapline.replay.run;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}
