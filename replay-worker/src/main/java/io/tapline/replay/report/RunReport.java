package io.tapline.replay.report;

import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What every report format renders: the run, its candidate, the summary and the results.
 *
 * @param complete false when no worker has written the run's summary yet (the report is partial)
 */
public record RunReport(String runId, String candidate, RunSummary summary, List<ReplayResult> results, boolean complete) {

    public RunReport {
        results = results.stream()
                .sorted(Comparator.comparing(ReplayResult::getRoute).thenComparing(ReplayResult::getCaseId))
                .toList();
    }

    /** Results grouped by route, routes sorted. */
    public Map<String, List<ReplayResult>> byRoute() {
        Map<String, List<ReplayResult>> out = new TreeMap<>();
        for (ReplayResult r : results) {
            out.computeIfAbsent(r.getRoute(), k -> new ArrayList<>()).add(r);
        }
        return out;
    }

    public List<ReplayResult> notPassed() {
        return results.stream().filter(r -> r.getVerdict() != Verdict.PASS).toList();
    }
}
