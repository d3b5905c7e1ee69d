package io.tapline.replay.run;

import io.tapline.avro.MockCall;
import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.Verdict;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunResultsTest {

    /**
     * A passed case as the results topic hands it over: every string its own instance (a decoder shares none), the
     * mock usage of two dependency calls, the worker's name.
     */
    private static ReplayResult decodedPass(int i) {
        String signature = String.format("%032x", i / 3);
        List<MockCall> calls = List.of(
                MockCall.newBuilder().setMethod(new String("GET")).setDestination(new String("inventory"))
                        .setPath("/stock/" + (10_000 + i)).setOutcome(new String("matched")).setScore(1.0).build(),
                MockCall.newBuilder().setMethod(new String("POST")).setDestination(new String("pricing"))
                        .setPath(new String("/quote")).setOutcome(new String("matched")).setScore(1.0).build());
        return ReplayResult.newBuilder().setRunId(new String("ci-4f2a9c17e0")).setCaseId(signature + "-" + (i % 3))
                .setSignatureId(signature).setRoute(new String("GET /api/v2/products/{id}"))
                .setCandidate(new String("http://shop-v2.staging.svc:8080")).setVerdict(Verdict.PASS)
                .setDifferences(new ArrayList<>()).setDifferenceCount(0).setIgnoredDifferences(1)
                .setMocks(MockUsage.newBuilder().setMatched(2).setUnmatched(0).setUnused(0).setCalls(calls).build())
                .setRecordedLatencyMicros(1200 + i).setCandidateLatencyMicros(1500 + i).setTrafficWeight(1 + i / 3)
                .setError(null).setWorker(new String("replay-worker-7d9f4c-x2kq/w1"))
                .setCompletedAt(Instant.ofEpochMilli(1_790_000_000_000L + i)).setNotes(new ArrayList<>()).build();
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void aPassedCaseIsKeptWithWhatTheReportsShowOnly() {
        int cases = 30_000;
        long before = usedHeapAfterGc();
        List<ReplayResult> decoded = new ArrayList<>(cases);
        for (int i = 0; i < cases; i++) {
            decoded.add(decodedPass(i));
        }
        RunResults results = new RunResults(decoded);
        decoded = null;
        long perCase = (usedHeapAfterGc() - before) / cases;
        assertEquals(cases, results.size());
        // kept whole, such a result takes ~1,100 bytes (its mock usage ~500, the worker's name, its own copy of the
        // route and candidate); what the reports show of it (case id, signature, route, verdict, weight, latencies,
        // completion time) ~300. Measured as the heap left after collections: a wide margin both ways.
        assertTrue(perCase < 600, "a passed case keeps " + perCase + " bytes of heap");
        ReplayResult kept = results.results().get(0);
        assertEquals("GET /api/v2/products/{id}", kept.getRoute());
        assertEquals(1200, kept.getRecordedLatencyMicros());
        assertEquals(1, kept.getIgnoredDifferences());
        assertEquals(Instant.ofEpochMilli(1_790_000_000_000L), kept.getCompletedAt());
    }

    /**
     * The results range a summary records ends one past the run's last record in each partition, or where the read
     * started in one without any: not where the read stopped, which depends on when it ran (other runs' results keep
     * coming), so every worker that reads a completed run's results records the same range.
     */
    @Test
    void theRangeRecordedEndsAtTheRunsLastRecordNotWhereTheReadStopped() {
        Map<Integer, Long> from = Map.of(0, 100L, 1, 40L, 2, 7L);
        Map<Integer, Long> runEnd = Map.of(0, 131L, 2, 9L);
        // two reads of the same completed run, the second after other runs wrote more results
        Map<Integer, Long> early = RunResults.endOfRun(from, Map.of(0, 140L, 1, 52L, 2, 9L), runEnd);
        Map<Integer, Long> late = RunResults.endOfRun(from, Map.of(0, 900L, 1, 700L, 2, 300L), runEnd);
        assertEquals(Map.of(0, 131L, 1, 40L, 2, 9L), early);
        assertEquals(early, late);
        // no start recorded (a run started before start offsets were): a partition without the run's records is empty
        assertEquals(Map.of(0, 131L, 1, 0L), RunResults.endOfRun(Map.of(), Map.of(0, 140L, 1, 52L), Map.of(0, 131L)));
        // never beyond where the read stopped (a topic recreated since the start was taken)
        assertEquals(Map.of(1, 20L), RunResults.endOfRun(Map.of(1, 40L), Map.of(1, 20L), Map.of()));
    }
}
