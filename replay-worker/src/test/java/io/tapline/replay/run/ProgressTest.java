package io.tapline.replay.run;

import io.tapline.avro.Verdict;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {

    @Test
    void theRateIsWrittenWithADecimalPointWhateverTheDefaultLocale() {
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            Progress progress = new Progress();
            for (int i = 0; i < 1000; i++) {
                progress.record(Verdict.PASS);
            }
            String line = progress.line("r1");
            assertTrue(line.matches("run r1: 1000 cases replayed by this process, \\d+\\.\\d cases/s, 0 failed, 0 errors, 0 skipped"),
                    line);
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void theTotalIsAnUpperBoundBeforeTheScanThenTheDistinctCasesOfThePartitionsThisProcessOwns() {
        TopicPartition p0 = new TopicPartition("tapline.cases", 0);
        TopicPartition p1 = new TopicPartition("tapline.cases", 1);
        Progress progress = new Progress();
        progress.totalAtMost(5000);
        assertTrue(progress.line("r1").startsWith("run r1: 0/<=5000 cases replayed by this process, "), progress.line("r1"));

        progress.scanned(p0, 10);
        progress.scanned(p1, 5);
        progress.record(Verdict.PASS, p0);
        progress.record(Verdict.FAIL, p0);
        progress.record(Verdict.PASS, p1);
        assertTrue(progress.line("r1").startsWith("run r1: 3/15 cases replayed by this process, "), progress.line("r1"));
        assertTrue(progress.line("r1").endsWith(", 1 failed, 0 errors, 0 skipped"), progress.line("r1"));

        // p1 moves to another process: this one keeps only the case it replayed from there
        progress.released(p1);
        assertEquals(11, progress.distinctTotal());
        // p0 comes back after a rebalance with 6 cases still to replay: the 2 already replayed count too
        progress.scanned(p0, 6);
        assertEquals(9, progress.distinctTotal());
        assertTrue(progress.line("r1").startsWith("run r1: 3/9 cases replayed by this process, "), progress.line("r1"));
    }
}
