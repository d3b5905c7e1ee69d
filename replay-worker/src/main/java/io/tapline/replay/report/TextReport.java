package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;

import java.util.Locale;

/** A report for people reading a terminal or a CI log. */
public final class TextReport {

    private TextReport() {
    }

    public static String render(RunReport report) {
        RunSummary s = report.summary();
        StringBuilder out = new StringBuilder();
        out.append("Tapline replay run ").append(report.runId())
                .append(report.complete() ? "" : " (INCOMPLETE: no summary written yet)").append('\n');
        out.append("candidate: ").append(report.candidate()).append('\n');
        out.append(String.format(Locale.ROOT,
                "cases: %d  passed: %d  failed: %d  errors: %d  skipped: %d%n", s.getTotal(), s.getPassed(),
                s.getFailed(), s.getErrored(), s.getSkipped()));
        out.append(String.format(Locale.ROOT, "failed share of production traffic: %.2f%% (%d of %d hits)%n",
                100 * s.getFailedTrafficShare(), s.getFailedTrafficWeight(), s.getTrafficWeight()));
        if (s.getDurationMillis() > 0) {
            out.append(String.format(Locale.ROOT, "duration: %.1f s%n", s.getDurationMillis() / 1000.0));
        }
        for (ReplayResult r : report.notPassed()) {
            out.append('\n').append(r.getVerdict()).append("  ").append(r.getRoute()).append("  case ")
                    .append(r.getCaseId()).append("  (weight ").append(r.getTrafficWeight()).append(")\n");
            if (r.getError() != null) {
                out.append("    error: ").append(r.getError()).append('\n');
            }
            for (Difference d : r.getDifferences()) {
                out.append("    ").append(line(d)).append('\n');
            }
            if (r.getIgnoredDifferences() > 0) {
                out.append("    (").append(r.getIgnoredDifferences()).append(" noisy/ignored differences not counted)\n");
            }
        }
        return out.toString();
    }

    /** One difference on one line: {@code CHANGED $.price: 10 -> 12}. */
    public static String line(Difference d) {
        return d.getKind() + " " + d.getPath() + ": " + (d.getExpected() == null ? "(absent)" : d.getExpected())
                + " -> " + (d.getActual() == null ? "(absent)" : d.getActual());
    }
}
