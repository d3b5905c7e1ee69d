package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {

    @Test
    void shouldNotRecogniseALiveProcessWithoutOurMarker() {
        ProcessHandle self = ProcessHandle.current();
        long start = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        ChildProcess recorded = ChildProcess.attach("test", self.pid(), start, "not-on-this-command-line", List.of());
        assertFalse(recorded.isAlive());
        assertFalse(recorded.stop(java.time.Duration.ofSeconds(1)), "must never signal a process that is not ours");
        assertTrue(self.isAlive());
    }

    /**
     * A process of ours (a shell that sleeps, carrying its marker on its command line as the stack's JVMs do) is
     * recognised, and the same pid is not once the recorded start time or marker is another: each check decides on its
     * own. (Attached to this JVM under a marker it does not carry, the start time could never decide anything.)
     */
    @Test
    void shouldNotRecogniseAReusedPidWithAnotherStartTime(@TempDir Path dir) {
        String marker = ChildProcess.newMarker();
        ChildProcess ours = ChildProcess.launch("sleeper",
                List.of("/bin/sh", "-c", "sleep 60; exit 0", ChildProcess.markerArgument(marker)), marker, dir,
                dir.resolve("sleeper.out"), List.of(), false);
        try {
            assertTrue(ours.isAlive(), "pid, start time and marker all ours");
            assertTrue(ChildProcess.attach("test", ours.pid(), ours.startMillis(), marker, List.of()).isAlive(),
                    "recorded by another JVM (status, down)");
            assertFalse(ChildProcess.attach("test", ours.pid(), ours.startMillis() - 60_000, marker, List.of()).isAlive(),
                    "the pid, reused by a process started at another time");
            assertFalse(ChildProcess.attach("test", ours.pid(), ours.startMillis(), ChildProcess.newMarker(), List.of())
                    .isAlive(), "another stack's marker");
            assertTrue(ours.stop(java.time.Duration.ofSeconds(10)), "ours is stopped");
            assertFalse(ours.isAlive());
        } finally {
            ours.handle().ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * A stop on the way out of an interrupted start (a test's timeout, say) still ends the process: the interrupt cuts
     * the grace short, the process that ignores SIGTERM is killed, and the caller keeps its interrupt.
     */
    @Test
    void shouldKillTheProcessWhenStoppedFromAnInterruptedThread(@TempDir Path dir) throws Exception {
        String marker = ChildProcess.newMarker();
        Path output = dir.resolve("stubborn.out");
        ChildProcess stubborn = ChildProcess.launch("stubborn", List.of("/bin/sh", "-c",
                "trap '' TERM; echo ready; while :; do sleep 1; done", ChildProcess.markerArgument(marker)), marker, dir,
                output, List.of(), false);
        try {
            while (!Files.readString(output).contains("ready")) {
                Thread.onSpinWait();
            }
            Thread.currentThread().interrupt();
            boolean stopped;
            boolean interrupted;
            try {
                stopped = stubborn.stop(Duration.ofHours(1));
            } finally {
                interrupted = Thread.interrupted();
            }
            assertTrue(stopped);
            assertFalse(stubborn.isAlive(), "killed, not left running");
            assertTrue(interrupted, "the interrupt is kept");
        } finally {
            Thread.interrupted();
            stubborn.handle().ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void shouldKeepTheLastLinesOfALog(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("a.log");
        Files.writeString(log, "one\ntwo\nthree\n");
        assertEquals("| two\n| three\n", ChildProcess.tail(log, 2));
        assertEquals("", ChildProcess.tail(dir.resolve("missing.log"), 2));
    }

    /**
     * A failed start shows the last lines of the child's output on the terminal or in a CI log (the launcher's and the
     * demo's errors, an IT's failure); a broker's log or a crashed JVM's output can hold ESC sequences (clearing the
     * screen, setting the window title), bidirectional controls and characters drawn as nothing. Each line is shown as
     * {@link io.tapline.text.ShownText} shows text, with its line breaks and tabs kept, and after {@code "| "}: no line
     * of the tail starts with {@code ::}, which GitHub Actions reads as a workflow command even after spaces.
     */
    @Test
    void shouldShowALogsTailWithCodesAndNoLineOfItsOwn(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("broker.out");
        Files.writeString(log, "skipped\nstarting\n\u001b[2J\u001b]0;pwned\u0007done\n  ::error file=a::forged\n"
                + "\tat x.Y.run(Y.java:1)\n\u202e21 a\u200bb \u009b31m\rlast \\u001b\n", StandardCharsets.UTF_8);
        ChildProcess child = ChildProcess.attach("broker", 1, 0, ChildProcess.newMarker(), List.of(log));

        String tail = child.logTail(6);

        assertEquals("--- last lines of " + log + " ---\n"
                + "| starting\n"
                + "| \\u001b[2J\\u001b]0;pwned\\u0007done\n"
                + "|   ::error file=a::forged\n"
                + "| \tat x.Y.run(Y.java:1)\n"
                + "| \\u202e21 a\\u200bb \\u009b31m\n"
                + "| last \\u001b\n", tail);
        for (String line : tail.split("\n")) {
            assertFalse(line.strip().startsWith("::"), "no workflow command: " + line);
            assertTrue(line.codePoints().noneMatch(io.tapline.text.ShownText::shownAsCode), "nothing raw: " + line);
        }
        assertTrue(child.logContains("\u202e21"), "what is looked for is looked for in the log as written");
    }

    /** GitHub Actions reads {@code ##[error]} anywhere in a line as a workflow command: a log's tail shows it as a code. */
    @Test
    void shouldShowALegacyWorkflowCommandInALogsTailAsACode(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("broker.out");
        Files.writeString(log, "[main] ERROR ##[error]forged\n##[add-mask]secret\n", StandardCharsets.UTF_8);

        assertEquals("| [main] ERROR ##\\u005berror]forged\n| ##\\u005badd-mask]secret\n", ChildProcess.tail(log, 2));
    }

    /** A crashed process's output need not be UTF-8 (a core's bytes, another charset): its tail is shown all the same. */
    @Test
    void shouldShowTheTailOfALogThatIsNotUtf8(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("crash.out");
        Files.write(log, new byte[] {'o', 'k', '\n', 'b', 'a', 'd', ' ', (byte) 0xff, (byte) 0xc3, '\n', 'e', 'n', 'd', '\n'});

        assertEquals("| bad \ufffd\ufffd\n| end\n", ChildProcess.tail(log, 2));
        assertTrue(ChildProcess.attach("crashed", 1, 0, ChildProcess.newMarker(), List.of(log)).logContains("end"));
    }

    /**
     * A child that wrote megabytes without a line break (a crashed JVM dumping memory, a runaway print) costs the tail
     * one read of the file's end: the line is shown by its last bytes after a marker, not read and held whole.
     */
    @Test
    void shouldShowTheEndOfAHugeLineWithoutReadingItAll(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("runaway.out");
        byte[] chunk = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
        try (var out = Files.newOutputStream(log)) {
            for (int i = 0; i < 20; i++) {
                out.write(chunk);
            }
            out.write('\n');
        }

        String tail = ChildProcess.tail(log, 40);

        // the window holds the line's last TAIL_WINDOW - 1 bytes before its line feed; the last LINE_CAP are shown
        assertEquals("| (more than " + (ChildProcess.TAIL_WINDOW - 1 - ChildProcess.LINE_CAP) + " bytes before) ... "
                + "x".repeat(ChildProcess.LINE_CAP) + "\n", tail);
        ChildProcess child = ChildProcess.attach("runaway", 1, 0, ChildProcess.newMarker(), List.of(log));
        assertTrue(child.logTail(40).length() < ChildProcess.LINE_CAP + 200 + log.toString().length(), "bounded");
        assertTrue(child.logContains("xxx"));
    }

    /**
     * A large log with many lines: the last lines are those of the file's end, and a long one among them is cut at
     * {@link ChildProcess#LINE_CAP} bytes saying how many more it held.
     */
    @Test
    void shouldKeepTheLastLinesOfALargeLogAndCutALongOne(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("broker.log");
        int count = 100_000; // lines of 101 bytes: 10 MB
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(log))) {
            for (int i = 0; i < count; i++) {
                out.write(line(i).getBytes(StandardCharsets.US_ASCII));
            }
            out.write(("long " + "y".repeat(9_995) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write("after\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(Files.size(log) > 10_000_000L);

        String tail = ChildProcess.tail(log, 3);

        assertEquals("| " + line(count - 1) + "| long " + "y".repeat(ChildProcess.LINE_CAP - 5) + " ... (" + (10_000 - ChildProcess.LINE_CAP)
                + " more bytes)\n| after\n", tail);
        String forty = ChildProcess.tail(log, 40);
        assertEquals(40, forty.lines().count());
        assertTrue(forty.length() < 40 * 110 + ChildProcess.LINE_CAP, "bounded: " + forty.length());
    }

    private static String line(int i) {
        return String.format("[2024-01-01 00:00:00,000] INFO line %06d %s\n", i, "-".repeat(57));
    }

    /**
     * The end of a log read from a byte inside a character: what is shown starts at a character, so the seek and the
     * cuts add no U+FFFD; a line cut after {@link ChildProcess#LINE_CAP} bytes is cut before a character it would split.
     */
    @Test
    void shouldShowWholeCharactersWhereTheReadOrACutLandsInsideOne(@TempDir Path dir) throws Exception {
        for (int shift = 0; shift < 3; shift++) { // the window's start at each byte of a three-byte character
            Path log = dir.resolve("euro" + shift + ".log");
            Files.writeString(log, "\u20ac".repeat(30_000) + "a".repeat(shift) + "\n", StandardCharsets.UTF_8);

            String tail = ChildProcess.tail(log, 5);

            String prefix = "| (more than ";
            assertTrue(tail.startsWith(prefix), tail.substring(0, 40));
            String shown = tail.substring(tail.indexOf(" ... ") + 5, tail.length() - 1);
            assertTrue(shown.matches("\u20ac+a{" + shift + "}"), "whole characters only, shift " + shift);
            assertTrue(shown.getBytes(StandardCharsets.UTF_8).length > ChildProcess.LINE_CAP - 3);
            assertFalse(ChildProcess.attach("euro", 1, 0, ChildProcess.newMarker(), List.of(log)).logContains("\ufffd"),
                    "no U+FFFD from the seek, shift " + shift);
        }
        Path log = dir.resolve("cut.log");
        Files.writeString(log, "\u20ac".repeat(1_000) + "\nend\n", StandardCharsets.UTF_8);
        // LINE_CAP = 2048 bytes ends inside the 683rd character: 682 are kept, 318 (954 bytes) are not
        assertEquals("| " + "\u20ac".repeat(682) + " ... (954 more bytes)\n| end\n", ChildProcess.tail(log, 2));
    }

    @Test
    void shouldRoundTripTheStateFile(@TempDir Path dir) {
        StackState state = new StackState(Optional.of(new StackState.Entry(42, 1234, "m-k", 9092)),
                Optional.of(new StackState.Entry(43, 5678, "m-r", 8081)));
        state.write(dir);
        assertEquals(state, StackState.read(dir));
        assertEquals(new StackState(Optional.empty(), Optional.empty()), StackState.read(dir.resolve("none")));
    }
}
