package io.tapline.replay.run;

import io.tapline.avro.RunBounds;
import io.tapline.avro.RunEvent;
import io.tapline.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
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
}
