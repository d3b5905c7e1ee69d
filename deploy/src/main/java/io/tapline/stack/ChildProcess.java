package io.tapline.stack;

import io.tapline.text.ShownText;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the stack started. It is identified by pid, start time and a unique marker
 * ({@code -Dtapline.stack.id=...}) on its command line, so a recorded pid that now belongs to
 * another process is never signalled.
 */
public final class ChildProcess {

    /** How long a process gets to exit after SIGTERM before SIGKILL. */
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);

    /** How long a process whose start failed gets to exit after SIGTERM (none when the start was interrupted). */
    private static final Duration STOP_AFTER_FAILED_START = Duration.ofSeconds(10);
    private static final String MARKER_PROPERTY = "-Dtapline.stack.id=";
    private static final File DEV_NULL = new File("/dev/null");

    private final String name;
    private final long pid;
    private final long startMillis;
    private final String marker;
    private final List<Path> logFiles;

    private ChildProcess(String name, long pid, long startMillis, String marker, List<Path> logFiles) {
        this.name = name;
        this.pid = pid;
        this.startMillis = startMillis;
        this.marker = marker;
        this.logFiles = List.copyOf(logFiles);
    }

    /** A fresh marker to pass to {@link #launch}; put {@link #markerArgument} on the JVM command line. */
    public static String newMarker() {
        return UUID.randomUUID().toString();
    }

    public static String markerArgument(String marker) {
        return MARKER_PROPERTY + marker;
    }

    /**
     * Starts {@code command} with stdin from /dev/null and stdout+stderr appended to {@code outputFile}.
     *
     * @param detached start it in its own session (setsid) so it outlives the launching CLI and its
     *                 terminal; otherwise a watchdog kills it when this JVM dies, even by SIGKILL
     * @param logFiles files whose tails explain a failure, {@code outputFile} is added
     */
    public static ChildProcess launch(String name, List<String> command, String marker, Path workDir,
                                      Path outputFile, List<Path> logFiles, boolean detached) {
        return launch(name, command, marker, workDir, outputFile, logFiles, detached, environment -> { });
    }

    /**
     * As {@link #launch(String, List, String, Path, Path, List, boolean)}, with the child's environment (this JVM's,
     * to start with) changed by {@code environment} first.
     */
    public static ChildProcess launch(String name, List<String> command, String marker, Path workDir, Path outputFile,
                                      List<Path> logFiles, boolean detached,
                                      java.util.function.Consumer<java.util.Map<String, String>> environment) {
        if (command.stream().noneMatch(markerArgument(marker)::equals)) {
            throw new IllegalArgumentException("the command of " + name + " must carry " + markerArgument(marker));
        }
        List<String> full = new ArrayList<>();
        if (detached && Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            full.add("/usr/bin/setsid"); // a new session: Ctrl-C or closing the terminal later does not reach it
        }
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full)
                .directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
        environment.accept(builder.environment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new StackException("could not start " + name + ": " + e.getMessage(), e);
        }
        ProcessHandle handle = process.toHandle();
        long start = handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        List<Path> logs = new ArrayList<>(logFiles);
        logs.add(outputFile);
        ChildProcess child = new ChildProcess(name, handle.pid(), start, marker, logs);
        if (!detached) {
            child.startWatchdog();
        }
        return child;
    }

    /** The recorded process, for {@code status} and {@code down} of a stack started by another JVM. */
    public static ChildProcess attach(String name, long pid, long startMillis, String marker, List<Path> logFiles) {
        return new ChildProcess(name, pid, startMillis, marker, logFiles);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return pid;
    }

    public long startMillis() {
        return startMillis;
    }

    public String marker() {
        return marker;
    }

    /** The live process with our pid, start time and marker; empty when it exited or the pid was reused. */
    public Optional<ProcessHandle> handle() {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (handle.isEmpty()) {
            return Optional.empty();
        }
        ProcessHandle.Info info = handle.get().info();
        if (startMillis != 0L) {
            Optional<Long> actualStart = info.startInstant().map(Instant::toEpochMilli);
            if (actualStart.isPresent() && actualStart.get() != startMillis) {
                return Optional.empty();
            }
        }
        Optional<String> commandLine = info.commandLine();
        if (commandLine.isPresent() && !commandLine.get().contains(markerArgument(marker))) {
            return Optional.empty();
        }
        if (commandLine.isEmpty() && startMillis == 0L) {
            return Optional.empty(); // nothing to prove it is ours: do not touch it
        }
        return handle;
    }

    public boolean isAlive() {
        return handle().isPresent();
    }

    /**
     * SIGTERM, then SIGKILL when it has not exited within {@code grace}. Only ever signals the
     * process this object identifies. An interrupt of the calling thread (before or during the call)
     * ends the grace at once: the process is then killed and its exit waited for all the same, so a
     * stop on the way out of an interrupted start leaves nothing running; the interrupt status is kept.
     *
     * @return true when it was running and is now gone
     */
    public boolean stop(Duration grace) {
        Optional<ProcessHandle> handle = handle();
        if (handle.isEmpty()) {
            return false;
        }
        ProcessHandle process = handle.get();
        process.destroy();
        if (!awaitExit(process, grace, false)) {
            process.destroyForcibly();
            if (!awaitExit(process, Duration.ofSeconds(10), true)) {
                throw new StackException(name + " (pid " + pid + ") did not exit after SIGKILL");
            }
        }
        return true;
    }

    /**
     * Runs {@code awaitReady}, the caller's wait for this process to become ready; when it fails (interrupted, timed out,
     * the process exited) the process is stopped before the failure is passed on, so a start that does not complete
     * leaves nothing running. From an interrupted thread the stop kills it at once and waits for its exit (see
     * {@link #stop}); the interrupt status is kept and the failure says the process was stopped.
     */
    public void awaitReadyOrStop(Runnable awaitReady) {
        try {
            awaitReady.run();
        } catch (RuntimeException | Error e) {
            boolean stopped;
            try {
                stopped = stop(STOP_AFTER_FAILED_START);
            } catch (RuntimeException stopFailed) {
                e.addSuppressed(stopFailed);
                throw e;
            }
            if (stopped && Thread.currentThread().isInterrupted()) {
                throw new StackException(name + " start was interrupted before it was ready; stopped it (pid " + pid + ")", e);
            }
            throw e;
        }
    }

    /** SIGKILL without grace, waiting a few seconds for the exit; for JVM shutdown hooks. */
    public void kill() {
        handle().ifPresent(process -> {
            process.destroyForcibly();
            awaitExit(process, Duration.ofSeconds(5), true);
        });
    }

    /**
     * Waits up to {@code timeout} for the process to exit; true when it did. An interrupt ends the wait (false) unless
     * {@code throughInterrupts}; either way the thread's interrupt status is set again on return.
     */
    private static boolean awaitExit(ProcessHandle process, Duration timeout, boolean throughInterrupts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    return true;
                } catch (java.util.concurrent.TimeoutException e) {
                    return !process.isAlive();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new StackException("waiting for pid " + process.pid() + " to exit failed", e);
                } catch (InterruptedException e) {
                    interrupted = true;
                    if (!throughInterrupts) {
                        return !process.isAlive();
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The last lines of each non-empty log file of this process, for error messages, each line as {@link #tail} shows
     * it.
     */
    public String logTail(int lines) {
        StringBuilder out = new StringBuilder();
        for (Path file : logFiles) {
            String tail = tail(file, lines);
            if (!tail.isBlank()) {
                out.append("--- last lines of ").append(ShownText.oneLine(file.toString())).append(" ---\n").append(tail);
            }
        }
        return out.length() == 0 ? "(no output in " + ShownText.oneLine(logFiles.toString()) + ")" : out.toString();
    }

    /**
     * The last {@code lines} lines of {@code file}, for an error message shown on a terminal or in a CI log: each line
     * after {@code "| "}, with a tab kept and every other character {@link ShownText#shownAsCode} names written as its
     * code ({@link ShownText#oneLine}'s rule), then a line feed. What a child wrote (a broker's log, a crashed JVM's
     * output, ESC sequences included) can then neither send the terminal a sequence, reorder or hide a character, nor
     * start a line: GitHub Actions reads a line whose text starts with {@code ::} after spaces as a workflow command,
     * and {@code ##[} anywhere in a line too (ShownText shows that {@code [} as its code).
     * Only the file's last {@value #TAIL_WINDOW} bytes are read, and a line is shown up to {@value #LINE_CAP} bytes
     * ({@link #lastLines}), so a child that wrote gigabytes, or megabytes without a line break, costs the caller a
     * bounded read. Empty when the file does not exist.
     */
    static String tail(Path file, int lines) {
        if (!Files.isRegularFile(file)) {
            return "";
        }
        List<String> last;
        try {
            last = lastLines(file, lines);
        } catch (IOException | UncheckedIOException e) {
            return "(could not read " + ShownText.oneLine(file.toString()) + ": " + ShownText.oneLine(e.getMessage()) + ")\n";
        }
        StringBuilder out = new StringBuilder();
        last.forEach(line -> ShownText.append(out.append("| "), line, TAIL_ESCAPES).append('\n'));
        return out.toString();
    }

    /** {@link #tail}'s escapes: none but the codes (a line holds no line break, and a tab stays). */
    private static final String[] TAIL_ESCAPES = ShownText.escapes(Map.of());

    /**
     * How much of the end of a log {@link #tail} and {@link #logContains} read: the callers quote 30 to 40 lines, and a
     * broker's or registry's log line (a log4j line, a stack frame) is some 100 to 300 bytes, so this holds those lines
     * with room for a long stack trace or a configuration dump among them, in one small read whatever the file's size.
     */
    static final int TAIL_WINDOW = 64 * 1024;

    /**
     * The most of one line {@link #tail} shows, in bytes: a long exception message or a JSON log line fits, and 40
     * lines of it stay a readable error message (a line of codes is at most six times as long).
     */
    static final int LINE_CAP = 2 * 1024;

    /**
     * The last {@code lines} lines among the last {@value #TAIL_WINDOW} bytes of {@code file} as written (line feed,
     * carriage return and CR LF end a line), read as UTF-8 with a byte sequence that is not UTF-8 (a crashed process's
     * output can hold any bytes) read as U+FFFD. The line those bytes begin inside of is left out, unless it is all they
     * hold: it is then shown by its last {@value #LINE_CAP} bytes after {@code "(more than N bytes before) ... "}. A
     * longer line is shown by its first {@value #LINE_CAP} bytes and {@code " ... (N more bytes)"}. A cut never splits
     * a character, so the seek and the cuts add no U+FFFD.
     */
    private static List<String> lastLines(Path file, int lines) throws IOException {
        LogEnd end = LogEnd.read(file);
        byte[] bytes = end.bytes();
        List<int[]> found = new ArrayList<>(); // [from, to) of each line, in order
        int from = end.begin();
        for (int i = end.begin(); i < bytes.length; i++) {
            if (bytes[i] == '\n' || bytes[i] == '\r') {
                found.add(new int[] {from, i});
                if (bytes[i] == '\r' && i + 1 < bytes.length && bytes[i + 1] == '\n') {
                    i++;
                }
                from = i + 1;
            }
        }
        if (from < bytes.length) {
            found.add(new int[] {from, bytes.length}); // the last line, not ended yet
        }
        boolean cutAtFront = end.midLine() && found.size() == 1;
        if (end.midLine() && !cutAtFront && !found.isEmpty()) {
            found.remove(0);
        }
        List<String> last = new ArrayList<>();
        for (int[] line : found.subList(found.size() - Math.max(0, Math.min(lines, found.size())), found.size())) {
            last.add(cutAtFront ? endOfLine(bytes, line[0], line[1]) : startOfLine(bytes, line[0], line[1]));
        }
        return last;
    }

    /** The line {@code bytes[from, to)}, cut after {@value #LINE_CAP} bytes with how many more it holds. */
    private static String startOfLine(byte[] bytes, int from, int to) {
        if (to - from <= LINE_CAP) {
            return utf8(bytes, from, to);
        }
        int cut = from + LINE_CAP;
        for (int back = 0; back < 3 && cut > from && isContinuation(bytes[cut]); back++) {
            cut--; // not inside a character
        }
        return utf8(bytes, from, cut) + " ... (" + (to - cut) + " more bytes)";
    }

    /** The end of a line that began before the bytes read, {@code bytes[from, to)}: its last {@value #LINE_CAP} bytes. */
    private static String endOfLine(byte[] bytes, int from, int to) {
        int shown = Math.max(from, to - LINE_CAP);
        for (int skipped = 0; skipped < 3 && shown < to && isContinuation(bytes[shown]); skipped++) {
            shown++; // from the start of a character
        }
        return "(more than " + (shown - from) + " bytes before) ... " + utf8(bytes, shown, to);
    }

    private static boolean isContinuation(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /** UTF-8, with each sequence that is not UTF-8 read as U+FFFD. */
    private static String utf8(byte[] bytes, int from, int to) {
        return new String(bytes, from, to - from, StandardCharsets.UTF_8);
    }

    /**
     * The last {@value #TAIL_WINDOW} bytes of a file, from {@code bytes[begin]}; {@code midLine} when they begin inside
     * a line (the byte before them, read too, is no line break).
     */
    private record LogEnd(byte[] bytes, int begin, boolean midLine) {

        static LogEnd read(Path file) throws IOException {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = channel.size();
                long window = Math.max(0, size - TAIL_WINDOW);
                long from = Math.max(0, window - 1); // the byte before the window tells whether it begins a line
                ByteBuffer buffer = ByteBuffer.allocate((int) (size - from));
                while (buffer.hasRemaining() && channel.read(buffer, from + buffer.position()) > 0) {
                    // a positional read may return less than asked
                }
                byte[] bytes = buffer.hasRemaining() // the file was cut short meanwhile
                        ? java.util.Arrays.copyOf(buffer.array(), buffer.position()) : buffer.array();
                if (window == 0 || bytes.length == 0) {
                    return new LogEnd(bytes, 0, false);
                }
                byte before = bytes[0];
                if (before == '\r' && bytes.length > 1 && bytes[1] == '\n') {
                    return new LogEnd(bytes, 2, false); // the window began inside a CR LF
                }
                return new LogEnd(bytes, 1, before != '\n' && before != '\r');
            }
        }
    }

    /**
     * True when the last {@value #TAIL_WINDOW} bytes of one of the logs contain {@code text} as written (read as UTF-8,
     * as {@link #tail} reads them).
     */
    public boolean logContains(String text) {
        for (Path file : logFiles) {
            try {
                if (Files.isRegularFile(file)) {
                    LogEnd end = LogEnd.read(file);
                    int from = end.begin();
                    for (int skipped = 0; skipped < 3 && from < end.bytes().length && isContinuation(end.bytes()[from]);
                         skipped++) {
                        from++; // from the start of a character
                    }
                    if (utf8(end.bytes(), from, end.bytes().length).contains(text)) {
                        return true;
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // unreadable: it says nothing
            }
        }
        return false;
    }

    /**
     * A small shell loop that SIGKILLs this child once the launching JVM is gone, so a test JVM
     * killed by a timeout leaves nothing behind. It checks the marker before signalling.
     */
    private void startWatchdog() {
        long parent = ProcessHandle.current().pid();
        String script = "while kill -0 " + parent + " 2>/dev/null && kill -0 " + pid + " 2>/dev/null; do sleep 2; done; "
                + "if grep -qaF -- '" + markerArgument(marker) + "' /proc/" + pid + "/cmdline 2>/dev/null; then kill -9 " + pid + "; fi";
        try {
            new ProcessBuilder("/bin/sh", "-c", script)
                    .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new StackException("could not start the watchdog for " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid + ")";
    }
}
