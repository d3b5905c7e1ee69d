package io.tapline.logging;

import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * How Tapline's components write their logs: one line per event on standard error, as text for people or as JSON
 * for log pipelines, at a chosen level. Set once the configuration is parsed; loggers read it on every event, so
 * loggers created before that follow it too. Lines are written by a thread of their own ({@link LogWriter}): a
 * logging call, on an event loop say, never waits for standard error's reader.
 */
public final class TaplineLogging {

    /** A line's shape. */
    public enum Format {
        /** {@code 2026-11-21T15:27:01.123Z [thread] INFO logger - message}, then the stack trace if any. */
        TEXT,
        /** One JSON object per line: time, level, logger, thread, message, the event's key-value pairs, exception. */
        JSON
    }

    /** Libraries that are chatty at info; they speak at warn and above unless the level is debug or trace. */
    private static final String[] QUIET_PREFIXES = {"org.apache.kafka", "io.netty", "io.vertx"};

    /** Libraries of the HTTP path, whose connections' peers are clients, apps, dependencies and candidates. */
    private static final String[] NETWORK_PREFIXES = {"io.netty", "io.vertx"};
    /**
     * What the JDK and Netty's native transports say when a peer resets a connection or is gone as a write reaches it
     * ({@code Connection reset}, {@code recvAddress(..) failed: Connection reset by peer}, {@code Broken pipe}).
     */
    private static final Pattern PEER_ENDED = Pattern.compile(
            "(?:[\\w:]+\\(\\.\\.\\) failed[^:]*: )?(?:Connection reset(?: by peer)?|Broken pipe"
                    + "|An existing connection was forcibly closed by the remote host\\.?)");

    /** Until a component applies its options: text at info, or the {@code tapline.log.*} system properties. */
    private static volatile Settings settings = new Settings(
            orDefault(parseFormat(System.getProperty("tapline.log.format")), Format.TEXT),
            orDefault(parseLevel(System.getProperty("tapline.log.level")), Level.INFO),
            System.err);

    /**
     * A library's message (same logger, same pattern) is written at most once per window; the next one written after
     * it says how many were not. A Kafka client warns twice per reconnect attempt, about once a second, for as long
     * as its broker is down; Vert.x logs a connection's unhandled exception for every connection.
     */
    static final long REPEAT_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Messages followed at once; past this many the lot is forgotten (a library's patterns are few). */
    private static final int MAX_REPEATS_FOLLOWED = 1024;
    private static final ConcurrentHashMap<String, Repeats> REPEATS = new ConcurrentHashMap<>();
    private static volatile LongSupplier clock = System::nanoTime;

    private static final LogWriter WRITER = new LogWriter(LogWriter.DEFAULT_MAX_QUEUED_CHARS,
            TaplineLogging::droppedNotice);

    private TaplineLogging() {
    }

    /** The clock of the repeat windows (tests). */
    static void clock(LongSupplier nanos) {
        clock = nanos;
        REPEATS.clear();
    }

    /**
     * Whether an event of a library's logger with this pattern is written: -1 when it is not (it repeats one written
     * within the window), else how many of it were not written since the last one that was (0 for Tapline's own
     * loggers, and at debug and trace, which write everything).
     */
    static long admit(String loggerName, String pattern) {
        if (!isQuiet(loggerName) || settings.level().toInt() <= Level.DEBUG.toInt()) {
            return 0;
        }
        String key = loggerName + '\n' + pattern;
        Repeats r = REPEATS.get(key);
        if (r == null) {
            if (REPEATS.size() >= MAX_REPEATS_FOLLOWED) {
                REPEATS.clear();
            }
            r = REPEATS.computeIfAbsent(key, k -> new Repeats());
        }
        return r.admit(clock.getAsLong());
    }

    /** One message's window: when its last written event was, and how many were not written since. */
    private static final class Repeats {
        private boolean written;
        private long writtenAt;
        private long notWritten;

        synchronized long admit(long now) {
            if (written && now - writtenAt < REPEAT_WINDOW_NANOS) {
                notWritten++;
                return -1;
            }
            long skipped = notWritten;
            written = true;
            writtenAt = now;
            notWritten = 0;
            return skipped;
        }
    }

    /** Hands a formatted line to the writer thread. */
    static void write(PrintStream out, String line) {
        WRITER.write(out, line);
    }

    /**
     * Waits until every line logged before this call is written, or the timeout passes; false when it passed. For
     * tests that read what was logged; a process's last lines are written before it exits without this.
     */
    public static boolean flush(Duration timeout) {
        return WRITER.flush(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Lines not written since the process started, because standard error did not keep up with them. */
    public static long linesDropped() {
        return WRITER.dropped();
    }

    static String droppedNotice(long lines) {
        return TaplineLogger.line(settings.format(), TaplineLogging.class.getName(), Level.WARN,
                System.currentTimeMillis(), Thread.currentThread().getName(),
                lines + " log lines were not written: the log output did not keep up with them",
                List.of(new KeyValuePair("dropped", lines)), null);
    }

    /** The settings every logger follows from now on. */
    public static void configure(Format format, Level level) {
        settings = new Settings(format, level, settings.out());
    }

    /** Where lines go (standard error unless a test captures them). */
    public static void output(PrintStream out) {
        settings = new Settings(settings.format(), settings.level(), out);
    }

    /**
     * Standard error was replaced ({@link StandardStreams#useUtf8}): lines go to {@code now} if they went to
     * {@code before}, and stay where they went otherwise (a test's capture).
     */
    static void outputReplaced(PrintStream before, PrintStream now) {
        Settings current = settings;
        if (current.out() == before) {
            settings = new Settings(current.format(), current.level(), now);
        }
    }

    public static Format format() {
        return settings.format();
    }

    public static Level level() {
        return settings.level();
    }

    /** Parses a format name as given on a command line; null when it is not one. */
    public static Format parseFormat(String name) {
        for (Format f : Format.values()) {
            if (f.name().equalsIgnoreCase(name)) {
                return f;
            }
        }
        return null;
    }

    /** Parses a level name as given on a command line; null when it is not one. */
    public static Level parseLevel(String name) {
        for (Level l : Level.values()) {
            if (l.name().equalsIgnoreCase(name)) {
                return l;
            }
        }
        return null;
    }

    private static <T> T orDefault(T value, T fallback) {
        return value == null ? fallback : value;
    }

    static Settings settings() {
        return settings;
    }

    /** Whether a logger of this name writes events of this level. */
    static boolean enabled(String loggerName, Level level) {
        Level threshold = settings.level();
        if (threshold == Level.INFO && isQuiet(loggerName)) {
            threshold = Level.WARN;
        }
        return level.toInt() >= threshold.toInt();
    }

    /**
     * Whether an event of Vert.x or Netty only reports a peer that reset its connection (or was gone as a write reached it):
     * Vert.x logs that as an error of the connection ({@code ConnectionBase}: the message alone, the exception too at
     * debug) when nothing of the connection's own handles it, though the request or response on it fails and Tapline
     * handles that (a 502 and its warning, a request sent again, a replay result with the reason). A client, an app or
     * a candidate resetting a connection is routine, so such an event is written at debug; any other event of the
     * library, and an exception other than an {@link IOException} with such a message, keeps its level.
     */
    static boolean peerEndedConnection(String loggerName, String message, Throwable throwable) {
        if (message == null || !startsWithAny(loggerName, NETWORK_PREFIXES)) {
            return false;
        }
        if (throwable != null && !(throwable instanceof IOException && message.equals(throwable.getMessage()))) {
            return false;
        }
        return PEER_ENDED.matcher(message).matches();
    }

    /** The Kafka consumer's logger of offset answers. */
    private static final String KAFKA_OFFSET_FETCHER = "org.apache.kafka.clients.consumer.internals.OffsetFetcherUtils";

    /**
     * Whether an event is the Kafka consumer's notice that offsets it asked for came for a partition it does not hold
     * ({@code Not updating last stable offset for partition {} as it is no longer assigned}, also of the high
     * watermark): what {@code endOffsets} without an assignment gives under {@code read_committed}, as a replay run's
     * bounds and the readers of the results and noise topics ask, once per partition and consumer. The offsets are
     * returned all the same, so it is written at debug; the consumer's other events keep their level.
     */
    static boolean unassignedPartitionOffsets(String loggerName, String pattern) {
        return pattern != null && KAFKA_OFFSET_FETCHER.equals(loggerName) && pattern.contains("] Not updating ")
                && pattern.endsWith(" as it is no longer assigned");
    }

    private static boolean isQuiet(String loggerName) {
        return startsWithAny(loggerName, QUIET_PREFIXES);
    }

    private static boolean startsWithAny(String loggerName, String[] prefixes) {
        for (String prefix : prefixes) {
            if (loggerName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    record Settings(Format format, Level level, PrintStream out) {
    }
}
