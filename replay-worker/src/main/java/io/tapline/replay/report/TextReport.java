package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;
import io.tapline.text.ShownText;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * A report for people reading a terminal or a CI log. Everything in it that comes from captured traffic, from the
 * candidate or from CI (the run id, which {@code --run} keeps to {@code A-Z a-z 0-9 . _ -}, though a report may be
 * rendered for any) goes through {@link #oneLine}, so it can neither break a line nor speak to the terminal or the CI
 * runner.
 */
public final class TextReport {

    private TextReport() {
    }

    /** The whole report as one string (tests, small runs). */
    public static String render(RunReport report) {
        return RunReport.render(report, TextReport::write);
    }

    /** Writes the report to {@code to} a case at a time: the report is never held whole. */
    public static void write(RunReport report, Appendable to) throws IOException {
        RunSummary s = report.summary();
        StringBuilder out = new StringBuilder();
        out.append("Tapline replay run ").append(oneLine(report.runId()))
                .append(report.complete() ? "" : " (INCOMPLETE: no summary written yet)").append('\n');
        out.append("candidate: ").append(oneLine(report.candidate())).append('\n');
        out.append(String.format(Locale.ROOT,
                "cases: %d  passed: %d  failed: %d  errors: %d  skipped: %d%n", s.getTotal(), s.getPassed(),
                s.getFailed(), s.getErrored(), s.getSkipped()));
        // weights are per signature (each signature's hits counted once, however many of its samples were replayed)
        out.append(String.format(Locale.ROOT, "failed share of production traffic: %s (%d of %d requests)%n",
                percent(s.getFailedTrafficShare()), s.getFailedTrafficWeight(), s.getTrafficWeight()));
        if (s.getDurationMillis() > 0) {
            out.append(String.format(Locale.ROOT, "duration: %.1f s%n", s.getDurationMillis() / 1000.0));
        }
        to.append(out);
        for (ReplayResult r : report.results()) {
            if (r.getVerdict() == Verdict.PASS) {
                continue;
            }
            out.setLength(0);
            out.append('\n').append(r.getVerdict()).append("  ").append(oneLine(r.getRoute())).append("  case ")
                    .append(oneLine(r.getCaseId())).append("  (signature ").append(oneLine(r.getSignatureId())).append(", ")
                    .append(r.getTrafficWeight()).append(" requests)\n");
            if (r.getError() != null) {
                out.append("    error: ").append(oneLine(r.getError())).append('\n');
            }
            for (String note : r.getNotes()) {
                out.append("    note: ").append(oneLine(note)).append('\n');
            }
            if (differenceCount(r) > r.getDifferences().size()) {
                out.append("    ").append(differencesCounted(r)).append('\n');
            }
            for (Difference d : r.getDifferences()) {
                out.append("    ").append(line(d)).append('\n');
            }
            if (r.getIgnoredDifferences() > 0) {
                out.append("    (").append(r.getIgnoredDifferences()).append(" noisy/ignored differences not counted)\n");
            }
            to.append(out);
        }
    }

    /**
     * A share as a percentage: one decimal ({@code 25.0%}), two significant digits where that would round a non-zero
     * share to 0 ({@code 0.030%}), always as a plain decimal: one failed request in ten million is {@code 0.000010%}
     * (before, {@code %.2g} wrote it {@code 1.0e-05%}).
     */
    public static String percent(double share) {
        double p = 100 * share;
        if (p == 0 || p >= 0.1) {
            return String.format(Locale.ROOT, "%.1f%%", p);
        }
        BigDecimal rounded = BigDecimal.valueOf(p).round(new MathContext(2, RoundingMode.HALF_UP));
        // 0.03 holds one significant digit: written 0.030, as %.2g wrote it
        return rounded.setScale(rounded.scale() + 2 - rounded.precision(), RoundingMode.UNNECESSARY).toPlainString() + "%";
    }

    /**
     * How many differences a case has, listed or not: its result lists at most the first 200. A result written before
     * it carried the count is counted by its list.
     */
    public static int differenceCount(ReplayResult r) {
        Integer count = r.getDifferenceCount();
        return count == null ? r.getDifferences().size() : Math.max(count, r.getDifferences().size());
    }

    /** {@code 2 difference(s)}, or {@code 1200 difference(s) (first 200 listed)} when the result lists only the first. */
    public static String differencesCounted(ReplayResult r) {
        int count = differenceCount(r);
        int listed = r.getDifferences().size();
        return count + " difference(s)" + (count > listed ? " (first " + listed + " listed)" : "");
    }

    /**
     * One difference on one line: {@code CHANGED $.price: 10 -> 12}; its path and values through {@link #oneLine}
     * ({@code CHANGED body: a\nb -> a\nc} for text bodies that differ in their second line).
     */
    public static String line(Difference d) {
        return d.getKind() + " " + oneLine(d.getPath()) + ": " + (d.getExpected() == null ? "(absent)" : oneLine(d.getExpected()))
                + " -> " + (d.getActual() == null ? "(absent)" : oneLine(d.getActual()));
    }

    /**
     * Captured data as one line of plain text, as {@link ShownText#oneLine} shows any text Tapline did not write: a line
     * feed, carriage return and tab as {@code \n}, {@code \r}, {@code \t}; every other character
     * {@link ShownText#shownAsCode} names (the other control characters, the Unicode line and paragraph separators, the
     * bidirectional controls, the characters drawn as nothing such as U+200B, U+00AD, U+FEFF and the tag characters,
     * U+FFFE, U+FFFF, a surrogate that is not half of a pair) as a backslash, {@code u} and four hex digits (ESC becomes
     * backslash {@code u001b}, a character outside the Basic Multilingual Plane its two halves). Production traffic can
     * then neither break a report's line, nor send a terminal an escape sequence, nor start a line that a CI runner
     * reads as a command (GitHub Actions' {@code ::error::}), nor show a value reordered by a right-to-left override or
     * mark, nor two values that differ only in an invisible character as the same. A backslash is kept as it is. Null
     * stays null.
     */
    public static String oneLine(String s) {
        return ShownText.oneLine(s);
    }
}
