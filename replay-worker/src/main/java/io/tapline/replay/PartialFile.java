package io.tapline.replay;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The {@code FILE.partial} a {@code --out} report is written to before it is moved in place as {@code FILE}, removed
 * however the write ends before that: an error (on {@link #close}) or a stop of the JVM (SIGTERM, SIGINT: a shutdown
 * hook, for as long as the file is open). Before, a report stopped part way left its {@code .partial} file behind.
 *
 * <p>A stop and the file's creation or move exclude each other, so a stop never leaves a file it did not see: once the
 * hook has run, the file is neither made nor moved in place ({@link IOException}), and one made before is removed.
 * A SIGKILL runs no hook; the file is then left.
 */
final class PartialFile implements AutoCloseable {

    private final Path partial;
    private final Thread hook;
    /** Set by the hook: the JVM is stopping. Guarded by {@code this}. */
    private boolean stopped;
    /** Set once the file was moved in place: nothing left to remove. Guarded by {@code this}. */
    private boolean moved;

    /** The partial file of {@code target}, {@code target.partial} next to it; removed by a stop from now on. */
    PartialFile(Path target) {
        this.partial = target.resolveSibling(target.getFileName() + ".partial");
        this.hook = new Thread(this::stop, "tapline-report-partial-file");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            stopped = true; // the JVM is stopping already: nothing is made
        }
    }

    Path path() {
        return partial;
    }

    /** Makes the file (replacing one left there) and opens it for writing. */
    synchronized OutputStream open() throws IOException {
        checkRunning();
        return Files.newOutputStream(partial);
    }

    /** Moves the written file in place as {@code target}, atomically where the file system can. */
    synchronized void moveTo(Path target) throws IOException {
        checkRunning();
        try {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
        }
        moved = true;
    }

    /** Removes the file unless it was moved in place, and the hook with it. */
    @Override
    public void close() throws IOException {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or has run: it removes the file
        }
        synchronized (this) {
            if (!moved) {
                Files.deleteIfExists(partial);
            }
        }
    }

    /** The shutdown hook: no file made or moved from now on, and the one made removed. */
    synchronized void stop() {
        stopped = true;
        if (!moved) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                // the JVM is stopping: nothing is left to tell, and the file is as a SIGKILL would leave it
            }
        }
    }

    private void checkRunning() throws IOException {
        if (stopped) {
            throw new IOException("stopped (SIGTERM or SIGINT) before the report was written whole: " + partial
                    + " removed");
        }
    }
}
