package io.tapline.replay.report;

import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;

import java.util.Comparator;
import java.util.List;

/**
 * What every report format renders: the run, its candidate, the summary and the results, sorted by route and case id.
 *
 * @param complete false when no worker has written the run's summary yet (the report is partial)
 */
public record RunReport(String runId, String candidate, RunSummary summary, List<ReplayResult> results, boolean complete) {

    public RunReport {
        results = results.stream()
                .sorted(Comparator.comparing(ReplayResult::getRoute).thenComparing(ReplayResult::getCaseId))
                .toList();
    }
}
