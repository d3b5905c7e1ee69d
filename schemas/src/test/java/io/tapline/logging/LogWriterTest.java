package io.tapline.logging;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogWriterTest {

    /** Holds every write until released, as a pipe whose reader stalled does. */
    private static final class StalledOutput extends OutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        final CountDownLatch writing = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            writing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
            written.write(b, off, len);
        }

        List<String> lines() {
            return written.toString(StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void shouldDropWhatDoesNotFitWhileTheOutputStallsAndSaySo() throws Exception {
        StalledOutput stalled = new StalledOutput();
        PrintStream out = new PrintStream(stalled, true, StandardCharsets.UTF_8);
        LogWriter writer = new LogWriter(100, n -> "dropped " + n + "\n");

        writer.write(out, "being written\n");
        assertTrue(stalled.writing.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 20; i++) {
            writer.write(out, "queued " + i + "\n"); // 9 characters each: 11 fit in 100
        }
        assertEquals(9, writer.dropped());
        assertFalse(writer.flush(50, TimeUnit.MILLISECONDS), "nothing more is written while the output stalls");

        stalled.release.countDown();
        assertTrue(writer.flush(10, TimeUnit.SECONDS));
        writer.write(out, "after\n");
        assertTrue(writer.flush(10, TimeUnit.SECONDS));
        List<String> lines = stalled.lines();
        assertEquals("being written", lines.get(0));
        assertEquals("queued 0", lines.get(1));
        assertEquals("queued 10", lines.get(11), "the lines that fitted, in order");
        assertEquals("dropped 9", lines.get(12), "where lines were dropped, their count");
        assertEquals("after", lines.get(13));
        assertEquals(14, lines.size(), String.join("\n", lines));
        assertEquals(9, writer.dropped(), "the count since the process started stays");
    }

    @Test
    void shouldWriteEveryLineInOrderWhenTheOutputKeepsUp() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        LogWriter writer = new LogWriter(LogWriter.DEFAULT_MAX_QUEUED_CHARS, n -> "dropped " + n + "\n");

        for (int i = 0; i < 10_000; i++) {
            writer.write(out, i + "\n");
        }

        assertTrue(writer.flush(10, TimeUnit.SECONDS));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(10_000, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(Integer.toString(i), lines.get(i));
        }
        assertEquals(0, writer.dropped());
    }

    /** At shutdown, lines logged to a stalled output do not each wait the whole shutdown wait in turn. */
    @Test
    void shouldNotAddUpShutdownWaitsWhileTheOutputStalls() throws Exception {
        StalledOutput stalled = new StalledOutput();
        PrintStream out = new PrintStream(stalled, true, StandardCharsets.UTF_8);
        LogWriter writer = new LogWriter(1000, n -> "dropped " + n + "\n", TimeUnit.MILLISECONDS.toNanos(300));
        writer.write(out, "being written\n");
        assertTrue(stalled.writing.await(10, TimeUnit.SECONDS));

        long t0 = System.nanoTime();
        writer.shutdown(); // the flush hook: waits once
        for (int i = 0; i < 10; i++) {
            writer.write(out, "stopping " + i + "\n"); // another hook logging its stop
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1500, "waited " + ms + " ms: each line waited in turn");

        stalled.release.countDown();
        assertTrue(writer.flush(10, TimeUnit.SECONDS));
        writer.write(out, "written again\n"); // the output moves: lines are waited for again
        assertEquals("written again", stalled.lines().get(stalled.lines().size() - 1));
        assertEquals(12, stalled.lines().size(), String.join("\n", stalled.lines()));
    }

    /**
     * A thread interrupted at shutdown (a publisher woken from a registry call) that logs is not held up, and its
     * interrupt is kept; but the output is not taken as stalled for that: the lines logged after it, by threads not
     * interrupted, are still waited for, so a process's last lines are not lost.
     */
    @Test
    void shouldNotTakeTheOutputAsStalledWhenAnInterruptedThreadLogsAtShutdown() throws Exception {
        StalledOutput slow = new StalledOutput();
        PrintStream out = new PrintStream(slow, true, StandardCharsets.UTF_8);
        LogWriter writer = new LogWriter(1000, n -> "dropped " + n + "\n", TimeUnit.HOURS.toNanos(1));
        writer.shutdown(); // nothing queued yet: returns at once

        Thread.currentThread().interrupt();
        writer.write(out, "interrupted\n");
        assertTrue(Thread.interrupted(), "the logging thread keeps its interrupt");
        assertTrue(slow.writing.await(10, TimeUnit.SECONDS));

        List<List<String>> seenOnReturn = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread last = new Thread(() -> {
            writer.write(out, "last\n");
            seenOnReturn.add(slow.lines());
        }, "last-words");
        last.start();
        while (last.getState() != Thread.State.TIMED_WAITING && last.getState() != Thread.State.TERMINATED) {
            Thread.onSpinWait();
        }
        slow.release.countDown();
        last.join();
        assertEquals(List.of("interrupted", "last"), seenOnReturn.get(0), "the last line was waited for");
    }

    /** An Error while a line is written (the notice formatted out of memory, say) does not stop the writer. */
    @Test
    void shouldKeepWritingAfterAnErrorWhileWriting() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        PrintStream failing = new PrintStream(bytes, true, StandardCharsets.UTF_8) {
            @Override
            public void print(String s) {
                throw new OutOfMemoryError("test");
            }
        };
        LogWriter writer = new LogWriter(LogWriter.DEFAULT_MAX_QUEUED_CHARS, n -> "dropped " + n + "\n");
        writer.write(failing, "lost\n");
        writer.write(out, "after\n");
        assertTrue(writer.flush(10, TimeUnit.SECONDS), "the writer thread lives on");
        assertEquals("after\n", bytes.toString(StandardCharsets.UTF_8));
    }

    /** A process that logs and exits at once: its last lines are written before it ends. */
    @Test
    void shouldWriteAProcesssLastLinesBeforeItExits() throws Exception {
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Exiting.class.getName())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));

        assertEquals(3, p.exitValue());
        List<String> lines = stderr.lines().filter(l -> l.contains(" - line ")).toList();
        assertEquals(Exiting.LINES, lines.size(), stderr);
        assertTrue(lines.get(Exiting.LINES - 1).endsWith("ERROR exiting - line " + (Exiting.LINES - 1)), stderr);
    }

    /** Logs, then exits before the writer thread could have written it all. */
    public static final class Exiting {
        static final int LINES = 2000;

        public static void main(String[] args) {
            org.slf4j.Logger log = new TaplineLoggerProvider().getLoggerFactory().getLogger("exiting");
            for (int i = 0; i < LINES; i++) {
                log.error("line {}", i);
            }
            System.exit(3);
        }
    }
}
