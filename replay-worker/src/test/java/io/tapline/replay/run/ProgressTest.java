package io.tapline.replay.run;

import io.tapline.avro.Verdict;
import org.junit.jupiter.api.Test;

import java.util.Locale;

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
}
