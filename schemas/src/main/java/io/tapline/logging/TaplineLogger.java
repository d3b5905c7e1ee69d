package io.tapline.logging;

import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

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
        String time = TIME.format(Instant.ofEpochMilli(millis));
        StringBuilder line = new StringBuilder(128);
        if (s.format() == TaplineLogging.Format.JSON) {
            line.append("{\"time\":\"").append(time).append("\",\"level\":\"").append(level.name()).append('"');
            field(line, "logger", name);
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
                field(line, "exception", stackTrace(throwable));
            }
            line.append('}');
        } else {
            // the message says it all for a person; the event's fields are for log pipelines (JSON)
            line.append(time).append(" [").append(thread).append("] ").append(level.name()).append(' ')
                    .append(name).append(" - ").append(message);
            if (throwable != null) {
                line.append(System.lineSeparator()).append(stackTrace(throwable).stripTrailing());
            }
        }
        line.append(System.lineSeparator());
        s.out().print(line); // one write per event, so lines from different threads never interleave
        s.out().flush();
    }

    private static void field(StringBuilder line, String key, String value) {
        line.append(",\"").append(key).append("\":");
        Json.string(line, value);
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
