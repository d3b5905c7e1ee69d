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
        // weights are per signature (each signature's hits counted once, however many of its samples were replayed)
        out.append(String.format(Locale.ROOT, "failed share of production traffic: %s (%d of %d requests)%n",
                percent(s.getFailedTrafficShare()), s.getFailedTrafficWeight(), s.getTrafficWeight()));
        if (s.getDurationMillis() > 0) {
            out.append(String.format(Locale.ROOT, "duration: %.1f s%n", s.getDurationMillis() / 1000.0));
        }
        for (ReplayResult r : report.notPassed()) {
            out.append('\n').append(r.getVerdict()).append("  ").append(r.getRoute()).append("  case ")
                    .append(r.getCaseId()).append("  (signature ").append(r.getSignatureId()).append(", ").append(r.getTrafficWeight())
                    .append(" requests)\n");
            if (r.getError() != null) {
                out.append("    error: ").append(r.getError()).append('\n');
            }
            for (String note : r.getNotes()) {
                out.append("    note: ").append(note).append('\n');
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

    /** A share as a percentage: one decimal ({@code 25.0%}), more where that would round a non-zero share to 0. */
    public static String percent(double share) {
        double p = 100 * share;
        if (p == 0 || p >= 0.1) {
            return String.format(Locale.ROOT, "%.1f%%", p);
        }
        return String.format(Locale.ROOT, "%.2g%%", p);
    }

    /** One difference on one line: {@code CHANGED $.price: 10 -> 12}. */
    public static String line(Difference d) {
        return d.getKind() + " " + d.getPath() + ": " + (d.getExpected() == null ? "(absent)" : d.getExpected())
                + " -> " + (d.getActual() == null ? "(absent)" : d.getActual());
    }
}
