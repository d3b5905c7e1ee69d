package io.tapline.replay;

import io.tapline.avro.RunSummary;
import org.junit.jupiter.api.Test;

import java.util.List;

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

    /**
     * A run with no case (an empty cases topic, or one dedup-stream does not write) fails the gate, whatever
     * {@code --fail-on} says: before, it passed, having tested nothing. {@code --fail-on-empty false} lets it pass.
     */
    @Test
    void aRunWithNoCaseFailsTheGateUnlessAllowed() {
        RunSummary empty = RunSummary.newBuilder().setTotal(0).setPassed(0).setFailed(0).setErrored(0).setSkipped(0)
                .setTrafficWeight(0).setFailedTrafficWeight(0).setFailedTrafficShare(0).setDurationMillis(1).build();
        for (String spec : List.of("any", "none", "count:5", "share:0.5")) {
            String violation = FailOn.parse(spec, true).violation(empty);
            assertNotNull(violation, spec);
            assertTrue(violation.startsWith("the run has no case") && violation.contains("--fail-on-empty false"), violation);
            assertNull(FailOn.parse(spec, true, false, "").violation(empty), spec);
            assertNull(FailOn.parse(spec, true).allowingEmpty().violation(empty), spec);
        }
        assertNull(FailOn.parse("any", true).violation(summary(0, 0, 0)), "a run with cases is judged as before");
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
        assertEquals(3, FailOn.parse("count: 3", true).threshold(), "space after the colon, as share: allows");
        assertEquals(0.1, FailOn.parse("share: .1", true).threshold());
        assertEquals(1, FailOn.parse("share:1.", true).threshold());
        for (String javaOnly : List.of("share:0.5f", "share:0x1p-1", "share:1e-3", "share:+0.1", "share:", "count:+3", "count:1.0",
                "count:", "count:99999999999999999999")) {
            assertThrows(IllegalArgumentException.class, () -> FailOn.parse(javaOnly, true), javaOnly);
        }
    }

    private static RunSummary weighed(long failedWeight, long weight) {
        return RunSummary.newBuilder().setTotal(10).setPassed(9).setFailed(1).setErrored(0).setSkipped(0)
                .setTrafficWeight(weight).setFailedTrafficWeight(failedWeight)
                .setFailedTrafficShare((double) failedWeight / weight).setDurationMillis(1).build();
    }

    @Test
    void aShareJustOverTheThresholdIsShownOverItAndTheThresholdAsWritten() {
        // 104 of 100,000 requests: 0.00104, over share:0.001 (the README's example gate), not "0.0010, more than 0.001"
        String v = FailOn.parse("share:0.001", true).violation(weighed(104, 100_000));
        assertEquals("regressions weigh 0.00104 of production traffic (104 of 100000 requests), more than 0.001"
                + " (--fail-on share:0.001)", v);
        v = FailOn.parse("share:0.00001", true).violation(weighed(2, 100_000));
        assertEquals("regressions weigh 0.00002 of production traffic (2 of 100000 requests), more than 0.00001"
                + " (--fail-on share:0.00001)", v);
        v = FailOn.parse("share:0", true).violation(weighed(1, 1_000_000_000));
        assertTrue(v.startsWith("regressions weigh 0.000000001 of production traffic"), v);
        assertTrue(v.endsWith("more than 0 (--fail-on share:0)"), v);
        // the usual case keeps four decimals
        assertTrue(FailOn.parse("share:0.01", true).violation(weighed(1, 3)).startsWith("regressions weigh 0.3333 of"));
    }

    @Test
    void aShareExactlyAtTheThresholdPasses() {
        assertNull(FailOn.parse("share:0.25", true).violation(weighed(100, 400)));
        assertNull(FailOn.parse("share:0.001", true).violation(weighed(100, 100_000)));
        assertNull(FailOn.parse("share:0.3", true).violation(weighed(3, 10)));
        assertNull(FailOn.parse("count:1", true).violation(weighed(1, 10)));
        assertNotNull(FailOn.parse("count:0", true).violation(weighed(1, 10)));
    }
}
