package io.tapline.logging;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Writes log lines on a thread of its own, so that a logging call never waits on the output. Standard error is a
 * pipe to a container runtime or a terminal; when its reader stalls, a write blocks, and a proxy's event loop that
 * logged would stall with it. Lines wait in a queue bounded in characters; a line that does not fit is dropped and
 * counted, and a notice with the count is written where it would have been, before the next line that fits.
 * <p>Lines keep the order in which they were handed over. While the JVM shuts down, a logging call waits (at most
 * {@link #SHUTDOWN_WAIT_NANOS}) until its line is written, so the last lines of a process are not lost. Once such a
 * wait ran out, the output is taken as stalled and later calls do not wait until a line gets written again: a stop
 * that logs many lines to a stalled output is not held up by each of them in turn. A thread interrupted meanwhile does
 * not wait, keeps its interrupt, and does not make the output count as stalled.
 */
final class LogWriter {

    /** What the queue may hold: about 4 MB of text, thousands of lines or a few hundred stack traces. */
    static final long DEFAULT_MAX_QUEUED_CHARS = 4L << 20;
    private static final long SHUTDOWN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** A line to write, after a notice of the lines dropped just before it when there were some. */
    private record Line(PrintStream out, String text, long seq, long droppedBefore) {
    }

    private final long maxQueuedChars;
    /** Formats the notice for this many dropped lines. */
    private final LongFunction<String> droppedNotice;
    private final ArrayDeque<Line> queue = new ArrayDeque<>();
    private long queuedChars;
    /** Sequence numbers: of the last line queued, and of the last one written (both under {@code this}). */
    private long queuedSeq;
    private long writtenSeq;
    private final AtomicLong dropped = new AtomicLong();
    /** Lines dropped since the last line queued (under {@code this}). */
    private long droppedSinceQueued;
    private volatile boolean shuttingDown;
    /** A wait at shutdown ran out and no line was written since (under {@code this}). */
    private boolean stalled;
    private final long shutdownWaitNanos;
    private Thread thread;

    LogWriter(long maxQueuedChars, LongFunction<String> droppedNotice) {
        this(maxQueuedChars, droppedNotice, SHUTDOWN_WAIT_NANOS);
    }

    LogWriter(long maxQueuedChars, LongFunction<String> droppedNotice, long shutdownWaitNanos) {
        this.maxQueuedChars = maxQueuedChars;
        this.droppedNotice = droppedNotice;
        this.shutdownWaitNanos = shutdownWaitNanos;
    }

    /** Hands a line over; returns at once unless the JVM is shutting down. */
    void write(PrintStream out, String text) {
        long seq;
        synchronized (this) {
            if (queuedChars + text.length() > maxQueuedChars) {
                dropped.incrementAndGet();
                droppedSinceQueued++;
                return;
            }
            if (thread == null) {
                start();
            }
            seq = ++queuedSeq;
            queue.addLast(new Line(out, text, seq, droppedSinceQueued));
            droppedSinceQueued = 0;
            queuedChars += text.length();
            notifyAll();
        }
        if (shuttingDown) { // read after queueing: a line queued after the shutdown began is always waited for
            synchronized (this) {
                if (stalled) {
                    return;
                }
            }
            // a wait an interrupt ended (a publisher woken at shutdown) says nothing of the output: not stalled for it
            if (!awaitWritten(seq, shutdownWaitNanos) && !Thread.currentThread().isInterrupted()) {
                synchronized (this) {
                    stalled = writtenSeq < seq;
                }
            }
        }
    }

    /** As the JVM shuts down: from now on a logging call waits for its line, and this waits for those before. */
    void shutdown() {
        shuttingDown = true;
        if (!flush(shutdownWaitNanos, TimeUnit.NANOSECONDS)) {
            synchronized (this) {
                stalled = true;
            }
        }
    }

    /** Lines dropped since the process started, because the queue was full. */
    long dropped() {
        return dropped.get();
    }

    /** Waits until every line handed over before this call is written, or the timeout passes. */
    boolean flush(long timeout, TimeUnit unit) {
        long seq;
        synchronized (this) {
            seq = queuedSeq;
        }
        return awaitWritten(seq, unit.toNanos(timeout));
    }

    private synchronized boolean awaitWritten(long seq, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (writtenSeq < seq) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void start() {
        thread = new Thread(this::run, "tapline-log-writer");
        thread.setDaemon(true);
        thread.start();
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "tapline-log-flush"));
        } catch (IllegalStateException e) {
            shuttingDown = true; // the first line of all came while the JVM shuts down
        }
    }

    private void run() {
        while (true) {
            Line line;
            synchronized (this) {
                while (queue.isEmpty()) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // the writer outlives interruptions: it stops with the JVM
                    }
                }
                line = queue.pollFirst();
                queuedChars -= line.text().length();
            }
            try {
                if (line.droppedBefore() > 0) {
                    line.out().print(droppedNotice.apply(line.droppedBefore()));
                }
                line.out().print(line.text()); // one write per line, so a reader sees whole lines
                line.out().flush();
            } catch (RuntimeException | Error e) {
                // a PrintStream reports its own errors by checkError(); anything else (an OutOfMemoryError while the
                // notice is formatted, say) must not stop the writer: every later line would be queued for nothing
            }
            synchronized (this) {
                writtenSeq = line.seq();
                stalled = false;
                notifyAll();
            }
        }
    }
}
