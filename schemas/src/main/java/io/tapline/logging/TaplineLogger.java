package io.tapline.logging;

import io.tapline.text.ShownText;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

import java.lang.ref.WeakReference;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A logger writing one line per event in the format {@link TaplineLogging} names. */
final class TaplineLogger extends LegacyAbstractLogger implements LoggingEventAware {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** Fields of every JSON line; an event's key of the same name is written with a trailing underscore. */
    private static final List<String> RESERVED = List.of("time", "level", "logger", "thread", "message", "exception");

    TaplineLogger(String name) {
        this.name = name;
    }

    @Override
    public boolean isTraceEnabled() {
        return TaplineLogging.enabled(name, Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
        return TaplineLogging.enabled(name, Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
        return TaplineLogging.enabled(name, Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
        return TaplineLogging.enabled(name, Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
        return TaplineLogging.enabled(name, Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
            Throwable throwable) {
        write(level, System.currentTimeMillis(), Thread.currentThread().getName(), pattern, arguments, List.of(), throwable);
    }

    /** Events from the fluent API ({@code LOG.atWarn().addKeyValue(...)}), which carry key-value pairs. */
    @Override
    public void log(LoggingEvent event) {
        if (!TaplineLogging.enabled(name, event.getLevel())) {
            return;
        }
        List<KeyValuePair> pairs = event.getKeyValuePairs() == null ? List.of() : event.getKeyValuePairs();
        write(event.getLevel(), event.getTimeStamp() > 0 ? event.getTimeStamp() : System.currentTimeMillis(),
                event.getThreadName() != null ? event.getThreadName() : Thread.currentThread().getName(),
                event.getMessage(), event.getArgumentArray(), pairs, event.getThrowable());
    }

    private void write(Level level, long millis, String thread, String pattern, Object[] arguments,
            List<KeyValuePair> pairs, Throwable throwable) {
        if (level.toInt() > Level.DEBUG.toInt() && (TaplineLogging.peerEndedConnection(name, pattern, throwable)
                || TaplineLogging.unassignedPartitionOffsets(name, pattern))) {
            if (!TaplineLogging.enabled(name, Level.DEBUG)) {
                // a peer resetting a connection: what failed on it is reported in Tapline's terms; Kafka's offsets
                // for a partition not held: returned all the same
                return;
            }
            level = Level.DEBUG;
        }
        long notWritten = TaplineLogging.admit(name, pattern);
        if (notWritten < 0) {
            return; // a library repeating itself within the window: counted, said with the next line written
        }
        TaplineLogging.Settings s = TaplineLogging.settings();
        String message = pattern;
        if (arguments != null && arguments.length > 0) {
            // a trailing Throwable the pattern does not use is the event's exception (the fluent API leaves it there)
            FormattingTuple formatted = MessageFormatter.arrayFormat(pattern, arguments);
            message = formatted.getMessage();
            if (throwable == null) {
                throwable = formatted.getThrowable();
            }
        }
        if (notWritten > 0) {
            message = message + " (" + notWritten + " more like this since the last one were not written)";
            pairs = new ArrayList<>(pairs);
            pairs.add(new KeyValuePair("suppressed", notWritten));
        }
        TaplineLogging.write(s.out(), line(s.format(), name, level, millis, thread, message, pairs, throwable));
    }

    /** One event as a line in this format, line separator included. */
    static String line(TaplineLogging.Format format, String logger, Level level, long millis, String thread,
            String message, List<KeyValuePair> pairs, Throwable throwable) {
        String time = TIME.format(Instant.ofEpochMilli(millis));
        StringBuilder line = new StringBuilder(128);
        if (format == TaplineLogging.Format.JSON) {
            line.append("{\"time\":\"").append(time).append("\",\"level\":\"").append(level.name()).append('"');
            field(line, "logger", logger);
            field(line, "thread", thread);
            field(line, "message", message);
            for (KeyValuePair kv : pairs) {
                String key = String.valueOf(kv.key);
                line.append(',');
                Json.string(line, RESERVED.contains(key) ? key + "_" : key);
                line.append(':');
                Json.value(line, kv.value);
            }
            if (throwable != null) {
                field(line, "exception", stackTrace(throwable, false, time));
            }
            line.append('}');
        } else {
            // the message says it all for a person; the event's fields are for log pipelines (JSON). What a client
            // sent can reach a message (a header named in a warning), so no message may start a line of its own.
            line.append(time).append(" [");
            escapeControls(line, thread);
            line.append("] ").append(level.name()).append(' ');
            escapeControls(line, logger);
            line.append(" - ");
            escapeControls(line, message);
            if (throwable != null) {
                line.append(System.lineSeparator()).append(stackTrace(throwable, true, time).stripTrailing());
            }
        }
        line.append(System.lineSeparator());
        return line.toString();
    }

    /** {@link #escapeControls}' escapes: a backslash doubled, line breaks as {@code \n} and {@code \r}; a tab kept. */
    private static final String[] TEXT_ESCAPES = ShownText.escapes(Map.of('\\', "\\\\", '\n', "\\n", '\r', "\\r"));

    private static void field(StringBuilder line, String key, String value) {
        line.append(",\"").append(key).append("\":");
        Json.string(line, value);
    }

    /**
     * Writes text on one line with every character that could act rather than read shown as a code, as
     * {@link ShownText#oneLine} shows it: line breaks as {@code \n} and {@code \r}; the other control characters,
     * the bidirectional controls (a right-to-left override in a logged path would reverse the rest of the line in a
     * terminal or a log viewer), the characters drawn as nothing (U+200B would hide a difference) and a surrogate
     * that is not half of a pair as a backslash, {@code u} and four hex digits. Unlike {@code oneLine}, a tab stays (a
     * stack trace's frames start with one) and a backslash is doubled, so that no text can pass for an escape.
     * <p>It runs on the logging thread (an event loop, say): printable ASCII is copied by runs, one scan and no
     * allocation; a character past ASCII is looked at only as far as {@link ShownText#shownAsCode} needs.
     */
    static void escapeControls(StringBuilder out, String text) {
        ShownText.append(out, text, TEXT_ESCAPES);
    }

    /**
     * A throwable as {@link Throwable#printStackTrace()} writes it: its frames, then its suppressed throwables and
     * causes with the frames they share with the one enclosing them left out. With {@code escape} (the text format),
     * every line's own text is written by {@link #escapeControls}: each throwable's line (its class and message) and
     * each frame (its class loader, module, class, method and file names, which a script language, generated code or
     * a plugin's loader can fill). Neither can then pass for lines of the log, send a terminal an escape sequence or
     * reorder its line; the trace's own line breaks and tabs are the only ones written. Without it (the JSON format,
     * whose string escapes show the same characters as codes) the trace is the JDK's, character for character.
     */
    static String stackTrace(Throwable t, boolean escape) {
        return stackTrace(t, escape, null);
    }

    /**
     * As {@link #stackTrace(Throwable, boolean)}, for a line written at {@code time}: a throwable (or a cause, or a
     * suppressed one) whose trace one of the last lines written already holds is written as its own line and a
     * reference to that line's time, not its frames and causes again. Kafka Streams logs a stream thread's failure
     * with the same exception from three places, and Tapline's handler a fourth; its trace is written once. Null
     * {@code time}: every trace whole.
     */
    private static String stackTrace(Throwable t, boolean escape, String time) {
        StringBuilder out = new StringBuilder(1024);
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(t);
        List<Throwable> whole = time == null ? null : new ArrayList<>();
        appendThrowable(out, t, "", "", new StackTraceElement[0], escape, seen, whole);
        if (whole != null) {
            RECENT_TRACES.written(whole, time);
        }
        return out.toString();
    }

    /** The throwables whose traces the last lines held (bounded: the oldest is forgotten). */
    private static final RecentTraces RECENT_TRACES = new RecentTraces(16);

    /**
     * The last {@code capacity} throwables written with their frames, by identity, with the time of the line that
     * held them. Weak references: a throwable remembered here is not kept alive by it.
     */
    static final class RecentTraces {
        private final int capacity;
        private final ArrayDeque<Entry> entries = new ArrayDeque<>();

        private record Entry(WeakReference<Throwable> throwable, String time) {
        }

        RecentTraces(int capacity) {
            this.capacity = capacity;
        }

        /** The time of the line that held {@code t}'s trace, or null when none of the last ones did. */
        synchronized String writtenAt(Throwable t) {
            for (Entry e : entries) {
                if (e.throwable().get() == t) {
                    return e.time();
                }
            }
            return null;
        }

        synchronized void written(List<Throwable> throwables, String time) {
            for (Throwable t : throwables) {
                entries.removeIf(e -> e.throwable().get() == t);
                entries.addLast(new Entry(new WeakReference<>(t), time));
                while (entries.size() > capacity) {
                    entries.removeFirst();
                }
            }
        }
    }

    private static void appendThrowable(StringBuilder out, Throwable t, String caption, String prefix,
            StackTraceElement[] enclosing, boolean escape, Set<Throwable> seen, List<Throwable> whole) {
        String writtenAt = whole == null ? null : RECENT_TRACES.writtenAt(t);
        if (writtenAt != null) {
            out.append(prefix).append(caption);
            appendHeading(out, t, escape);
            out.append(" (stack trace written above, at ").append(writtenAt).append(')').append(System.lineSeparator());
            return;
        }
        if (whole != null) {
            whole.add(t);
        }
        StackTraceElement[] frames = t.getStackTrace();
        int m = frames.length - 1;
        int n = enclosing.length - 1;
        while (m >= 0 && n >= 0 && frames[m].equals(enclosing[n])) {
            m--;
            n--;
        }
        int inCommon = frames.length - 1 - m;
        out.append(prefix).append(caption);
        appendHeading(out, t, escape);
        out.append(System.lineSeparator());
        for (int i = 0; i <= m; i++) {
            out.append(prefix).append("\tat ");
            if (escape) {
                escapeControls(out, frames[i].toString());
            } else {
                out.append(frames[i]);
            }
            out.append(System.lineSeparator());
        }
        if (inCommon != 0) {
            out.append(prefix).append("\t... ").append(inCommon).append(" more").append(System.lineSeparator());
        }
        for (Throwable suppressed : t.getSuppressed()) {
            appendRelated(out, suppressed, "Suppressed: ", prefix + "\t", frames, escape, seen, whole);
        }
        Throwable cause = t.getCause();
        if (cause != null) {
            appendRelated(out, cause, "Caused by: ", prefix, frames, escape, seen, whole);
        }
    }

    /** A cause or suppressed throwable, or, met before on this trace, the JDK's mark of a circular reference. */
    private static void appendRelated(StringBuilder out, Throwable t, String caption, String prefix,
            StackTraceElement[] enclosing, boolean escape, Set<Throwable> seen, List<Throwable> whole) {
        if (seen.add(t)) {
            appendThrowable(out, t, caption, prefix, enclosing, escape, seen, whole);
            return;
        }
        out.append(prefix).append(caption).append("[CIRCULAR REFERENCE: ");
        appendHeading(out, t, escape);
        out.append(']').append(System.lineSeparator());
    }

    /** A throwable's own line, its {@code toString()}: {@code null} when that is null, as the JDK writes it. */
    private static void appendHeading(StringBuilder out, Throwable t, boolean escape) {
        String heading = String.valueOf(t.toString());
        if (escape) {
            escapeControls(out, heading);
        } else {
            out.append(heading);
        }
    }
}
