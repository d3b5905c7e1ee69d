package io.tapline.replay.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClosingTest {

    @Test
    void aCloseThatNeverEndsIsGivenUpAtTheBound() {
        // the mock's listener, its live client or a candidate client whose close never ends: before, waited for forever
        Promise<Void> never = Promise.promise();
        assertFalse(assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> Closing.await(never.future(), Duration.ofMillis(100), "a listener")));
    }

    @Test
    void aCloseThatFailsIsReportedNotThrown() {
        // thrown, a failed close in the end of a run replaced the run's exit code
        assertFalse(Closing.await(Future.failedFuture("cannot close"), Duration.ofSeconds(5), "a listener"));
    }

    @Test
    void aCloseThatEndsIsWaitedFor() {
        Promise<Void> later = Promise.promise();
        new Thread(() -> {
            sleep(100);
            later.complete();
        }).start();
        assertTrue(Closing.await(later.future(), Duration.ofSeconds(20), "a listener"));
        assertTrue(later.future().succeeded());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
