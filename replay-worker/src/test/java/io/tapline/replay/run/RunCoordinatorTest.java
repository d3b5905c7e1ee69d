package io.tapline.replay.run;

import io.tapline.avro.MockUsage;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.avro.Verdict;
import io.tapline.config.ConfigException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCoordinatorTest {

    @Test
    void aCandidateIsTheSameWrittenAnotherWayButNotOnAnotherHostPortSchemeOrBasePath() {
        assertTrue(RunCoordinator.sameCandidate("http://cand:8080", "HTTP://Cand:8080/"));
        assertTrue(RunCoordinator.sameCandidate("http://cand", "http://cand:80"));
        assertTrue(RunCoordinator.sameCandidate("http://cand/v2/", "http://cand/v2"));
        assertFalse(RunCoordinator.sameCandidate("http://cand:8080", "http://cand:8081"));
        assertFalse(RunCoordinator.sameCandidate("http://cand", "https://cand"));
        assertFalse(RunCoordinator.sameCandidate("http://cand", "http://other"));
        assertFalse(RunCoordinator.sameCandidate("http://cand/v1", "http://cand/v2"));
        assertTrue(RunCoordinator.sameCandidate("not a url", "not a url"), "compared as written when unreadable");
    }

    private static RunEvent started(String casesTopic, String candidate) {
        return RunEvent.newBuilder().setRunId("r1").setCandidate(candidate).setAt(Instant.EPOCH)
                .setBounds(RunBounds.newBuilder().setCasesTopic(casesTopic).setEndOffsets(Map.of("0", 10L, "1", 7L))
                        .setExpectedCases(-1).setResultsStartOffsets(Map.of()).build())
                .setSummary(null).build();
    }

    @Test
    void aWorkerReadingAnotherCasesTopicThanTheRunsIsRefusedWhetherOrNotTheRunIsComplete() {
        RunEvent run = started("tapline.cases", "http://cand:8080");
        // The bounds are offsets of tapline.cases; applied by partition number to another topic they would replay
        // that topic's cases into the run and judge its completion on offsets of the wrong topic.
        ConfigException running = assertThrows(ConfigException.class,
                () -> RunCoordinator.join("r1", run, "http://cand:8080", "staging.cases", () -> false));
        assertTrue(running.getMessage().startsWith("option --topic-cases: run r1 replays the cases of tapline.cases,"
                + " not of staging.cases"), running.getMessage());
        assertThrows(ConfigException.class,
                () -> RunCoordinator.join("r1", run, "http://cand:8080", "staging.cases", () -> true));
        assertSame(run, RunCoordinator.join("r1", run, "http://cand:8080", "tapline.cases", () -> false));
    }

    @Test
    void anotherCandidateIsWarnedWhileTheRunIsInProgressAndRefusedOnceItIsComplete() {
        RunEvent run = started("tapline.cases", "http://cand:8080");
        assertSame(run, RunCoordinator.join("r1", run, "http://replica:8080", "tapline.cases", () -> false));
        ConfigException complete = assertThrows(ConfigException.class,
                () -> RunCoordinator.join("r1", run, "http://replica:8080", "tapline.cases", () -> true));
        assertEquals("option --target: run r1 is complete, and its results are http://cand:8080's, not"
                + " http://replica:8080's; give this candidate a new --run id", complete.getMessage());
    }

    private static ReplayResult result(String caseId, Verdict verdict, Instant completedAt, String worker) {
        return ReplayResult.newBuilder().setRunId("r1").setCaseId(caseId).setSignatureId(caseId).setRoute("GET /items/{id}")
                .setCandidate("http://replica-" + worker + ":8080").setVerdict(verdict).setTrafficWeight(10)
                .setMocks(MockUsage.newBuilder().build()).setWorker(worker).setCompletedAt(completedAt).build();
    }

    /**
     * Every worker that sees the run complete computes its summary event, and any two (a race writes two) must be the
     * same record: before, each ended the duration and the event's time at its own clock, named its own --target, and
     * a run with two workers had two summaries with two durations on the runs topic.
     */
    @Test
    void theSummaryIsTheSameRecordWhicheverWorkerComputesItAndWhenever() {
        Instant began = Instant.parse("2024-05-01T10:00:00Z");
        RunEvent start = RunEvent.newBuilder(started("tapline.cases", "http://cand:8080")).setAt(began).build();
        List<ReplayResult> results = List.of(
                result("a", Verdict.PASS, began.plusSeconds(40), "w1"),
                result("b", Verdict.FAIL, began.plusSeconds(90), "w2"),
                result("c", Verdict.PASS, began.plusSeconds(65), "w1"));
        RunEvent one = RunCoordinator.summaryEvent(start, new RunResults(results));
        RunEvent other = RunCoordinator.summaryEvent(start, new RunResults(List.of(results.get(2), results.get(0), results.get(1))));
        assertEquals(one, other);
        assertEquals(90_000, one.getSummary().getDurationMillis(), "from the run's start to its last result");
        assertEquals(began.plusSeconds(90), one.getAt(), "the run's end, not when a worker wrote it");
        assertEquals("http://cand:8080", one.getCandidate(), "the candidate the run was started against");
        assertEquals("r1", one.getRunId());
        assertEquals(null, one.getBounds());
        assertEquals(3, one.getSummary().getTotal());
        assertEquals(1, one.getSummary().getFailed());
    }

    @Test
    void aRunWithoutResultsLastsNothingAndEndsAtItsStart() {
        Instant began = Instant.parse("2024-05-01T10:00:00Z");
        RunEvent start = RunEvent.newBuilder(started("tapline.cases", "http://cand:8080")).setAt(began).build();
        RunEvent summary = RunCoordinator.summaryEvent(start, new RunResults(List.of()));
        assertEquals(0, summary.getSummary().getDurationMillis());
        assertEquals(began, summary.getAt());
    }

    @Test
    void theFirstPartitionIsTheLowestOfTheBounds() {
        RunBounds bounds = started("tapline.cases", "http://cand:8080").getBounds();
        assertEquals(new TopicPartition("tapline.cases", 0), ReplayWorker.firstPartition("tapline.cases", bounds));
        RunBounds odd = RunBounds.newBuilder(bounds).setEndOffsets(Map.of("10", 1L, "2", 0L, "7", 5L)).build();
        assertEquals(new TopicPartition("tapline.cases", 2), ReplayWorker.firstPartition("tapline.cases", odd));
    }

    @Test
    void aFencedProducerIsToldFromOtherFailuresThrownOrAsTheCauseOfItsErrorState() {
        assertTrue(RunCoordinator.fenced(new ProducerFencedException("a newer producer took the id")));
        assertTrue(RunCoordinator.fenced(new InvalidProducerEpochException("epoch")));
        assertTrue(RunCoordinator.fenced(new KafkaException("Cannot execute transactional method because we are in an"
                + " error state", new ProducerFencedException("a newer producer took the id"))));
        assertFalse(RunCoordinator.fenced(new KafkaException("could not reach the broker",
                new org.apache.kafka.common.errors.TimeoutException("60000 ms"))));
    }
}
