package io.tapline.ops;

import io.tapline.logging.PeriodicWarning;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Paces the JDK HTTP server's dispatcher thread while the process has no file descriptor left to accept a connection
 * with. When every descriptor is taken (by other work than the management port), a probe's connection waits in the
 * port's backlog: the dispatcher's accept fails ("Too many open files"), its loop logs the failure at TRACE, drops it,
 * and selects again, which returns at once as the connection still waits: a core spent for as long as the shortage
 * lasts (JDK 17's {@code sun.net.httpserver.ServerImpl.Dispatcher}, unchanged in JDK 25). The server has no setting
 * for it, and that log call, made on the dispatcher thread, is the only hook it offers: this handler of its logger
 * ({@code com.sun.net.httpserver}) pauses the thread for {@link #PAUSE} on each such failure, and warns at most every
 * {@link #WARNING_INTERVAL}. The connection is accepted, and the probes answered, at the first attempt after a
 * descriptor is free.
 */
final class AcceptBackoff extends Handler {

    /** Between two attempts to accept: the probes wait at most this long once a descriptor is free. */
    static final Duration PAUSE = Duration.ofMillis(100);
    static final Duration WARNING_INTERVAL = Duration.ofSeconds(10);
    /** The JDK server's logger; held here, as the logging framework holds its loggers weakly. */
    private static final Logger JDK_SERVER = Logger.getLogger("com.sun.net.httpserver");
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(ManagementServer.class);
    private static boolean installed;

    private final PeriodicWarning warning = new PeriodicWarning(WARNING_INTERVAL);

    private AcceptBackoff() {
    }

    /**
     * Adds the handler to the JDK server's logger, once per JVM, and lets that logger pass the server's TRACE records
     * (FINER) to it unless an operator set it lower; the console handler still prints only what it did (INFO and up).
     * Called before the first server is created, so that the server's own logger shares this configuration.
     */
    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        JDK_SERVER.addHandler(new AcceptBackoff());
        Level level = JDK_SERVER.getLevel();
        if (level == null || level.intValue() > Level.FINER.intValue()) {
            JDK_SERVER.setLevel(Level.FINER);
        }
    }

    /**
     * A failure of the dispatcher's loop itself, outside any one connection (JDK 17 logs it as {@code "Dispatcher (4)"}
     * with the {@link IOException}): accepting a connection without a descriptor for it ("Too many open files", or its
     * translation under another locale), which the loop would otherwise try again at once. A connection's own failures
     * (a client resetting it) are logged under other numbers and pause nothing.
     */
    static boolean acceptFailed(LogRecord record) {
        String message = record.getMessage();
        return message != null && message.startsWith("Dispatcher (4)") && record.getThrown() instanceof IOException;
    }

    @Override
    public void publish(LogRecord record) {
        if (!acceptFailed(record)) {
            return;
        }
        long count = warning.occurred();
        if (count > 0) {
            LOG.atWarn().addKeyValue("failed_accepts", count)
                    .log("The management port cannot accept connections ({}; most likely the process has no file "
                            + "descriptor left, ulimit -n); the probes are answered once it can. Trying again every {} ms, {} "
                            + "attempt(s) since the last warning, warned about at most every {} s",
                            record.getThrown().getMessage(), PAUSE.toMillis(), count, WARNING_INTERVAL.toSeconds());
        }
        try {
            Thread.sleep(PAUSE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
