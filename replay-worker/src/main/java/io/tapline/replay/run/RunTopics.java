package io.tapline.replay.run;

import io.tapline.topics.TaplineTopics;

/** The topic names a replay process uses (overridable, e.g. per test or per installation). */
public record RunTopics(String cases, String noise, String results, String runs, String dlq) {

    public static RunTopics defaults() {
        return new RunTopics(TaplineTopics.CASES, TaplineTopics.NOISE, TaplineTopics.RESULTS, TaplineTopics.RUNS,
                TaplineTopics.DLQ);
    }

    public static String boundsKey(String runId) {
        return runId + "/bounds";
    }

    public static String summaryKey(String runId) {
        return runId + "/summary";
    }

    /**
     * The transactional id every write of the run's summary uses ({@code RunCoordinator#recordSummary}): one per run,
     * so each writer fences the one before it. A worker's id ({@code tapline-replay-RUN-WORKER}) never has a {@code /},
     * so none is the same.
     */
    public static String summaryTransactionalId(String runId) {
        return "tapline-replay-" + runId + "/summary";
    }

    public static String resultKey(String runId, String caseId) {
        return runId + "/" + caseId;
    }

    /** Consumer group of a run: every worker of the run joins it and they split the case partitions. */
    public static String groupId(String runId) {
        return "tapline-replay-" + runId;
    }
}
