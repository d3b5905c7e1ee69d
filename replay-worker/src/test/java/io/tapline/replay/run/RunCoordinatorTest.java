package io.tapline.replay.run;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
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
}
