package io.tapline.replay.http;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounded waits for what replay closes at its end: Vert.x, the dependency mock, a candidate client. A close that never
 * ends (a close hook whose promise is never completed, a connection that never finishes closing) must not keep the
 * process from exiting with its run's exit code, which a Kubernetes Job or a CI step reads: after {@link #TIMEOUT} the
 * wait is given up with a warning naming what did not close, and the process goes on.
 */
public final class Closing {

    private static final Logger log = LoggerFactory.getLogger(Closing.class);

    /**
     * How long a close is waited for. Closing takes milliseconds when nothing is wrong; the replay pod's
     * {@code terminationGracePeriodSeconds} (45 s) must hold the 30 s the workers are given after SIGTERM and this.
     */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    private Closing() {
    }

    /**
     * Waits up to {@code timeout} for {@code closing} to end. Returns true if it ended; false, after a warning that
     * names {@code what}, if it did not end in time or failed. Never throws: what follows a close (the exit code) must
     * still happen. The calling thread's interrupt is kept.
     */
    public static boolean await(Future<?> closing, Duration timeout, String what) {
        try {
            closing.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            log.warn("{} did not close within {} ms; going on without waiting for it", what, timeout.toMillis());
            return false;
        } catch (Exception e) {
            // Future.await throws an interrupt (InterruptedException) unchecked, like a failure of the close
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("{} did not close cleanly: {}", what, e.toString());
            return false;
        }
    }
}
