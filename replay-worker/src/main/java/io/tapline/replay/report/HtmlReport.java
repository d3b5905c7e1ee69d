package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;
import io.tapline.avro.Verdict;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page (inline CSS, no scripts, no external resources, and a Content-Security-Policy that allows
 * none): summary, per-route tables, diffs. A route shows at most {@value #MAX_ROWS_PER_ROUTE} cases, those that did
 * not pass first, and says how many more it has: a run of 200,000 cases would otherwise be a page of ~40 MB, mostly
 * passed cases, that a browser struggles to open. The JUnit report lists every case, the text report every case that did not pass.
 */
public final class HtmlReport {

    /** Rows of cases per route, at most. */
    static final int MAX_ROWS_PER_ROUTE = 100;

    private static final String CSS = """
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
            th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}
            th{background:#f3f3f3}
            .PASS{color:#1a7f37;font-weight:bold}.FAIL{color:#cf222e;font-weight:bold}
            .ERROR{color:#9a6700;font-weight:bold}.SKIPPED{color:#777}
            .exp{background:#ffebe9;font-family:monospace;white-space:pre-wrap}
            .act{background:#dafbe1;font-family:monospace;white-space:pre-wrap}
            .path{font-family:monospace}
            .exp,.act,td td.path{overflow-wrap:anywhere}
            .summary td{font-size:16px}
            .more{font-style:italic}
            """;

    /**
     * What the page may load and run: nothing but its own style sheet, named by its hash. Should captured text ever
     * get past the escaping as markup, a browser still runs no script, applies no other style and fetches nothing.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'sha256-" + sha256(CSS)
            + "'; base-uri 'none'; form-action 'none'";

    private HtmlReport() {
    }

    /** The whole report as one string (tests, small runs). */
    public static String render(RunReport report) {
        return RunReport.render(report, HtmlReport::write);
    }

    /** Writes the page to {@code to} a row at a time: the page is never held whole. */
    public static void write(RunReport report, Appendable to) throws IOException {
        RunSummary s = report.summary();
        StringBuilder out = new StringBuilder();
        out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"").append(CONTENT_SECURITY_POLICY)
                .append("\"><title>Tapline run ")
                .append(Xml.text(TextReport.oneLine(report.runId()))).append("</title><style>").append(CSS).append("</style></head><body>\n");
        out.append("<h1>Tapline replay run ").append(Xml.text(TextReport.oneLine(report.runId()))).append("</h1>\n");
        if (!report.complete()) {
            out.append("<p><strong>Incomplete:</strong> no worker has written the run summary yet.</p>\n");
        }
        out.append("<p>Candidate: <code>").append(Xml.text(report.candidate())).append("</code></p>\n");
        out.append("<table class=\"summary\"><tr><th>cases</th><th>passed</th><th>failed</th><th>errors</th><th>skipped</th>"
                + "<th>failed share of traffic</th><th>failed / total requests (per signature)</th><th>duration</th></tr>\n");
        out.append(String.format(Locale.ROOT,
                "<tr><td>%d</td><td class=\"PASS\">%d</td><td class=\"FAIL\">%d</td><td class=\"ERROR\">%d</td>"
                        + "<td class=\"SKIPPED\">%d</td><td>%s</td><td>%d of %d</td><td>%.1f s</td></tr></table>%n",
                s.getTotal(), s.getPassed(), s.getFailed(), s.getErrored(), s.getSkipped(),
                TextReport.percent(s.getFailedTrafficShare()), s.getFailedTrafficWeight(), s.getTrafficWeight(),
                s.getDurationMillis() / 1000.0));
        to.append(out);
        List<ReplayResult> results = report.results(); // sorted by route: each route's cases are together
        for (int start = 0, end; start < results.size(); start = end) {
            String route = results.get(start).getRoute();
            long notPassed = 0;
            for (end = start; end < results.size() && results.get(end).getRoute().equals(route); end++) {
                if (results.get(end).getVerdict() != Verdict.PASS) {
                    notPassed++;
                }
            }
            out.setLength(0);
            out.append("<h2><code>").append(Xml.text(route)).append("</code> (").append(end - start)
                    .append(" cases, ").append(notPassed).append(" not passed)</h2>\n");
            out.append("<table><tr><th>case</th><th>verdict</th><th>signature hits</th><th>latency recorded / candidate</th>"
                    + "<th>differences</th></tr>\n");
            to.append(out);
            // the cases that did not pass first, then passed ones, each in case id order, up to the cap
            int shown = 0;
            for (boolean passed : new boolean[] {false, true}) {
                for (int i = start; i < end && shown < MAX_ROWS_PER_ROUTE; i++) {
                    ReplayResult r = results.get(i);
                    if ((r.getVerdict() == Verdict.PASS) == passed) {
                        out.setLength(0);
                        row(r, out);
                        to.append(out);
                        shown++;
                    }
                }
            }
            to.append("</table>\n");
            int hidden = end - start - shown;
            if (hidden > 0) {
                long hiddenNotPassed = notPassed - Math.min(notPassed, MAX_ROWS_PER_ROUTE);
                to.append("<p class=\"more\">").append(String.valueOf(hidden)).append(" more case(s) of this route not shown, ")
                        .append(hiddenNotPassed == 0 ? "all passed" : hiddenNotPassed + " of them not passed")
                        .append(": the JUnit report lists every case, the text report every case that did not pass.</p>\n");
            }
        }
        to.append("</body></html>\n");
    }

    private static void row(ReplayResult r, StringBuilder out) {
        out.append("<tr><td class=\"path\">").append(Xml.text(r.getCaseId())).append("</td><td class=\"")
                .append(r.getVerdict()).append("\">").append(r.getVerdict()).append("</td><td>")
                .append(r.getTrafficWeight()).append("</td><td>")
                .append(String.format(Locale.ROOT, "%.1f ms / %.1f ms", r.getRecordedLatencyMicros() / 1000.0,
                        r.getCandidateLatencyMicros() / 1000.0))
                .append("</td><td>").append(differences(r)).append("</td></tr>\n");
    }

    private static String differences(ReplayResult r) {
        StringBuilder out = new StringBuilder();
        if (r.getError() != null) {
            out.append("<div>").append(Xml.text(r.getError())).append("</div>");
        }
        for (String note : r.getNotes()) {
            out.append("<div>note: ").append(Xml.text(note)).append("</div>");
        }
        if (TextReport.differenceCount(r) > r.getDifferences().size()) {
            out.append("<div>").append(TextReport.differencesCounted(r)).append("</div>");
        }
        if (!r.getDifferences().isEmpty()) {
            out.append("<table><tr><th>kind</th><th>path</th><th>expected</th><th>actual</th></tr>");
            for (Difference d : r.getDifferences()) {
                out.append("<tr><td>").append(d.getKind()).append("</td><td class=\"path\">").append(Xml.text(d.getPath()))
                        .append("</td><td class=\"exp\">").append(Xml.text(d.getExpected() == null ? "(absent)" : d.getExpected()))
                        .append("</td><td class=\"act\">").append(Xml.text(d.getActual() == null ? "(absent)" : d.getActual()))
                        .append("</td></tr>");
            }
            out.append("</table>");
        }
        if (r.getIgnoredDifferences() > 0) {
            out.append("<div>").append(r.getIgnoredDifferences()).append(" noisy/ignored differences not counted</div>");
        }
        return out.toString();
    }

    private static String sha256(String s) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }
}
