package io.tapline.replay.report;

import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.List;

/**
 * What every report format renders: the run, its candidate, the summary and the results, sorted by route and case id.
 *
 * @param complete false when no worker has written the run's summary yet (the report is partial)
 */
public record RunReport(String runId, String candidate, RunSummary summary, List<ReplayResult> results, boolean complete) {

    /** A report format: writes a report to {@code to} as it renders it. */
    @FunctionalInterface
    interface Format {
        void write(RunReport report, Appendable to) throws IOException;
    }

    /** {@code report} in {@code format}, as one string. */
    static String render(RunReport report, Format format) {
        StringBuilder out = new StringBuilder();
        try {
            format.write(report, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder throws none
        }
        return out.toString();
    }

    public RunReport {
        results = results.stream()
                .sorted(Comparator.comparing(ReplayResult::getRoute).thenComparing(ReplayResult::getCaseId))
                .toList();
    }
}
