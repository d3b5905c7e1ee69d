package io.tapline.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @Test
    void shouldNotRecogniseAReusedPidWithAnotherStartTime() {
        ProcessHandle self = ProcessHandle.current();
        ChildProcess recorded = ChildProcess.attach("test", self.pid(), 1L, "x", List.of());
        assertFalse(recorded.isAlive());
    }

    @Test
    void shouldKeepTheLastLinesOfALog(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("a.log");
        Files.writeString(log, "one\ntwo\nthree\n");
        assertEquals("two\nthree\n", ChildProcess.tail(log, 2));
        assertEquals("", ChildProcess.tail(dir.resolve("missing.log"), 2));
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
