package io.tapline.logging;

import org.slf4j.event.Level;

import java.io.PrintStream;

/**
 * How Tapline's components write their logs: one line per event on standard error, as text for people or as JSON
 * for log pipelines, at a chosen level. Set once the configuration is parsed; loggers read it on every event, so
 * loggers created before that follow it too.
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

    /** Until a component applies its options: text at info, or the {@code tapline.log.*} system properties. */
    private static volatile Settings settings = new Settings(
            orDefault(parseFormat(System.getProperty("tapline.log.format")), Format.TEXT),
            orDefault(parseLevel(System.getProperty("tapline.log.level")), Level.INFO),
            System.err);

    private TaplineLogging() {
    }

    /** The settings every logger follows from now on. */
    public static void configure(Format format, Level level) {
        settings = new Settings(format, level, settings.out());
    }

    /** Where lines go (standard error unless a test captures them). */
    public static void output(PrintStream out) {
        settings = new Settings(settings.format(), settings.level(), out);
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

    private static boolean isQuiet(String loggerName) {
        for (String prefix : QUIET_PREFIXES) {
            if (loggerName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    record Settings(Format format, Level level, PrintStream out) {
    }
}
