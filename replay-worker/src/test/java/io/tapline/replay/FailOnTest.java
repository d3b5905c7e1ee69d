package io.tapline.replay;

import io.tapline.avro.RunSummary;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailOnTest {

    private static RunSummary summary(long failed, long errored, double share) {
        return RunSummary.newBuilder().setTotal(100).setPassed(100 - failed - errored).setFailed(failed)
                .setErrored(errored).setSkipped(0).setTrafficWeight(1000).setFailedTrafficWeight((long) (share * 1000))
                .setFailedTrafficShare(share).setDurationMillis(1).build();
    }

    @Test
    void anyFailsOnTheFirstRegression() {
        FailOn f = FailOn.parse("any", true);
        assertNull(f.violation(summary(0, 0, 0)));
        assertNotNull(f.violation(summary(1, 0, 0.001)));
    }

    @Test
    void countAllowsUpToN() {
        FailOn f = FailOn.parse("count:2", true);
        assertNull(f.violation(summary(2, 0, 0.5)));
        assertNotNull(f.violation(summary(3, 0, 0.5)));
    }

    @Test
    void shareComparesTheFailedShareOfTraffic() {
        FailOn f = FailOn.parse("share:0.01", true);
        assertNull(f.violation(summary(5, 0, 0.009)));
        assertTrue(f.violation(summary(1, 0, 0.02)).contains("share:0.01"));
    }

    @Test
    void errorsFailTheGateUnlessTolerated() {
        assertNotNull(FailOn.parse("none", true).violation(summary(0, 1, 0)));
        assertNull(FailOn.parse("none", false).violation(summary(10, 1, 1)));
    }

    @Test
    void badSpecNamesTheFlagAndTheAllowedForms() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FailOn.parse("share:2", true));
        assertTrue(e.getMessage().contains("--fail-on"));
        assertTrue(e.getMessage().contains(FailOn.ALLOWED));
        assertThrows(IllegalArgumentException.class, () -> FailOn.parse("sometimes", true));
        assertEquals(FailOn.Kind.COUNT, FailOn.parse(" COUNT:0 ", true).kind());
    }
}
